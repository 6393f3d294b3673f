// The intake hot path's record validator, compiled from the record rules (record-rules.ts) when the
// module loads. zod runs without its JIT in workerd, and judging 10,000 records through a schema
// cost more than storing them, so each field's check is a small closure picked by its kind. The zod
// schema built from the same table (record-schema.ts) is the readable oracle; the property test in
// validate-record.test.ts holds this function to exactly its verdicts: the same normalized record,
// and on failure the same fields in the same order with the same messages.
//
// What it mirrors of the schema's evaluation order, since the field list depends on it:
// - the documented fields are judged in the table's order, then the extra keys in the record's own
//   key order (for...in), then the two cross-field rules;
// - a field reports only its first problem;
// - the cross-field rules (current_emi <= loan_period, at most 50 extra keys) run only when every
//   problem found so far is a "soft" one: a value that is of the right type but out of range (too
//   long, below the minimum, not a calendar date). A missing field, a wrong type, a value that is
//   not one of the accepted ones or a phone number that does not parse stops them, as it does in
//   zod.
import type { CampaignType } from "../model/campaign";
import type { NormalizedRecord, VariableValue } from "../model/customer";
import { normalizePhone, PHONE_MESSAGES } from "./phone";
import {
  FIELDS,
  type FieldError,
  type FieldSpec,
  isCalendarDate,
  isRequired,
  KNOWN_FIELDS,
  type KnownField,
  LIMITS,
  MESSAGES,
  type RecordVerdict,
} from "./record-rules";

/** A field's problem. Soft: a right-typed value out of range, which does not stop the cross-field rules. */
class Problem {
  constructor(
    readonly message: string,
    readonly soft: boolean,
  ) {}
}

/**
 * Judges one present, non-blank value — `trimmed` is the value trimmed when it is a string — and
 * gives its normalized form, or a Problem.
 */
type Check = (value: unknown, trimmed: string, country: string) => unknown;

const hard = (message: string) => new Problem(message, false);
const soft = (message: string) => new Problem(message, true);

const REQUIRED = hard(MESSAGES.required);
const NOT_A_STRING = hard(MESSAGES.string);

/** zod measures string length in code points. */
function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

const longerThan = (text: string, max: number) => text.length > max && codePointLength(text) > max;

function text(max: number, lengthMessage: string): Check {
  const tooLong = soft(lengthMessage);
  return (value, trimmed) => {
    if (typeof value !== "string") return NOT_A_STRING;
    return longerThan(trimmed, max) ? tooLong : trimmed;
  };
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function amount(): Check {
  const wrongType = hard(MESSAGES.amount);
  const tooSmall = soft(MESSAGES.amount);
  return (value) => {
    if (!isNumber(value)) return wrongType;
    return value >= 0 ? value : tooSmall;
  };
}

function wholeNumber(): Check {
  const notWhole = hard(MESSAGES.wholeNumber);
  const outOfRange = soft(MESSAGES.wholeNumber);
  return (value) => {
    if (!isNumber(value) || !Number.isInteger(value)) return notWhole;
    return Number.isSafeInteger(value) && value >= 1 ? value : outOfRange;
  };
}

const digitAt = (text: string, i: number) => {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
};

/** isCalendarDate without the regular expression, which dominated its cost; same answers. */
function isCalendarDateQuick(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  const year = digitAt(text, 0) * 1000 + digitAt(text, 1) * 100 + digitAt(text, 2) * 10 + digitAt(text, 3);
  const month = digitAt(text, 5) * 10 + digitAt(text, 6);
  const day = digitAt(text, 8) * 10 + digitAt(text, 9);
  // A non-digit made one of them NaN, and every comparison with NaN is false.
  if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1)) return false;
  if (day <= 28) return true;
  return isCalendarDate(text);
}

function date(): Check {
  const wrongType = hard(MESSAGES.date);
  const notADate = soft(MESSAGES.date);
  return (value) => {
    if (typeof value !== "string") return wrongType;
    return isCalendarDateQuick(value) ? value : notADate;
  };
}

function choice(accepted: Readonly<Record<string, string>>, message: string): Check {
  const rejected = hard(message);
  return (value, trimmed) => {
    if (typeof value !== "string") return rejected;
    const key = trimmed.toLowerCase();
    return Object.hasOwn(accepted, key) ? accepted[key] : rejected;
  };
}

const PHONE_TYPE = hard(PHONE_MESSAGES.type);
const phoneProblems = new Map<string, Problem>();

