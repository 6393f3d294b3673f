// The customer record rules of the API contract as zod schemas: the reference definition of what a
// valid record is, and the source of the OpenAPI description. The intake hot path uses the
// hand-written `validateRecord` (validate-record.ts), which a property test holds to exactly the
// verdicts these schemas give.
import { z } from "zod";
import type { CampaignType } from "../model/campaign";
import { type NormalizedRecord, PAYMENT_STATUSES, type VariableValue } from "../model/customer";
import { normalizePhone } from "./phone";
import {
  type FieldError,
  isCalendarDate,
  KNOWN_FIELDS,
  type KnownField,
  LANGUAGES,
  LIMITS,
  MESSAGES,
  REQUIRED_BY_TYPE,
  type RecordVerdict,
} from "./record-rules";

// Blank cells are common in exported spreadsheets: null and whitespace-only strings mean "absent".
const blankToAbsent = (value: unknown) =>
  value === null || (typeof value === "string" && value.trim() === "") ? undefined : value;

const requiredOr = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? MESSAGES.required : message;

function text(max: number, lengthMessage: string, required: boolean) {
  const inner = z
    .string({ error: requiredOr(MESSAGES.string) })
    .trim()
    .max(max, { error: lengthMessage });
  return z.preprocess(blankToAbsent, required ? inner : inner.optional());
}

function amount(required: boolean) {
  const inner = z.number({ error: requiredOr(MESSAGES.amount) }).min(0, { error: MESSAGES.amount });
  return z.preprocess(blankToAbsent, required ? inner : inner.optional());
}

function wholeNumber(required: boolean) {
  const inner = z
    .number({ error: requiredOr(MESSAGES.wholeNumber) })
    .int({ error: MESSAGES.wholeNumber })
    .min(1, { error: MESSAGES.wholeNumber });
  return z.preprocess(blankToAbsent, required ? inner : inner.optional());
}

function date(required: boolean) {
  const inner = z
    .string({ error: requiredOr(MESSAGES.date) })
    .refine(isCalendarDate, { error: MESSAGES.date });
  return z.preprocess(blankToAbsent, required ? inner : inner.optional());
}

function choice<T extends string>(accepted: Readonly<Record<string, T>>, message: string, required: boolean) {
  const inner = z.string({ error: requiredOr(message) }).transform((value, ctx) => {
    const found = accepted[value.trim().toLowerCase()];
    if (found === undefined) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return found;
  });
  return z.preprocess(blankToAbsent, required ? inner : inner.optional());
}

// Without a prototype, so that "constructor" or "__proto__" are not mistaken for accepted values.
const PAYMENT_STATUS_MAP: Readonly<Record<string, (typeof PAYMENT_STATUSES)[number]>> = Object.assign(
  Object.create(null),
  Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, s])),
);

const VariableValueSchema = z.union(
  [
    z.string().max(LIMITS.variableValueMax, { error: MESSAGES.variableLength }),
    z.number(),
    z.boolean(),
    z.null(),
  ],
  { error: MESSAGES.variable },
);

function phone(country: string) {
  return z.preprocess(
    blankToAbsent,
    z
      .union([z.string(), z.number()], { error: requiredOr("must be a string or a whole number") })
      .transform((value, ctx) => {
        const result = normalizePhone(value, country);
        if (!result.ok) {
          ctx.addIssue({ code: "custom", message: result.message });
          return z.NEVER;
        }
        return result.e164;
      }),
  );
}

function buildRecordSchema(type: CampaignType, country: string) {
  const required = new Set<KnownField>(REQUIRED_BY_TYPE[type]);
  const r = (field: KnownField) => required.has(field);
  return z
    .object({
      loan_id: text(LIMITS.keyMax, MESSAGES.key, r("loan_id")),
      lead_id: text(LIMITS.keyMax, MESSAGES.key, r("lead_id")),
      first_name: text(LIMITS.firstNameMax, MESSAGES.firstName, true),
      last_name: text(LIMITS.lastNameMax, MESSAGES.lastName, false),
      phone_number: phone(country),
      loan_amount: amount(r("loan_amount")),
      emi_amount: amount(r("emi_amount")),
      loan_period: wholeNumber(false),
      current_emi: wholeNumber(false),
      emi_due_date: date(r("emi_due_date")),
      payment_status: choice(PAYMENT_STATUS_MAP, MESSAGES.paymentStatus, false),
      language: choice(LANGUAGES, MESSAGES.language, false),
      lead_date: date(false),
    })
    .catchall(VariableValueSchema)
    .superRefine((record, ctx) => {
      const { loan_period, current_emi } = record as { loan_period?: unknown; current_emi?: unknown };
      // Compared only when both are valid on their own; otherwise their own messages say enough.
      if (isWholeNumber(loan_period) && isWholeNumber(current_emi) && current_emi > loan_period) {
        ctx.addIssue({ code: "custom", path: ["current_emi"], message: MESSAGES.currentEmi });
      }
      let extra = 0;
      for (const key of Object.keys(record)) if (!KNOWN_SET.has(key)) extra++;
      if (extra > LIMITS.variablesMaxKeys) {
        ctx.addIssue({ code: "custom", path: ["variables"], message: MESSAGES.variablesCount });
      }
    })
    .transform((record): NormalizedRecord => {
      const out: Record<string, unknown> = {};
      let variables: Record<string, VariableValue> | undefined;
      for (const [key, value] of Object.entries(record)) {
        if (KNOWN_SET.has(key)) {
          if (value !== undefined) out[key] = value;
        } else {
          variables ??= {};
          variables[key] = value as VariableValue;
        }
      }
      if (variables) out.variables = variables;
      return out as unknown as NormalizedRecord;
    });
}

const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_FIELDS);

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

export type RecordSchema = ReturnType<typeof buildRecordSchema>;

const cache = new Map<string, RecordSchema>();

/** The zod schema of one record for a campaign of `type` whose phone numbers default to `country`. */
export function recordSchemaFor(type: CampaignType, country: string): RecordSchema {
  const id = `${type}:${country}`;
  let schema = cache.get(id);
  if (!schema) {
    schema = buildRecordSchema(type, country);
    cache.set(id, schema);
  }
  return schema;
}

/** The zod schema's verdict on one record, in the shape the intake reports. */
export function verdictFromSchema(schema: RecordSchema, input: unknown): RecordVerdict {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, record: result.data };
  const fields: FieldError[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : "record";
    if (seen.has(field)) continue;
    seen.add(field);
    fields.push({ field, message: field === "record" ? MESSAGES.record : issue.message });
  }
  return { ok: false, fields };
}
