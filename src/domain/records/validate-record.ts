// The intake hot path's record validator, compiled from the record rules (record-rules.ts) when the
// module loads. zod runs without its JIT in workerd, and judging 10,000 records through a schema
// cost more than storing them, so each field's check is a small closure picked by its kind. The zod
// schema built from the same table (record-schema.ts) is the readable oracle; the property test in
// validate-record.test.ts holds this function to exactly its verdicts: the same normalized record,
// and on failure the same fields in the same order with the same messages.
//
// What it mirrors of the schema's evaluation order, since the field list depends on it:
// - the record's own keys are read once: each is a documented field (exactly, or spelled with
//   another letter case, a BOM or surrounding spaces) or an extra key;
// - the documented fields are judged in the table's order, then the extra keys in the record's own
//   key order, then the cross-field rules;
// - a field reports only its first problem;
// - the cross-field rules (current_emi <= loan_period, at most 50 extra keys, the variables' size)
//   run only when every problem found so far is a "soft" one: a value that is of the right type but
//   out of range (too long, below the minimum, not a calendar date). A missing field, a wrong type, a
//   value that is not one of the accepted ones or a phone number that does not parse stops them, as
//   it does in zod.
//
// Work is linear in the size of the record: each key is looked at once, and reported fields are
// kept in a set as well as a list.
import type { CampaignType } from "../model/campaign";
import type { NormalizedRecord, VariableValue } from "../model/customer";
import { hasVisibleCharacter, normalizeKey } from "./keys";
import { normalizePhone, PHONE_MESSAGES } from "./phone";
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
  type KnownField,
  LIMITS,
  MESSAGES,
  notAPlainNumber,
  PLAIN_DECIMAL,
  PLAIN_DIGITS,
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
  const invisible = hard(MESSAGES.visible);
  return (value, trimmed) => {
    if (typeof value !== "string") return NOT_A_STRING;
    if (!hasVisibleCharacter(trimmed)) return invisible;
    return longerThan(trimmed, max) ? tooLong : trimmed;
  };
}

