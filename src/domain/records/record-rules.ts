// The record rules of the API contract as ONE declarative table: every documented field with its
// kind, limits, accepted values, message and description, and the campaign types that require it.
// Three things are built from it and from nothing else:
// - the hot-path validator (validate-record.ts), which compiles its checks when the module loads;
// - the zod reference schema (record-schema.ts), the readable oracle the property tests hold the
//   validator to;
// - the published JSON schema of a record (record-json-schema.ts), served in /openapi.json.
// A rule changes here, and the three follow.
import { CAMPAIGN_TYPES, type CampaignType } from "../model/campaign";
import { type NormalizedRecord, PAYMENT_STATUSES } from "../model/customer";

export const LIMITS = {
  /** loan_id / lead_id: room for any lender's account-number scheme, bounded for the unique index. */
  keyMax: 128,
  /** Names as a voice agent reads them; longer text is a data error. */
  firstNameMax: 100,
  lastNameMax: 100,
  /** Extra keys kept as agent variables per record: enough for any prompt, bounded per row. */
  variablesMaxKeys: 50,
  /** Characters per variable value: a sentence or two for the agent, not a document. */
  variableValueMax: 1000,
} as const;

/** The languages a voice agent speaks, by stored name, with their ISO 639-1 codes. */
const LANGUAGE_CODES: Readonly<Record<string, string>> = {
  hindi: "hi",
  english: "en",
  bengali: "bn",
  telugu: "te",
  marathi: "mr",
  tamil: "ta",
  gujarati: "gu",
  kannada: "kn",
  malayalam: "ml",
  punjabi: "pa",
  odia: "or",
  assamese: "as",
};

/** Accepted spellings (lower-cased) -> stored value, without a prototype ("constructor" is no language). */
function acceptedSpellings(entries: Iterable<readonly [string, string]>): Readonly<Record<string, string>> {
  const map: Record<string, string> = Object.create(null);
  for (const [spelling, stored] of entries) map[spelling] = stored;
  return map;
}

export const LANGUAGES = acceptedSpellings(
  Object.entries(LANGUAGE_CODES).flatMap(([name, code]) => [
    [name, name],
    [code, name],
  ]),
);

const PAYMENT_STATUS_SPELLINGS = acceptedSpellings(PAYMENT_STATUSES.map((s) => [s, s]));

export const MESSAGES = {
  record: "must be a JSON object",
  required: "is required",
  string: "must be a string",
  amount: "must be a number greater than or equal to 0",
  wholeNumber: "must be a whole number greater than or equal to 1",
  currentEmi: "must not be greater than loan_period",
  date: "must be a calendar date in the form YYYY-MM-DD",
  variable: "must be a string, number, boolean or null",
  variableLength: `must be at most ${LIMITS.variableValueMax} characters`,
  variablesCount: `a record may carry at most ${LIMITS.variablesMaxKeys} extra keys`,
} as const;

/**
 * How a field's value is judged:
 * - text: a string, trimmed, at most `max` code points (a key is text that must not be blank);
 * - phone: a string or a whole number, normalized to E.164 with the campaign's default country;
 * - amount: a number >= 0; count: a whole number >= 1;
 * - date: a calendar date YYYY-MM-DD;
 * - choice: one of `accepted` (case-insensitive, trimmed), stored as the mapped value.
 */
export type FieldSpec = {
  name: string;
  /** Campaign types whose records must carry the field. */
  requiredFor: readonly CampaignType[];
  /** For the published schema. */
  description: string;
  example?: string | number;
} & (
  | { kind: "text"; max: number; lengthMessage: string }
  | { kind: "phone" }
  | { kind: "amount" }
  | { kind: "count" }
  | { kind: "date" }
  | {
      kind: "choice";
      accepted: Readonly<Record<string, string>>;
      /** The stored values, in the order the message lists them. */
      values: readonly string[];
      message: string;
    }
);

const LOANS: readonly CampaignType[] = ["emi", "edi"];
const EVERY_TYPE: readonly CampaignType[] = CAMPAIGN_TYPES;

const keyLength = `must be 1 to ${LIMITS.keyMax} characters`;

