// The customer record rules as zod schemas, built from the same table (record-rules.ts) as the
// hot-path validator: the readable reference definition of what a valid record is. The property
// test in validate-record.test.ts holds the hand-written `validateRecord` to exactly the verdicts
// these schemas give. It is written for clarity, not speed: the record's keys are first resolved
// into documented fields (however they are spelled) and extra keys, then parsed.
import { z } from "zod";
import type { CampaignType } from "../model/campaign";
import type { NormalizedRecord, VariableValue } from "../model/customer";
import { hasVisibleCharacter, normalizeKey } from "./keys";
import { normalizePhone } from "./phone";
import {
  BCP47_TAG,
  canonicalFieldName,
  conflictMessage,
  FIELDS,
  type FieldError,
  type FieldSpec,
  isCalendarDate,
  isExactDecimal,
  isRequired,
  KNOWN_FIELDS,
  LIMITS,
  MESSAGES,
  notAPlainNumber,
  PLAIN_DECIMAL,
  PLAIN_DIGITS,
  type RecordVerdict,
} from "./record-rules";

/** A value the record cannot have, found while resolving its keys; the field's schema reports it. */
class Refused {
  constructor(readonly message: string) {}
}

const isBlank = (value: unknown) =>
  value === undefined || value === null || (typeof value === "string" && value.trim() === "");

// Blank cells are common in exported spreadsheets: null and whitespace-only strings mean "absent".
const blankToAbsent = (value: unknown) =>
  value === null || (typeof value === "string" && value.trim() === "") ? undefined : value;

/**
 * Reports a Refused value as the field's (only) problem, and stops there. Documented fields read a
 * blank value as absent; a variable keeps what was sent (null included).
 */
function refusing<T extends z.ZodType>(schema: T, blankIsAbsent = true) {
  return z.preprocess((value, ctx) => {
    if (!(value instanceof Refused)) return blankIsAbsent ? blankToAbsent(value) : value;
    ctx.addIssue({ code: "custom", message: value.message });
    return z.NEVER;
  }, schema);
}

const requiredOr = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? MESSAGES.required : message;

const optionalUnless = <T extends z.ZodType>(schema: T, required: boolean) =>
  refusing(required ? schema : schema.optional());

function text(max: number, lengthMessage: string, required: boolean) {
  const inner = z
    .string({ error: requiredOr(MESSAGES.string) })
    .trim()
    .refine(hasVisibleCharacter, { error: MESSAGES.visible, abort: true })
    .max(max, { error: lengthMessage });
  return optionalUnless(inner, required);
}

function key(max: number, lengthMessage: string, required: boolean) {
  const inner = z
    .string({ error: requiredOr(MESSAGES.string) })
    .transform((value, ctx) => {
      const result = normalizeKey(value);
      if (result.ok) return result.key;
      ctx.addIssue({ code: "custom", message: result.message });
      return z.NEVER;
    })
    .pipe(z.string().max(max, { error: lengthMessage }));
  return optionalUnless(inner, required);
}

/**
 * Plain numbers written as text are read as numbers (decimals only when no digit would be lost);
 * any other text is left to fail, quoted.
 */
const numberFromText = (plain: RegExp, exact: (text: string) => boolean) => (value: unknown) =>
  typeof value === "string" && plain.test(value.trim()) && exact(value.trim()) ? Number(value.trim()) : value;

const numberError = (rule: string) => (issue: { input?: unknown }) => {
  if (issue.input === undefined) return MESSAGES.required;
  return typeof issue.input === "string" ? notAPlainNumber(issue.input.trim(), rule) : rule;
};

function amount(required: boolean) {
  const inner = z.preprocess(
    numberFromText(PLAIN_DECIMAL, isExactDecimal),
    z.number({ error: numberError(MESSAGES.amount) }).min(0, { error: MESSAGES.amount }),
  );
  return optionalUnless(inner, required);
}

function wholeNumber(required: boolean) {
  const inner = z.preprocess(
    numberFromText(PLAIN_DIGITS, () => true),
    z
      .number({ error: numberError(MESSAGES.wholeNumber) })
      .int({ error: MESSAGES.wholeNumber })
      .min(1, { error: MESSAGES.wholeNumber }),
  );
  return optionalUnless(inner, required);
}

const inYears = (date: string) => {
  const year = Number(date.slice(0, 4));
  return year >= LIMITS.firstYear && year <= LIMITS.lastYear;
};

function date(required: boolean) {
  const inner = z
    .string({ error: requiredOr(MESSAGES.date) })
    .trim()
    .refine((d) => isCalendarDate(d) && inYears(d), { error: MESSAGES.date });
  return optionalUnless(inner, required);
}

