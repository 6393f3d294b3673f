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
  /** Characters per extra key's name: a spreadsheet header, not a payload. */
  variableNameMax: 100,
  /**
   * UTF-8 bytes of one record's variables as stored (JSON). 50 keys of 100 + 1,000 characters in any
   * script fit (about 225 KB at 4 bytes a character); values of control characters, which JSON
   * escapes as 6 bytes each, can pass it. Keeps a record far below D1's 2 MB per value.
   */
  variablesMaxBytes: 262_144,
  /** Years a due date or lead date may fall in: a year outside is a typo (0026 for 2026). */
  firstYear: 1900,
  lastYear: 2100,
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

/** Other English names lenders' systems use for the same languages. */
const LANGUAGE_OTHER_NAMES: Readonly<Record<string, string>> = {
  bangla: "bengali",
  oriya: "odia",
  panjabi: "punjabi",
};

/** Accepted spellings (lower-cased): names, other names and ISO 639-1 codes -> the stored name. */
export const LANGUAGES = acceptedSpellings([
  ...Object.entries(LANGUAGE_CODES).flatMap(([name, code]) => [[name, name] as const, [code, name] as const]),
  ...Object.entries(LANGUAGE_OTHER_NAMES),
]);

/** ISO 639-1 code -> stored name: the primary subtag of a BCP 47 tag such as hi-IN or bn_BD. */
const LANGUAGE_TAGS = acceptedSpellings(Object.entries(LANGUAGE_CODES).map(([name, code]) => [code, name]));

/** A BCP 47 tag (or a locale written with "_"): a primary language subtag and further subtags. */
export const BCP47_TAG = /^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})+$/;

const PAYMENT_STATUS_SPELLINGS = acceptedSpellings(PAYMENT_STATUSES.map((s) => [s, s]));

export const MESSAGES = {
  record: "must be a JSON object",
  required: "is required",
  string: "must be a string",
  amount: "must be a number greater than or equal to 0",
  wholeNumber: "must be a whole number greater than or equal to 1",
  currentEmi: "must not be greater than loan_period",
  date: `must be a calendar date in the form YYYY-MM-DD, in the years ${LIMITS.firstYear} to ${LIMITS.lastYear}`,
  variable: "must be a string, number, boolean or null",
  variableLength: `must be at most ${LIMITS.variableValueMax} characters`,
  variablesCount: `a record may carry at most ${LIMITS.variablesMaxKeys} extra keys`,
  variablesSize: `the extra keys may hold at most ${LIMITS.variablesMaxBytes.toLocaleString("en-US")} bytes of data`,
  variableName: `a key name may be at most ${LIMITS.variableNameMax} characters`,
  reservedKey: "is a reserved name and cannot be a key",
  visible: "must contain visible characters",
} as const;

/** A value quoted in a message: JSON-escaped and clipped, so a message stays short whatever was sent. */
function quote(value: string, max = 40): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}

/** Two spellings of one documented field carry different values. */
export function conflictMessage(first: string, second: string): string {
  return `is given twice, as ${quote(first)} and ${quote(second)}, with different values`;
}

/** A plain decimal number as text ("12500", "12500.50"), after trimming. */
export const PLAIN_DECIMAL = /^\d+(?:\.\d+)?$/;

/** Significant digits a stored number (an IEEE double) keeps exactly. */
export const EXACT_DIGITS = 15;

/** True when the plain decimal's digits fit a stored number exactly, so it is never rounded. */
export function isExactDecimal(plain: string): boolean {
  return plain.replace(".", "").replace(/^0+/, "").length <= EXACT_DIGITS;
}
/** A plain whole number as text ("24"), after trimming. */
export const PLAIN_DIGITS = /^\d+$/;