/** The documented fields, in the order they are judged and reported. */
export const FIELDS = [
  {
    name: "loan_id",
    kind: "text",
    max: LIMITS.keyMax,
    lengthMessage: keyLength,
    requiredFor: LOANS,
    description: "The loan's id in the lender's system: required for emi/edi campaigns, unique per campaign.",
    example: "LN-1001",
  },
  {
    name: "lead_id",
    kind: "text",
    max: LIMITS.keyMax,
    lengthMessage: keyLength,
    requiredFor: ["lead"],
    description: "The lead's id: required for lead campaigns, unique per campaign.",
  },
  {
    name: "first_name",
    kind: "text",
    max: LIMITS.firstNameMax,
    lengthMessage: `must be 1 to ${LIMITS.firstNameMax} characters`,
    requiredFor: EVERY_TYPE,
    description: "Trimmed; otherwise stored exactly as sent.",
    example: "Asha",
  },
  {
    name: "last_name",
    kind: "text",
    max: LIMITS.lastNameMax,
    lengthMessage: `must be at most ${LIMITS.lastNameMax} characters`,
    requiredFor: [],
    description: "Trimmed; otherwise stored exactly as sent.",
    example: "Rao",
  },
  {
    name: "phone_number",
    kind: "phone",
    requiredFor: EVERY_TYPE,
    description:
      "Normalized to E.164 with the campaign's defaultCountry: 9876543210, 09876543210, +91 98765-43210 and 919876543210 are all +919876543210.",
    example: "+91 98765 43210",
  },
  {
    name: "loan_amount",
    kind: "amount",
    requiredFor: [],
    description: "The loan's principal.",
    example: 250000,
  },
  {
    name: "emi_amount",
    kind: "amount",
    requiredFor: LOANS,
    description: "The instalment due: required for emi/edi campaigns.",
    example: 12500,
  },
  {
    name: "loan_period",
    kind: "count",
    requiredFor: [],
    description: "Number of instalments.",
    example: 24,
  },
  {
    name: "current_emi",
    kind: "count",
    requiredFor: [],
    description: "The instalment now due; at most loan_period.",
    example: 5,
  },
  {
    name: "emi_due_date",
    kind: "date",
    requiredFor: LOANS,
    description: "The instalment's due date: required for emi/edi campaigns.",
    example: "2026-12-05",
  },
  {
    name: "payment_status",
    kind: "choice",
    accepted: PAYMENT_STATUS_SPELLINGS,
    values: PAYMENT_STATUSES,
    message: `must be one of ${PAYMENT_STATUSES.join(", ")}`,
    requiredFor: [],
    description: "Case-insensitive. paid and received stop every call and workflow for the customer.",
    example: "pending",
  },
  {
    name: "language",
    kind: "choice",
    accepted: LANGUAGES,
    values: Object.keys(LANGUAGE_CODES),
    message: `must be one of ${Object.keys(LANGUAGE_CODES).join(", ")} (or their ISO 639-1 codes)`,
    requiredFor: [],
    description:
      "The language the agent speaks; case-insensitive, ISO 639-1 codes accepted; stored as the name.",
    example: "hindi",
  },
  {
    name: "lead_date",
    kind: "date",
    requiredFor: [],
    description: "When the lead came in.",
    example: "2026-11-20",
  },
] as const satisfies readonly FieldSpec[];

export type KnownField = (typeof FIELDS)[number]["name"];
export const KNOWN_FIELDS: readonly KnownField[] = FIELDS.map((f) => f.name);

/** True when a record for a campaign of `type` must carry the field. */
export function isRequired(spec: FieldSpec, type: CampaignType): boolean {
  return spec.requiredFor.includes(type);
}

/** The fields a record for a campaign of `type` must carry. */
export function requiredFields(type: CampaignType): KnownField[] {
  return FIELDS.filter((f) => isRequired(f, type)).map((f) => f.name);
}

/** The field whose value must be unique per campaign. */
export function dedupeFieldOf(type: CampaignType): "loan_id" | "lead_id" {
  return type === "lead" ? "lead_id" : "loan_id";
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD (no 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  return day <= days;
}

export interface FieldError {
  field: string;
  message: string;
}

export type RecordVerdict = { ok: true; record: NormalizedRecord } | { ok: false; fields: FieldError[] };
