// Phone numbers are normalized to E.164 with the campaign's default country. The "max" metadata is
// used on purpose: it knows which number ranges are really assigned (e.g. an Indian number must be
// a real mobile or fixed-line range), so the dialer is not handed numbers that can never connect.
//
// Normalization is two steps.
//
// 1. bulkcall's own reading of the text (`preNormalize`), which decides which characters are digits
//    of the number. It may drop characters that cannot be digits (separators, formatting) and never
//    turns anything else into a digit:
//    - digits: ASCII 0-9 and every other Unicode decimal digit (general category Nd: full-width
//      ０-９, Arabic-Indic, Devanagari, Bengali ...), each read as its value. They are digits in
//      every sense; a list exported in a Hindi or Japanese locale carries them.
//    - separators, dropped wherever they are: every Unicode space (Zs) and other white space
//      (tab, line breaks: a cell's stray newline), every dash (Pd) and U+2212 minus, the invisible
//      formatting characters U+200B-U+200F, U+2060, U+FEFF and U+00AD, and . / ( ) [ ] with their
//      full-width forms.
//    - one + (or full-width ＋) before the first digit.
//    - text that looks like a spreadsheet number (a decimal fraction such as `8123456789.0`, an
//      exponent such as `9.87654E+09`; see `looksLikeSpreadsheetNumber`) is refused: read as digits
//      it is a different, real number (`8123456789.0` in Indonesia is +6281234567890, somebody
//      else). So is a JSON number that is not a safe positive integer (9876543210.5, 1e21).
//    - anything else is refused, including what the library would "helpfully" read: letters as
//      keypad digits (`1-800-FLOWERS`; a dialer ringing a number spelled in letters surprises
//      everyone, and letters in a phone column are far more often a wrong cell), numbers inside
//      prose ("Phone: 98765 43210"), RFC 3966 `tel:` URIs and `;phone-context=` (a customer list
//      is not a list of URIs; a local number's context is the campaign's country), and extensions
//      (the dialer cannot dial them; they keep their own message).
// 2. The library's parser and validity check on what is left: `[+]digits`.
//
// `normalizePhone` is on the intake hot path (10,000 numbers per request). The library compiles a
// fresh RegExp from its metadata strings for every pattern test of every number, and that alone was
// about 10 µs per number in workerd. So step 2 takes a fast path below that follows the library's
// parsing steps one for one, reads the same metadata through the library's own accessors, and
// compiles each pattern once; only inputs it does not take (fewer than three digits, a default
// country the metadata does not know) go to the library itself. A property test (phone.test.ts)
// holds the whole function to a reference written separately: the rules above, then the library.
import { type CountryCode, Metadata, parsePhoneNumberFromString } from "libphonenumber-js/max";

export type PhoneResult = { ok: true; e164: string } | { ok: false; message: string };

export const PHONE_MESSAGES = {
  type: "must be a string or a whole number",
  invalid: "is not a valid phone number",
  extension: "must not carry an extension",
  spreadsheet:
    "looks like a spreadsheet number (a decimal fraction, an exponent, or a number that is not a positive whole one), not phone digits; format the phone column as text",
  characters:
    "may contain only digits, one leading + and separators such as spaces, dashes, dots and brackets",
} as const;

const TYPE_ERROR: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.type });
const INVALID: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.invalid });
const EXTENSION: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.extension });
const SPREADSHEET: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.spreadsheet });
const CHARACTERS: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.characters });

/**
 * `input` (a string, or a JSON number) as E.164 (`+919876543210`) read with `defaultCountry`
 * (ISO 3166 alpha-2) for numbers written without a country code, or the reason it is refused: one
 * of PHONE_MESSAGES. Never throws.
 */
export function normalizePhone(input: unknown, defaultCountry: string): PhoneResult {
  const reduced = preNormalize(input);
  if (typeof reduced !== "string") {
    return reduced === NEEDS_DIAGNOSIS ? diagnose(input as string, defaultCountry) : reduced;
  }
  return normalizeFast(reduced, defaultCountry) ?? normalizeWithLibrary(reduced, defaultCountry);
}

