// The record fields the API documents, taken from the API's own record rules. This is the clients'
// only import of server code: record-rules.ts is pure TypeScript (no runtime, no I/O), so it bundles
// for Node and for a browser alike, and a field added to the API reaches the importer with no second
// list to keep in step.
import {
  CAMPAIGN_TYPES,
  type CampaignType,
  dedupeFieldOf,
  KNOWN_FIELDS,
  type KnownField,
  REQUIRED_BY_TYPE,
} from "../../src/domain/intake/record-rules";

export { CAMPAIGN_TYPES, type CampaignType, dedupeFieldOf, KNOWN_FIELDS, type KnownField, REQUIRED_BY_TYPE };

/** Records per request: the API refuses more (api-contract, `too_many_records`). */
export const MAX_RECORDS_PER_REQUEST = 10_000;

/**
 * Fields the API wants as JSON numbers. A spreadsheet cell is text, so a cell holding a plain
 * decimal ("12500", "12500.50") is sent as a number; anything else is sent as written and the API
 * explains what is wrong with it.
 */
export const NUMERIC_FIELDS: ReadonlySet<KnownField> = new Set<KnownField>([
  "loan_amount",
  "emi_amount",
  "loan_period",
  "current_emi",
]);

const KNOWN: ReadonlySet<string> = new Set(KNOWN_FIELDS);

export function isKnownField(name: string): name is KnownField {
  return KNOWN.has(name);
}

export function isCampaignType(value: unknown): value is CampaignType {
  return typeof value === "string" && (CAMPAIGN_TYPES as readonly string[]).includes(value);
}