function phone(): Check {
  return (value, _trimmed, country) => {
    if (typeof value !== "string" && !isNumber(value)) return PHONE_TYPE;
    const result = normalizePhone(value, country);
    if (result.ok) return result.e164;
    let problem = phoneProblems.get(result.message);
    if (!problem) {
      problem = hard(result.message);
      phoneProblems.set(result.message, problem);
    }
    return problem;
  };
}

/** The check a field's kind calls for. */
function compile(spec: FieldSpec): Check {
  switch (spec.kind) {
    case "text":
      return text(spec.max, spec.lengthMessage);
    case "phone":
      return phone();
    case "amount":
      return amount();
    case "count":
      return wholeNumber();
    case "date":
      return date();
    case "choice":
      return choice(spec.accepted, spec.message);
  }
}

interface FieldRule {
  field: KnownField;
  required: boolean;
  check: Check;
}

const CHECKS: readonly { spec: FieldSpec; check: Check }[] = FIELDS.map((spec) => ({
  spec,
  check: compile(spec),
}));

function rulesFor(type: CampaignType): FieldRule[] {
  return CHECKS.map(({ spec, check }) => ({
    field: spec.name as KnownField,
    required: isRequired(spec, type),
    check,
  }));
}

const RULES: Readonly<Record<CampaignType, readonly FieldRule[]>> = {
  emi: rulesFor("emi"),
  edi: rulesFor("edi"),
  lead: rulesFor("lead"),
};

const KNOWN: ReadonlySet<string> = new Set(KNOWN_FIELDS);

const VARIABLE_LENGTH = soft(MESSAGES.variableLength);
const NOT_A_VARIABLE = hard(MESSAGES.variable);
const CURRENT_EMI = soft(MESSAGES.currentEmi);
const TOO_MANY_VARIABLES = soft(MESSAGES.variablesCount);

function variableProblem(value: unknown): Problem | undefined {
  if (typeof value === "string")
    return longerThan(value, LIMITS.variableValueMax) ? VARIABLE_LENGTH : undefined;
  if (value === null || typeof value === "boolean" || isNumber(value)) return undefined;
  return NOT_A_VARIABLE;
}

const isWholeNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1;

/** Adds the field's problem unless the field already has one; the schema reports each field once. */
function report(fields: FieldError[] | undefined, field: string, problem: Problem): FieldError[] {
  const list = fields ?? [];
  for (const f of list) if (f.field === field) return list;
  // The schema's verdict names a problem at a key called "record" with the record message.
  list.push({ field, message: field === "record" ? MESSAGES.record : problem.message });
  return list;
}

/** Judges one record for a campaign of `type` whose phone numbers default to `country`. */
export function validateRecord(input: unknown, type: CampaignType, country: string): RecordVerdict {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, fields: [{ field: "record", message: MESSAGES.record }] };
  }
  const raw = input as Record<string, unknown>;
  let fields: FieldError[] | undefined;
  let hardProblem = false;

  const record: Record<string, unknown> = {};
  for (const rule of RULES[type]) {
    const value = raw[rule.field];
    const trimmed = typeof value === "string" ? value.trim() : "";
    // Blank spreadsheet cells (null, whitespace) mean "absent".
    if (value === undefined || value === null || (typeof value === "string" && trimmed === "")) {
      if (rule.required) {
        hardProblem = true;
        fields = report(fields, rule.field, REQUIRED);
      }
      continue;
    }
    const out = rule.check(value, trimmed, country);
    if (out instanceof Problem) {
      if (!out.soft) hardProblem = true;
      fields = report(fields, rule.field, out);
    } else {
      record[rule.field] = out;
    }
  }

  let variables: Record<string, VariableValue> | undefined;
  let extra = 0;
  for (const key in raw) {
    if (KNOWN.has(key) || key === "__proto__") continue;
    extra++;
    const value = raw[key];
    const problem = variableProblem(value);
    if (problem) {
      if (!problem.soft) hardProblem = true;
      fields = report(fields, key, problem);
    } else if (!fields) {
      variables ??= {};
      variables[key] = value as VariableValue;
    }
  }

  // The schema runs its cross-field rules only when nothing so far was a hard problem.
  if (!hardProblem) {
    const { loan_period, current_emi } = record;
    if (isWholeNumber(loan_period) && isWholeNumber(current_emi) && current_emi > loan_period) {
      fields = report(fields, "current_emi", CURRENT_EMI);
    }
    if (extra > LIMITS.variablesMaxKeys) fields = report(fields, "variables", TOO_MANY_VARIABLES);
  }

  if (fields) return { ok: false, fields };
  if (variables) record.variables = variables;
  return { ok: true, record: record as unknown as NormalizedRecord };
}
