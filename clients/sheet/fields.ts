// The record fields the API documents, taken from the API's own record rules, and the call statuses
// of its model. These are the clients' only imports of server code: record-rules.ts and the model are
// pure TypeScript (no runtime, no I/O), so they bundle for Node and for a browser alike, and a field
// added to the API reaches the importer with no second list to keep in step.
import { CALL_STATUSES } from "../../src/domain/model/call";
import { CAMPAIGN_TYPES, type CampaignType } from "../../src/domain/model/campaign";
import {
  dedupeFieldOf,
  KNOWN_FIELDS,
  type KnownField,
  requiredFields,
} from "../../src/domain/records/record-rules";

export { CALL_STATUSES, type CampaignType, dedupeFieldOf, KNOWN_FIELDS, type KnownField };

/** The fields a record for a campaign of each type must carry, from the API's record rules. */
export const REQUIRED_BY_TYPE: Readonly<Record<CampaignType, readonly KnownField[]>> = {
  emi: requiredFields("emi"),
  edi: requiredFields("edi"),
  lead: requiredFields("lead"),
};

/** Records per request: the API refuses more (api-contract, `too_many_records`). */
export const MAX_RECORDS_PER_REQUEST = 10_000;

const KNOWN: ReadonlySet<string> = new Set(KNOWN_FIELDS);

export function isKnownField(name: string): name is KnownField {
  return KNOWN.has(name);
}

export function isCampaignType(value: unknown): value is CampaignType {
  return typeof value === "string" && (CAMPAIGN_TYPES as readonly string[]).includes(value);
}