const CURRENCY = /\p{Sc}|\b(?:rs|inr|usd|idr)\b/iu;
const GROUPING = /\d[,'_\s\u00a0\u202f]\d|\.\d*\./u;

/**
 * Why text is not read as a number, quoting it: grouping separators and currency signs are written
 * differently by different systems and locales (1,25,000 / 125,000 / 1.25.000), so bulkcall never
 * guesses which number was meant.
 */
export function notAPlainNumber(received: string, rule: string): string {
  const quoted = quote(received);
  if (CURRENCY.test(received)) return `${rule}; ${quoted} carries a currency sign: send the number alone`;
  if (GROUPING.test(received)) {
    return `${rule}; ${quoted} has digit grouping, which systems write differently (1,25,000 or 125,000 or 1.25.000): send the digits without separators`;
  }
  if (PLAIN_DECIMAL.test(received)) {
    // A plain decimal is refused either for its length or, where a whole number is required, for
    // its fraction ("24.0" as a loan_period).
    if (received.replace(".", "").replace(/^0+(?=\d)/, "").length > EXACT_DIGITS) {
      return `${rule}; ${quoted} has more than ${EXACT_DIGITS} digits, more than can be stored exactly`;
    }
    return `${rule}; ${quoted} has a fraction: send whole numbers without one`;
  }
  return `${rule}; ${quoted} is not a plain number`;
}

/** A key that differs from a documented field only by letter case, BOMs or surrounding spaces. */
export function canonicalFieldName(key: string): string {
  return key
    .replace(/^\uFEFF+/, "")
    .trim()
    .toLowerCase();
}

/**
 * How a field's value is judged:
 * - key: a string compared and stored after Unicode NFC and after removing whitespace and invisible
 *   formatting characters at both ends (see keys.ts); at most `max` code points;
 * - text: a string, trimmed, at most `max` code points, otherwise kept exactly as sent;
 * - phone: a string or a whole number, normalized to E.164 with the campaign's default country;
 * - amount: a number >= 0, or a plain decimal as text; count: a whole number >= 1, or plain digits;
 * - date: a calendar date YYYY-MM-DD after trimming, in the years LIMITS.firstYear..lastYear;
 * - choice: one of `accepted` (case-insensitive, trimmed), or a BCP 47 tag whose primary subtag is
 *   in `tags`, stored as the mapped value.
 */
export type FieldSpec = {
  name: string;
  /** Campaign types whose records must carry the field. */
  requiredFor: readonly CampaignType[];
  /** For the published schema. */
  description: string;
  example?: string | number;
} & (
  | { kind: "key" | "text"; max: number; lengthMessage: string }
  | { kind: "phone" }
  | { kind: "amount" }
  | { kind: "count" }
  | { kind: "date" }
  | {
      kind: "choice";
      accepted: Readonly<Record<string, string>>;
      /** Primary language subtag -> stored value, for BCP 47 tags. */
      tags?: Readonly<Record<string, string>>;
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
    kind: "key",
    max: LIMITS.keyMax,
    lengthMessage: keyLength,
    requiredFor: LOANS,
    description:
      "The loan's id in the lender's system, unique per campaign; 1 to 128 characters, compared and stored after Unicode NFC, without whitespace or invisible characters at either end.",
    example: "LN-1001",
  },
  {
    name: "lead_id",
    kind: "key",
    max: LIMITS.keyMax,
    lengthMessage: keyLength,
    requiredFor: ["lead"],
    description: "The lead's id, unique per campaign; 1 to 128 characters, normalized like loan_id.",
  },
  {
    name: "first_name",
    kind: "text",
    max: LIMITS.firstNameMax,
    lengthMessage: `must be 1 to ${LIMITS.firstNameMax} characters`,
    requiredFor: EVERY_TYPE,
    description: "Trimmed; otherwise stored exactly as sent (joiners in Indic names are part of the name).",
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
    description: 'The loan\'s principal; a plain decimal as text ("250000") is read as the number.',
    example: 250000,
  },
  {
    name: "emi_amount",
    kind: "amount",
    requiredFor: LOANS,
    description: "The instalment due; a plain decimal as text is read as the number.",
    example: 12500,
  },
  {
    name: "loan_period",
    kind: "count",
    requiredFor: [],
    description: "Number of instalments; plain digits as text are read as the number.",
    example: 24,
  },
  {
    name: "current_emi",
    kind: "count",
    requiredFor: [],
    description: "The instalment now due; at most loan_period; plain digits as text are read as the number.",
    example: 5,
  },
  {
    name: "emi_due_date",
    kind: "date",
    requiredFor: LOANS,
    description: "The instalment's due date, YYYY-MM-DD (years 1900 to 2100).",
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
    tags: LANGUAGE_TAGS,
    values: Object.keys(LANGUAGE_CODES),
    message: `must be one of ${Object.keys(LANGUAGE_CODES).join(", ")} (or their ISO 639-1 codes, or a tag such as hi-IN)`,
    requiredFor: [],
    description:
      "The language the agent speaks; case-insensitive; ISO 639-1 codes, BCP 47 tags such as hi-IN and the names Bangla, Oriya and Panjabi accepted; stored as the name.",
    example: "hindi",
  },
  {
    name: "lead_date",
    kind: "date",
    requiredFor: [],
    description: "When the lead came in, YYYY-MM-DD (years 1900 to 2100).",
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
