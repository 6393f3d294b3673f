// The record rules of the API contract, as data shared by the zod schemas (the contract and the
// OpenAPI source) and the fast validator used on the hot path, so both speak the same words.

import type { CampaignType } from "../model/campaign";
import { type NormalizedRecord, PAYMENT_STATUSES } from "../model/customer";

// Accepted spellings (lower-cased) mapped to the stored language name.
export const LANGUAGES: Readonly<Record<string, string>> = (() => {
  const names: Record<string, string> = {
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
  const map: Record<string, string> = Object.create(null);
  for (const [name, code] of Object.entries(names)) {
    map[name] = name;
    map[code] = name;
  }
  return map;
})();

export const KNOWN_FIELDS = [
  "loan_id",
  "lead_id",
  "first_name",
  "last_name",
  "phone_number",
  "loan_amount",
  "emi_amount",
  "loan_period",
  "current_emi",
  "emi_due_date",
  "payment_status",
  "language",
  "lead_date",
] as const;
export type KnownField = (typeof KNOWN_FIELDS)[number];

export const LIMITS = {
  keyMax: 128,
  firstNameMax: 100,
  lastNameMax: 100,
  variablesMaxKeys: 50,
  variableValueMax: 1000,
} as const;

/** Which of the optional-by-default fields a campaign type requires. */
export const REQUIRED_BY_TYPE: Readonly<Record<CampaignType, readonly KnownField[]>> = {
  emi: ["loan_id", "first_name", "phone_number", "emi_amount", "emi_due_date"],
  edi: ["loan_id", "first_name", "phone_number", "emi_amount", "emi_due_date"],
  lead: ["lead_id", "first_name", "phone_number"],
};

/** The field whose value must be unique per campaign. */
export function dedupeFieldOf(type: CampaignType): "loan_id" | "lead_id" {
  return type === "lead" ? "lead_id" : "loan_id";
}

export const MESSAGES = {
  record: "must be a JSON object",
  required: "is required",
  string: "must be a string",
  key: `must be 1 to ${LIMITS.keyMax} characters`,
  firstName: `must be 1 to ${LIMITS.firstNameMax} characters`,
  lastName: `must be at most ${LIMITS.lastNameMax} characters`,
  amount: "must be a number greater than or equal to 0",
  wholeNumber: "must be a whole number greater than or equal to 1",
  currentEmi: "must not be greater than loan_period",
  date: "must be a calendar date in the form YYYY-MM-DD",
  paymentStatus: `must be one of ${PAYMENT_STATUSES.join(", ")}`,
  language:
    "must be one of hindi, english, bengali, telugu, marathi, tamil, gujarati, kannada, malayalam, punjabi, odia, assamese (or their ISO 639-1 codes)",
  variable: "must be a string, number, boolean or null",
  variableLength: `must be at most ${LIMITS.variableValueMax} characters`,
  variablesCount: `a record may carry at most ${LIMITS.variablesMaxKeys} extra keys`,
} as const;

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