function choice(
  accepted: Readonly<Record<string, string>>,
  tags: Readonly<Record<string, string>> | undefined,
  message: string,
  required: boolean,
) {
  const inner = z.string({ error: requiredOr(message) }).transform((value, ctx) => {
    const spelling = value.trim().toLowerCase();
    const primary = BCP47_TAG.exec(spelling)?.[1];
    const found = Object.hasOwn(accepted, spelling)
      ? accepted[spelling]
      : tags && primary !== undefined && Object.hasOwn(tags, primary)
        ? tags[primary]
        : undefined;
    if (found === undefined) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return found;
  });
  return optionalUnless(inner, required);
}

function phone(country: string) {
  return refusing(
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

const VariableValueSchema = refusing(
  z.union(
    [
      z.string().max(LIMITS.variableValueMax, { error: MESSAGES.variableLength }),
      z.number(),
      z.boolean(),
      z.null(),
    ],
    { error: MESSAGES.variable },
  ),
  false,
);

/** The zod schema of one field, by its kind. */
function fieldSchema(spec: FieldSpec, required: boolean, country: string) {
  switch (spec.kind) {
    case "key":
      return key(spec.max, spec.lengthMessage, required);
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
      return choice(spec.accepted, spec.tags, spec.message, required);
  }
}

const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_FIELDS);

/** Sets an own property, even one called "__proto__". */
function put(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The record as the schema parses it: each documented field under its own name, whichever of its
 * spellings carried it (a key differing only by letter case, BOMs or surrounding spaces), or a
 * Refused when two spellings disagree; the extra keys as they are, or Refused when the key itself
 * cannot be a variable's name.
 */
function resolveKeys(record: object): Record<string, unknown> {
  const documented = new Map<string, { key: string; value: unknown }[]>();
  const extras: [string, unknown][] = [];
  for (const [key, value] of Object.entries(record)) {
    const field = KNOWN_SET.has(key) ? key : canonicalFieldName(key);
    if (!KNOWN_SET.has(field)) {
      extras.push([key, value]);
      continue;
    }
    const spellings = documented.get(field) ?? [];
    // The field's own spelling is read first, wherever it stands in the record.
    if (key === field) spellings.unshift({ key, value });
    else spellings.push({ key, value });
    documented.set(field, spellings);
  }
  const out: Record<string, unknown> = {};
  for (const [field, spellings] of documented) {
    const present = spellings.filter((s) => !isBlank(s.value));
    const first = present[0];
    const differing = present.find((s) => !Object.is(s.value, first?.value));
    if (first && differing) put(out, field, new Refused(conflictMessage(first.key, differing.key)));
    else put(out, field, first ? first.value : (spellings.find((s) => s.key === field)?.value ?? undefined));
  }
  for (const [key, value] of extras) {
    if (key === "__proto__") put(out, PROTO_PLACEHOLDER, new Refused(MESSAGES.reservedKey));
    else if ([...key].length > LIMITS.variableNameMax) put(out, key, new Refused(MESSAGES.variableName));
    else put(out, key, value);
  }
  return out;
}

/**
 * zod's object parsing skips an own "__proto__" key altogether (a guard against prototype
 * pollution), so the schema sees it under this name and the verdict reports it under its own.
 */
const PROTO_PLACEHOLDER = "\u0000__proto__";

const encoder = new TextEncoder();

function buildRecordSchema(type: CampaignType, country: string) {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of FIELDS as readonly FieldSpec[]) {
    shape[spec.name] = fieldSchema(spec, isRequired(spec, type), country);
  }
  return z.preprocess(
    (input) =>
      typeof input === "object" && input !== null && !Array.isArray(input) ? resolveKeys(input) : input,
    z
      .object(shape)
      .catchall(VariableValueSchema)
      .superRefine((record, ctx) => {
        const { loan_period, current_emi } = record as { loan_period?: unknown; current_emi?: unknown };
        // Compared only when both are valid on their own; otherwise their own messages say enough.
        if (isWholeNumber(loan_period) && isWholeNumber(current_emi) && current_emi > loan_period) {
          ctx.addIssue({ code: "custom", path: ["current_emi"], message: MESSAGES.currentEmi });
        }
        const extras = Object.entries(record).filter(([k]) => !KNOWN_SET.has(k));
        if (extras.length > LIMITS.variablesMaxKeys) {
          ctx.addIssue({ code: "custom", path: ["variables"], message: MESSAGES.variablesCount });
        } else if (
          extras.length > 0 &&
          encoder.encode(JSON.stringify(Object.fromEntries(extras))).length > LIMITS.variablesMaxBytes
        ) {
          ctx.addIssue({ code: "custom", path: ["variables"], message: MESSAGES.variablesSize });
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
      }),
  );
}

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
    const path = issue.path.length > 0 ? String(issue.path[0]) : "record";
    const field = path === PROTO_PLACEHOLDER ? "__proto__" : path;
    if (seen.has(field)) continue;
    seen.add(field);
    fields.push({ field, message: field === "record" ? MESSAGES.record : issue.message });
  }
  return { ok: false, fields };
}