/**
 * normalizePhone's answer when it is reached without the library's parser, or undefined when
 * normalizePhone would ask the library. Exported so the tests can check that the hot path answers.
 */
export function normalizePhoneFastPath(input: unknown, defaultCountry: string): PhoneResult | undefined {
  const reduced = preNormalize(input);
  if (typeof reduced !== "string") return reduced === NEEDS_DIAGNOSIS ? undefined : reduced;
  return normalizeFast(reduced, defaultCountry);
}

/** `[+]digits` that the fast path does not take, parsed by the library itself. */
function normalizeWithLibrary(reduced: string, defaultCountry: string): PhoneResult {
  const parsed = parsePhoneNumberFromString(reduced, { defaultCountry: defaultCountry as CountryCode });
  return parsed?.isValid() ? { ok: true, e164: parsed.number } : INVALID;
}

/**
 * Only chooses the message for text bulkcall refuses: when the library reads it as a valid number
 * with an extension, saying so tells the operator what to remove. The number is never used.
 */
function diagnose(text: string, defaultCountry: string): PhoneResult {
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode });
  return parsed?.ext && parsed.isValid() ? EXTENSION : CHARACTERS;
}

// ---------------------------------------------------------------------------------------------
// Step 1: which characters are digits.

/** The library's own input limit (MAX_INPUT_STRING_LENGTH); beyond it, it answers "not a number". */
const MAX_INPUT_LENGTH = 250;

/** Returned by preNormalize for text with characters bulkcall does not read; see `diagnose`. */
const NEEDS_DIAGNOSIS = Symbol("needs diagnosis");

/** ASCII separators by char code: white space (tab, line breaks, space), - . / ( ) [ ]. */
const ASCII_SEPARATOR: readonly boolean[] = Array.from({ length: 128 }, (_, c) =>
  " \t\n\v\f\r-./()[]".includes(String.fromCharCode(c)),
);

/**
 * Separators outside ASCII: Unicode spaces (Zs) and white space, dashes (Pd) and U+2212 minus, the
 * invisible formatting characters, and the full-width forms of . / ( ) [ ].
 */
const UNICODE_SEPARATOR =
  /^[\p{Zs}\p{Pd}\s\u2212\u200B-\u200F\u2060\uFEFF\u00AD\uFF0E\uFF0F\uFF08\uFF09\uFF3B\uFF3D]$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** Values of the non-ASCII decimal digits seen so far: at most the ~770 Nd code points. */
const digitValues = new Map<number, number>();

/**
 * The value of a non-ASCII decimal digit, or undefined for any other code point. Unicode encodes
 * the Nd digits of every script as contiguous runs of ten, 0 to 9 (The Unicode Standard, 4.6
 * "Numeric Value"), so the value is the distance from the run's start, modulo ten for runs that
 * follow one another (the mathematical digits are five runs in a row).
 */
function digitValue(codePoint: number): number | undefined {
  const known = digitValues.get(codePoint);
  if (known !== undefined) return known;
  if (!DECIMAL_DIGIT.test(String.fromCodePoint(codePoint))) return undefined;
  let zero = codePoint;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(zero - 1))) zero--;
  const value = (codePoint - zero) % 10;
  digitValues.set(codePoint, value);
  return value;
}

const FULLWIDTH_PLUS = 0xff0b;
const FULLWIDTH_DOT = 0xff0e;
const FULLWIDTH_COMMA = 0xff0c;
const FULLWIDTH_E = 0xff25;
const FULLWIDTH_SMALL_E = 0xff45;

/**
 * `[+]digits` (ASCII) read from `input` by the rules at the top of this file; a refusal; or
 * NEEDS_DIAGNOSIS when the text holds a character that is none of digit, separator, leading plus.
 */