function key(max: number, lengthMessage: string): Check {
  const tooLong = soft(lengthMessage);
  return (value) => {
    if (typeof value !== "string") return NOT_A_STRING;
    const result = normalizeKey(value);
    if (!result.ok) return hard(result.message);
    return longerThan(result.key, max) ? tooLong : result.key;
  };
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function amount(): Check {
  const wrongType = hard(MESSAGES.amount);
  const tooSmall = soft(MESSAGES.amount);
  return (value, trimmed) => {
    if (typeof value === "string") {
      if (!PLAIN_DECIMAL.test(trimmed) || !isExactDecimal(trimmed)) {
        return hard(notAPlainNumber(trimmed, MESSAGES.amount));
      }
      const n = Number(trimmed);
      return Number.isFinite(n) ? n : wrongType;
    }
    if (!isNumber(value)) return wrongType;
    return value >= 0 ? value : tooSmall;
  };
}

function wholeNumber(): Check {
  const notWhole = hard(MESSAGES.wholeNumber);
  const outOfRange = soft(MESSAGES.wholeNumber);
  const inRange = (n: number) => Number.isSafeInteger(n) && n >= 1;
  return (value, trimmed) => {
    if (typeof value === "string") {
      if (!PLAIN_DIGITS.test(trimmed)) return hard(notAPlainNumber(trimmed, MESSAGES.wholeNumber));
      const n = Number(trimmed);
      // Hundreds of digits read as Infinity: not a number at all, as for a JSON number.
      if (!Number.isFinite(n)) return notWhole;
      return inRange(n) ? n : outOfRange;
    }
    if (!isNumber(value) || !Number.isInteger(value)) return notWhole;
    return inRange(value) ? value : outOfRange;
  };
}

const digitAt = (text: string, i: number) => {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
};

/** isCalendarDate and the year range without the regular expression, which dominated its cost. */
function isCalendarDateQuick(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  const year = digitAt(text, 0) * 1000 + digitAt(text, 1) * 100 + digitAt(text, 2) * 10 + digitAt(text, 3);
  const month = digitAt(text, 5) * 10 + digitAt(text, 6);
  const day = digitAt(text, 8) * 10 + digitAt(text, 9);
  // A non-digit made one of them NaN, and every comparison with NaN is false.
  if (!(year >= LIMITS.firstYear && year <= LIMITS.lastYear && month >= 1 && month <= 12 && day >= 1)) {
    return false;
  }
  if (day <= 28) return true;
  return isCalendarDate(text);
}

function date(): Check {
  const wrongType = hard(MESSAGES.date);
  const notADate = soft(MESSAGES.date);
  return (value, trimmed) => {
    if (typeof value !== "string") return wrongType;
    return isCalendarDateQuick(trimmed) ? trimmed : notADate;
  };
}

function choice(
  accepted: Readonly<Record<string, string>>,
  tags: Readonly<Record<string, string>> | undefined,
  message: string,
): Check {
  const rejected = hard(message);
  return (value, trimmed) => {
    if (typeof value !== "string") return rejected;
    const spelling = trimmed.toLowerCase();
    if (Object.hasOwn(accepted, spelling)) return accepted[spelling];
    if (tags) {
      const primary = BCP47_TAG.exec(spelling)?.[1];
      if (primary !== undefined && Object.hasOwn(tags, primary)) return tags[primary];
    }
    return rejected;
  };
}

const PHONE_TYPE = hard(PHONE_MESSAGES.type);
const phoneProblems = new Map<string, Problem>();

function phone(): Check {
  return (value, _trimmed, country) => {
    if (typeof value !== "string" && typeof value !== "number") return PHONE_TYPE;
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
    case "key":
      return key(spec.max, spec.lengthMessage);
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
      return choice(spec.accepted, spec.tags, spec.message);
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

/** Documented field names, each mapped to itself: the lookup for a key's canonical spelling. */
const KNOWN = new Map<string, KnownField>(FIELDS.map((f) => [f.name, f.name]));

const VARIABLE_LENGTH = soft(MESSAGES.variableLength);
const NOT_A_VARIABLE = hard(MESSAGES.variable);
const VARIABLE_NAME = hard(MESSAGES.variableName);
const RESERVED_KEY = hard(MESSAGES.reservedKey);
const CURRENT_EMI = soft(MESSAGES.currentEmi);
const TOO_MANY_VARIABLES = soft(MESSAGES.variablesCount);
const VARIABLES_TOO_LARGE = soft(MESSAGES.variablesSize);

function variableProblem(value: unknown): Problem | undefined {
  if (typeof value === "string")
    return longerThan(value, LIMITS.variableValueMax) ? VARIABLE_LENGTH : undefined;
  if (value === null || typeof value === "boolean" || isNumber(value)) return undefined;
  return NOT_A_VARIABLE;
}

const isWholeNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1;

const isBlank = (value: unknown) =>
  value === undefined || value === null || (typeof value === "string" && value.trim() === "");

/** The fields reported so far: the list the answer carries, and a set so each check is O(1). */
class Report {
  readonly fields: FieldError[] = [];
  private readonly seen = new Set<string>();
  hard = false;

  add(field: string, problem: Problem): void {
    if (!problem.soft) this.hard = true;
    if (this.seen.has(field)) return;
    this.seen.add(field);
    // The schema's verdict names a problem at a key called "record" with the record message.
    this.fields.push({ field, message: field === "record" ? MESSAGES.record : problem.message });
  }
}

/** Keys that spell a documented field another way, each with its value, in key order. */
type Spellings = Map<KnownField, { key: string; value: unknown }[]>;

/** Judges one record for a campaign of `type` whose phone numbers default to `country`. */
export function validateRecord(input: unknown, type: CampaignType, country: string): RecordVerdict {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, fields: [{ field: "record", message: MESSAGES.record }] };
  }
  const raw = input as Record<string, unknown>;

  // One pass over the keys: extra keys in order, and the other spellings of documented fields.
  let extras: string[] | undefined;
  let spellings: Spellings | undefined;
  for (const k in raw) {
    if (!Object.hasOwn(raw, k) || KNOWN.has(k)) continue;
    const field = KNOWN.get(canonicalFieldName(k));
    if (field === undefined) {
      extras ??= [];
      extras.push(k);
      continue;
    }
    spellings ??= new Map();
    const list = spellings.get(field) ?? [];
    list.push({ key: k, value: raw[k] });
    spellings.set(field, list);
  }

  const report = new Report();
  const record: Record<string, unknown> = {};
  for (const rule of RULES[type]) {
    let value = Object.hasOwn(raw, rule.field) ? raw[rule.field] : undefined;
    const other = spellings?.get(rule.field);
    if (other) {
      // Blank spellings say nothing; two present spellings must carry the same value.
      let shown: string | undefined = isBlank(value) ? undefined : rule.field;
      let conflict: Problem | undefined;
      for (const s of other) {
        if (isBlank(s.value)) continue;
        if (shown === undefined) {
          shown = s.key;
          value = s.value;
        } else if (!Object.is(s.value, value)) {
          conflict ??= hard(conflictMessage(shown, s.key));
        }
      }
      if (conflict) {
        report.add(rule.field, conflict);
        continue;
      }
    }
    const trimmed = typeof value === "string" ? value.trim() : "";
    // Blank spreadsheet cells (null, whitespace) mean "absent".
    if (value === undefined || value === null || (typeof value === "string" && trimmed === "")) {
      if (rule.required) report.add(rule.field, REQUIRED);
      continue;
    }
    const out = rule.check(value, trimmed, country);
    if (out instanceof Problem) report.add(rule.field, out);
    else record[rule.field] = out;
  }

  let variables: Record<string, VariableValue> | undefined;
  for (const k of extras ?? []) {
    const value = raw[k];
    const problem =
      k === "__proto__"
        ? RESERVED_KEY
        : k.length > LIMITS.variableNameMax && codePointLength(k) > LIMITS.variableNameMax
          ? VARIABLE_NAME
          : variableProblem(value);
    if (problem) report.add(k, problem);
    else if (report.fields.length === 0) {
      variables ??= {};
      variables[k] = value as VariableValue;
    }
  }

  // The schema runs its cross-field rules only when nothing so far was a hard problem.
  if (!report.hard) {
    const { loan_period, current_emi } = record;
    if (isWholeNumber(loan_period) && isWholeNumber(current_emi) && current_emi > loan_period) {
      report.add("current_emi", CURRENT_EMI);
    }
    if (extras && extras.length > LIMITS.variablesMaxKeys) report.add("variables", TOO_MANY_VARIABLES);
    else if (extras && !variablesFit(raw, extras, LIMITS.variablesMaxBytes)) {
      report.add("variables", VARIABLES_TOO_LARGE);
    }
  }

  if (report.fields.length > 0) return { ok: false, fields: report.fields };
  if (variables) record.variables = variables;
  return { ok: true, record: record as unknown as NormalizedRecord };
}

/**
 * The record's key (its loan_id or lead_id, however spelled) normalized as the validator stores it,
 * for reporting a record that failed; undefined when the record has no valid key.
 */
export function keyOfRecord(input: unknown, field: "loan_id" | "lead_id"): string | undefined {
  if (typeof input !== "object" || input === null) return undefined;
  const raw = input as Record<string, unknown>;
  let value = Object.hasOwn(raw, field) ? raw[field] : undefined;
  if (isBlank(value)) {
    for (const k in raw) {
      if (Object.hasOwn(raw, k) && k !== field && canonicalFieldName(k) === field && !isBlank(raw[k])) {
        value = raw[k];
        break;
      }
    }
  }
  if (typeof value !== "string") return undefined;
  const result = normalizeKey(value);
  return result.ok && !longerThan(result.key, LIMITS.keyMax) ? result.key : undefined;
}

const encoder = new TextEncoder();

/**
 * The most UTF-8 bytes JSON.stringify can write for one UTF-16 code unit: 6, for a control
 * character or a lone surrogate written as `\uXXXX`; a character above U+FFFF is 4 bytes for its
 * two units, any other at most 3.
 */
const MAX_JSON_BYTES_PER_UNIT = 6;
/**
 * The longest JSON a number can be, `-0.0000012345678901234567` (ECMA-262 Number::toString: five
 * zeros after the point, then up to 17 digits), or a boolean or null.
 */
const MAX_JSON_SCALAR_BYTES = 25;

/**
 * Whether the extra keys, stored as a JSON object, take at most `limit` UTF-8 bytes. Most records
 * carry a few short variables, far under the limit: a bound from their lengths (each key and
 * string value at most MAX_JSON_BYTES_PER_UNIT bytes a code unit, plus quotes, colon and comma)
 * answers without writing the JSON; only a record the bound cannot clear is measured exactly.
 * validate-record.test.ts holds the bound above the exact size.
 */
function variablesFit(raw: Record<string, unknown>, extras: readonly string[], limit: number): boolean {
  return variablesBytesBound(raw, extras) <= limit || variablesBytes(raw, extras) <= limit;
}

/** An upper bound of variablesBytes, from the lengths of the keys and values alone. */
export function variablesBytesBound(raw: Record<string, unknown>, extras: readonly string[]): number {
  let bound = 2; // {}
  for (const k of extras) {
    const value = raw[k];
    // "key":value,
    bound += MAX_JSON_BYTES_PER_UNIT * k.length + 4;
    bound += typeof value === "string" ? MAX_JSON_BYTES_PER_UNIT * value.length + 2 : MAX_JSON_SCALAR_BYTES;
  }
  return bound;
}

/** UTF-8 bytes of the extra keys as stored (a JSON object); only records with extra keys pay for it. */
export function variablesBytes(raw: Record<string, unknown>, extras: readonly string[]): number {
  const variables: Record<string, unknown> = {};
  for (const k of extras) variables[k] = raw[k];
  return encoder.encode(JSON.stringify(variables)).length;
}

/**
 * A value read as the record rule of a choice field reads it (payment_status: case-insensitive;
 * language: names, ISO 639-1 codes, BCP 47 tags), as it is stored; undefined when the rule refuses
 * it. Filters over stored customers use it, so they accept exactly the spellings records do.
 */
export function readChoice(field: "payment_status" | "language", value: unknown): string | undefined {
  const entry = CHECKS.find((c) => c.spec.name === field) as (typeof CHECKS)[number];
  const trimmed = typeof value === "string" ? value.trim() : "";
  if (trimmed === "") return undefined;
  const out = entry.check(value, trimmed, "");
  return typeof out === "string" ? out : undefined;
}
