// The customer record rules as zod schemas, built from the same table (record-rules.ts) as the
// hot-path validator: the readable reference definition of what a valid record is. The property
// test in validate-record.test.ts holds the hand-written `validateRecord` to exactly the verdicts
// these schemas give.
import { z } from "zod";
import type { CampaignType } from "../model/campaign";
import type { NormalizedRecord, VariableValue } from "../model/customer";
import { normalizePhone } from "./phone";
import {
  FIELDS,
  type FieldError,
  type FieldSpec,
  isCalendarDate,
  isRequired,
  KNOWN_FIELDS,
  LIMITS,
  MESSAGES,
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

/** The zod schema of one field, by its kind. */
function fieldSchema(spec: FieldSpec, required: boolean, country: string) {
  switch (spec.kind) {
    case "text":
      return text(spec.max, spec.lengthMessage, required);
    case "phone":
      return phone(country);
    case "amount":
      return amount(required);
    case "count":
      return wholeNumber(required);
    case "date":
      return date(required);
    case "choice":
      return choice(spec.accepted, spec.message, required);
  }
}

function buildRecordSchema(type: CampaignType, country: string) {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of FIELDS) shape[spec.name] = fieldSchema(spec, isRequired(spec, type), country);
  return z
    .object(shape)
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