function preNormalize(input: unknown): string | PhoneResult | typeof NEEDS_DIAGNOSIS {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return TYPE_ERROR;
    // A fraction, an exponent past 2^53 (JSON parsing has already changed the digits), zero or
    // less: none of these is the digits of a phone number.
    if (!Number.isSafeInteger(input) || input <= 0) return SPREADSHEET;
    return String(input);
  }
  if (typeof input !== "string") return TYPE_ERROR;
  const text = input;
  const length = text.length;
  if (length > MAX_INPUT_LENGTH) return INVALID;
  let digits = "";
  let runStart = -1; // start of the current run of ASCII digits, copied in one slice
  let plus = false;
  let sawDigit = false;
  let marks = false; // a . , or e: the text may be a spreadsheet number
  let other = false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (runStart < 0) runStart = i;
      sawDigit = true;
      continue;
    }
    if (runStart >= 0) {
      digits += text.slice(runStart, i);
      runStart = -1;
    }
    if (c < 128) {
      if (ASCII_SEPARATOR[c]) {
        if (c === 46 /* . */) marks = true;
      } else if (c === 43 /* + */ && !plus && !sawDigit) {
        plus = true;
      } else {
        if (c === 44 /* , */ || c === 69 /* E */ || c === 101 /* e */) marks = true;
        other = true;
      }
      continue;
    }
    const codePoint = text.codePointAt(i) as number;
    if (codePoint > 0xffff) i++;
    const value = digitValue(codePoint);
    if (value !== undefined) {
      digits += value;
      sawDigit = true;
    } else if (UNICODE_SEPARATOR.test(String.fromCodePoint(codePoint))) {
      if (codePoint === FULLWIDTH_DOT) marks = true;
    } else if (codePoint === FULLWIDTH_PLUS && !plus && !sawDigit) {
      plus = true;
    } else {
      if (codePoint === FULLWIDTH_COMMA || codePoint === FULLWIDTH_E || codePoint === FULLWIDTH_SMALL_E) {
        marks = true;
      }
      other = true;
    }
  }
  if (marks && looksLikeSpreadsheetNumber(text)) return SPREADSHEET;
  if (other) return NEEDS_DIAGNOSIS;
  // The common case, plain digits with or without a +, needs no copy.
  if (runStart === 0 || (runStart === 1 && plus && text.charCodeAt(0) === 43)) return text;
  if (runStart >= 0) digits += text.slice(runStart);
  return plus ? `+${digits}` : digits;
}

// Both patterns read the text's shape: its digits as ASCII digits, e and E as `e`, + as `+`, any
// other character that is not a separator as `?`, and each run of separators, dots and commas
// between two of those as one character: `.` or `,` when the run holds one (the first), otherwise
// a space. Runs at either end are dropped. So "98765 43210 .0", "987654321\u200B.0" and
// "９８７６５４３２１０．０" all have the shape of 9876543210.0.
//  - an exponent at the end: 9.87654E+09, 9,87654e9, 1e+21, 9.87654E-05.
const EXPONENT = /\d(?:[.,]\d*)? ?e ?\+? ?\d+$/;
//  - a decimal fraction at the end: a single digit after a dot or comma (8123456789.0,
//    9876543210.5); zeros after the only dot or comma (98765 43210.00, while "01.23.45.67.00" is
//    a French writing); or any digits when the whole shape is one plain decimal numeral
//    (9876543.21, and so also 98765.43210), which is exactly how a spreadsheet prints a number.
const FRACTION = /\d[.,]\d$|^[^.,]*\d[.,]0+$|^\d+[.,]\d+$/;

/**
 * Whether the text is a number as a spreadsheet prints it (a cell formatted as a number and
 * exported, or read back by a script as a float) rather than a phone number as people write one.
 */
function looksLikeSpreadsheetNumber(text: string): boolean {
  let shape = "";
  let run = ""; // the pending run of separators: "", " ", "." or ","
  for (const character of text) {
    const c = character.codePointAt(0) as number;
    let token: string;
    if (c === 46 || c === FULLWIDTH_DOT || c === 44 || c === FULLWIDTH_COMMA) {
      if (run === "" || run === " ") run = c === 46 || c === FULLWIDTH_DOT ? "." : ",";
      continue;
    }
    const value = c >= 48 && c <= 57 ? c - 48 : c < 128 ? undefined : digitValue(c);
    if (value !== undefined) token = String(value);
    else if (c < 128 ? ASCII_SEPARATOR[c] : UNICODE_SEPARATOR.test(character)) {
      if (run === "") run = " ";
      continue;
    } else if (c === 69 || c === 101 || c === FULLWIDTH_E || c === FULLWIDTH_SMALL_E) token = "e";
    else if (c === 43 || c === FULLWIDTH_PLUS) token = "+";
    else token = "?";
    if (shape !== "") shape += run;
    shape += token;
    run = "";
  }
  return FRACTION.test(shape) || EXPONENT.test(shape);
}

// ---------------------------------------------------------------------------------------------
// Step 2, fast path.
//
// It takes `[+]digits` with at least three digits, under a default country the metadata knows.
// For such text the library's RFC 3966 step finds no `;phone-context=`, the viability pattern
// accepts it (an optional `+`, then three or more digits), the extension pattern cannot match
// (every alternative needs a letter, `#`, `~`, `,` or `;`), and `parseIncompletePhoneNumber`
// leaves it as it is. From there the steps below mirror the library's `parse` and `isValid`.

/** The runtime surface of the library's metadata reader that the fast path relies on. */
interface LibraryType {
  pattern(): string | undefined;
  possibleLengths(): number[] | undefined;
}
interface LibraryNumberingPlan {
  callingCode(): string;
  IDDPrefix(): string | undefined;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(name: string): LibraryType | undefined;
}
interface LibraryMetadata {
  numberingPlan: LibraryNumberingPlan;
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCallingCode(callingCode: string): boolean | undefined;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  metadata: { countries: Record<string, unknown> };
}

const newMetadata = () => new (Metadata as unknown as new () => LibraryMetadata)();
/** Used only for lookups that do not select a numbering plan. */
const lookups = newMetadata();

// The order getNumberType tries them in; any match makes a number valid.
const NUMBER_TYPES = [
  "FIXED_LINE",
  "MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
] as const;

interface CompiledType {
  pattern: RegExp;
  lengths: readonly number[] | undefined;
}

interface Plan {
  callingCode: string;
  /** Unanchored, as the library's stripIddPrefix builds it. */
  idd: RegExp;
  nationalNumber: RegExp;
  possibleLengths: readonly number[] | undefined;
  nationalPrefix: RegExp | undefined;
  transformRule: string | undefined;
  leadingDigits: RegExp | undefined;
  hasTypes: boolean;
  types: readonly CompiledType[];
}

const entirely = (pattern: string) => new RegExp(`^(?:${pattern})$`);

function compilePlan(countryOrCallingCode: string): Plan {
  const metadata = newMetadata();
  metadata.selectNumberingPlan(countryOrCallingCode);
  const plan = metadata.numberingPlan;
  const types: CompiledType[] = [];
  if (plan.hasTypes()) {
    for (const name of NUMBER_TYPES) {
      const type = plan.type(name);
      const pattern = type?.pattern();
      if (!type || !pattern) continue;
      types.push({ pattern: entirely(pattern), lengths: type.possibleLengths() });
    }
  }
  const nationalPrefix = plan.nationalPrefixForParsing();
  const leadingDigits = plan.leadingDigits();
  return {
    callingCode: plan.callingCode(),
    // new RegExp(undefined) is /(?:)/, exactly what the library builds when a plan has no IDD.
    idd: new RegExp(plan.IDDPrefix() as string),
    nationalNumber: entirely(plan.nationalNumberPattern()),
    possibleLengths: plan.possibleLengths(),
    nationalPrefix: nationalPrefix ? new RegExp(`^(?:${nationalPrefix})`) : undefined,
    transformRule: plan.nationalPrefixTransformRule() || undefined,
    leadingDigits: leadingDigits ? new RegExp(leadingDigits) : undefined,
    hasTypes: plan.hasTypes(),
    types,
  };
}

const plans = new Map<string, Plan>();
/** The plan selected by a country code, or by a calling code (its main country, or non-geographic). */
function planFor(countryOrCallingCode: string): Plan {
  let plan = plans.get(countryOrCallingCode);
  if (!plan) {
    plan = compilePlan(countryOrCallingCode);
    plans.set(countryOrCallingCode, plan);
  }
  return plan;
}

/** getNumberType(...) !== undefined */
function hasNumberType(plan: Plan, nationalNumber: string): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  for (const type of plan.types) {
    if (type.lengths && !type.lengths.includes(nationalNumber.length)) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/** isValidNumber */
function isValidIn(plan: Plan, nationalNumber: string): boolean {
  return plan.hasTypes ? hasNumberType(plan, nationalNumber) : plan.nationalNumber.test(nationalNumber);
}

const countriesByCallingCode = new Map<string, readonly string[] | undefined>();

/** getCountryByCallingCode / getCountryByNationalNumber */
function countryByCallingCode(callingCode: string, nationalNumber: string): string | undefined {
  let countries = countriesByCallingCode.get(callingCode);
  if (countries === undefined && !countriesByCallingCode.has(callingCode)) {
    countries = lookups.getCountryCodesForCallingCode(callingCode);
    countriesByCallingCode.set(callingCode, countries);
  }
  if (!countries) return undefined;
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planFor(country);
    if (plan.leadingDigits) {
      if (nationalNumber && nationalNumber.search(plan.leadingDigits) === 0) return country;
    } else if (hasNumberType(plan, nationalNumber)) {
      return country;
    }
  }
  return undefined;
}

type LengthVerdict = "IS_POSSIBLE" | "TOO_SHORT" | "TOO_LONG" | "INVALID_LENGTH";

/** checkNumberLength without a type */
function checkLength(nationalNumber: string, plan: Plan): LengthVerdict {
  const lengths = plan.possibleLengths;
  if (!lengths) return "IS_POSSIBLE";
  const length = nationalNumber.length;
  const min = lengths[0] as number;
  if (min === length) return "IS_POSSIBLE";
  if (min > length) return "TOO_SHORT";
  if ((lengths[lengths.length - 1] as number) < length) return "TOO_LONG";
  return lengths.indexOf(length, 1) >= 0 ? "IS_POSSIBLE" : "INVALID_LENGTH";
}

/** extractNationalNumberFromPossiblyIncompleteNumber (carrier codes are not needed for E.164) */
function stripNationalPrefix(number: string, plan: Plan): string {
  if (!number || !plan.nationalPrefix) return number;
  const match = plan.nationalPrefix.exec(number);
  if (!match) return number;
  const groups = match.length - 1;
  const hasCapturedGroups = groups > 0 && Boolean(match[groups]);
  if (plan.transformRule && hasCapturedGroups) return number.replace(plan.nationalPrefix, plan.transformRule);
  return number.slice(match[0].length);
}

/** extractNationalNumber */
function extractNationalNumber(number: string, plan: Plan): string {
  const national = stripNationalPrefix(number, plan);
  if (national === number) return national;
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(national)) return number;
  if (plan.possibleLengths) {
    const country = countryByCallingCode(plan.callingCode, national);
    const verdict = checkLength(national, country ? planFor(country) : plan);
    if (verdict === "TOO_SHORT" || verdict === "INVALID_LENGTH") return number;
  }
  return national;
}

/** stripIddPrefix: the digits after the international dialling prefix, if the number starts with it. */
function stripIdd(digits: string, plan: Plan): string | undefined {
  if (digits.search(plan.idd) !== 0) return undefined;
  const rest = digits.slice((plan.idd.exec(digits) as RegExpExecArray)[0].length);
  // A national prefix right after the IDD means the number was not international after all.
  if (rest[0] === "0") return undefined;
  return rest;
}

/** extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: "919876543210" typed for IN. */
function withoutPlusCallingCode(digits: string, home: Plan): string | undefined {
  if (!digits.startsWith(home.callingCode)) return undefined;
  const shorter = digits.slice(home.callingCode.length);
  const shorterNational = extractNationalNumber(shorter, home);
  const national = extractNationalNumber(digits, home);
  if (
    (!home.nationalNumber.test(national) && home.nationalNumber.test(shorterNational)) ||
    checkLength(national, home) === "TOO_LONG"
  ) {
    return shorter;
  }
  return undefined;
}

const MIN_NATIONAL_LENGTH = 2;
const MAX_NATIONAL_LENGTH = 17;
const MAX_CALLING_CODE_LENGTH = 3;
/** The fast path mirrors the library from three digits; two take another branch of its viability check. */
const MIN_FAST_DIGITS = 3;

const homePlans = new Map<string, Plan | null>();
/** The default country's plan, or null when the library does not know the country. */
function homePlan(country: string): Plan | null {
  let plan = homePlans.get(country);
  if (plan === undefined) {
    plan = Object.hasOwn(lookups.metadata.countries, country) ? planFor(country) : null;
    homePlans.set(country, plan);
  }
  return plan;
}

/** Splits international digits into a calling code the metadata knows and the rest. */
function splitCallingCode(international: string): [callingCode: string, rest: string] | undefined {
  if (international[0] === "0") return undefined;
  for (let length = 1; length <= MAX_CALLING_CODE_LENGTH && length <= international.length; length++) {
    const candidate = international.slice(0, length);
    if (lookups.hasCallingCode(candidate)) return [candidate, international.slice(length)];
  }
  return undefined;
}

/** The library's verdict on `[+]digits`, computed without it; undefined when it is not a shape it takes. */
function normalizeFast(reduced: string, defaultCountry: string): PhoneResult | undefined {
  const home = homePlan(defaultCountry);
  if (!home) return undefined;
  if (reduced.length - (reduced.charCodeAt(0) === 43 ? 1 : 0) < MIN_FAST_DIGITS) return undefined;

  // extractCountryCallingCode: international with `+`, international after the IDD prefix,
  // international typed without `+` (the campaign country's code only), or national.
  let callingCode: string | undefined;
  let number: string;
  let international: string | undefined;
  if (reduced.charCodeAt(0) === 43) {
    international = reduced.slice(1);
  } else {
    const afterIdd = stripIdd(reduced, home);
    if (afterIdd && afterIdd !== reduced) international = afterIdd;
  }
  if (international !== undefined) {
    const split = splitCallingCode(international);
    if (!split) return INVALID;
    [callingCode, number] = split;
  } else {
    const shorter = withoutPlusCallingCode(reduced, home);
    if (shorter !== undefined) callingCode = home.callingCode;
    number = shorter ?? reduced;
  }

  // parsePhoneNumber: a calling code taken from the number selects its main plan; otherwise the
  // default country's plan, and the default country stands unless the number says otherwise.
  let country: string | undefined;
  let plan: Plan;
  if (callingCode !== undefined) {
    plan = planFor(callingCode);
  } else {
    country = defaultCountry;
    plan = home;
    callingCode = home.callingCode;
  }
  if (!number) return INVALID;
  const nationalNumber = extractNationalNumber(number, plan);
  country = countryByCallingCode(callingCode, nationalNumber) ?? country;
  if (nationalNumber.length < MIN_NATIONAL_LENGTH || nationalNumber.length > MAX_NATIONAL_LENGTH) {
    return INVALID;
  }
  if (!isValidIn(planFor(country ?? callingCode), nationalNumber)) return INVALID;
  return { ok: true, e164: `+${callingCode}${nationalNumber}` };
}
