// Phone numbers are normalized to E.164 with the campaign's default country. The "max" metadata is
// used on purpose: it knows which number ranges are really assigned (e.g. an Indian number must be
// a real mobile or fixed-line range), so the dialer is not handed numbers that can never connect.
//
// `normalizePhone` is on the intake hot path (10,000 numbers per request). The library compiles a
// fresh RegExp from its metadata strings for every pattern test of every number, and that alone was
// about 10 µs per number in workerd. So the common shapes — ASCII digits with an optional leading
// `+` and ordinary separators — take a fast path below that follows the library's parsing steps
// one for one, reads the same metadata through the library's own accessors, and compiles each
// pattern once. Anything else goes to the library itself. A property test (phone.test.ts) holds the
// fast path to exactly the library's answers.
import { type CountryCode, Metadata, parsePhoneNumberFromString } from "libphonenumber-js/max";

export type PhoneResult = { ok: true; e164: string } | { ok: false; message: string };

export const PHONE_MESSAGES = {
  type: "must be a string or a whole number",
  invalid: "is not a valid phone number",
  extension: "must not carry an extension",
} as const;

const TYPE_ERROR: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.type });
const INVALID: PhoneResult = Object.freeze({ ok: false, message: PHONE_MESSAGES.invalid });

export function normalizePhone(input: unknown, defaultCountry: string): PhoneResult {
  const text = phoneText(input);
  if (text === undefined) return TYPE_ERROR;
  return normalizeFast(text, defaultCountry) ?? normalizeWithLibrary(text, defaultCountry);
}

/**
 * The fast path's answer, or undefined when the input is not a shape it takes (then
 * normalizePhone asks the library). Exported so the property test can check that it answers.
 */
export function normalizePhoneFastPath(input: unknown, defaultCountry: string): PhoneResult | undefined {
  const text = phoneText(input);
  return text === undefined ? undefined : normalizeFast(text, defaultCountry);
}

/** The reference: the library's parser on every input. Kept for the property test. */
export function normalizePhoneReference(input: unknown, defaultCountry: string): PhoneResult {
  const text = phoneText(input);
  if (text === undefined) return TYPE_ERROR;
  return normalizeWithLibrary(text, defaultCountry);
}

function phoneText(input: unknown): string | undefined {
  if (typeof input === "string") return input;
  if (typeof input === "number" && Number.isSafeInteger(input) && input > 0) return String(input);
  return undefined;
}

function normalizeWithLibrary(text: string, defaultCountry: string): PhoneResult {
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode });
  if (!parsed?.isValid()) return INVALID;
  if (parsed.ext) return { ok: false, message: PHONE_MESSAGES.extension };
  return { ok: true, e164: parsed.number };
}

const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

// ---------------------------------------------------------------------------------------------
// Fast path.
//
// Which inputs it takes, and why the library would see nothing more than `[+]digits` in them:
// at most 250 characters; only ASCII digits, a `+` as the very first character, and the
// separators space - . ( ) /; at least three digits. For such text the library's RFC 3966 step
// finds no `;phone-context=`, the viability pattern accepts it (a leading `+`, then three or more
// digits each preceded by optional punctuation — all six separators are in its punctuation class),
// the extension pattern cannot match (every alternative needs a letter, `#`, `~`, `,` or `;`), and
// `parseIncompletePhoneNumber` reduces it to the optional `+` followed by its digits. From there
// the steps below mirror the library's `parse` and `isValid` on that reduced form.

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

const MAX_INPUT_LENGTH = 250;
const MIN_NATIONAL_LENGTH = 2;
const MAX_NATIONAL_LENGTH = 17;
const MAX_CALLING_CODE_LENGTH = 3;

/**
 * `[+]digits` of text the fast path takes (a leading `+` kept, separators dropped), or undefined
 * for anything else.
 */
function reduce(text: string): string | undefined {
  const length = text.length;
  if (length === 0 || length > MAX_INPUT_LENGTH) return undefined;
  let reduced = "";
  let digits = 0;
  let runStart = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (runStart < 0) runStart = i;
      continue;
    }
    if (c === 43 /* + */ && i === 0) continue;
    if (c !== 32 && c !== 45 && c !== 46 && c !== 40 && c !== 41 && c !== 47) return undefined;
    if (runStart >= 0) {
      reduced += text.slice(runStart, i);
      runStart = -1;
    }
  }
  if (digits < 3) return undefined;
  if (runStart === 0 || (runStart === 1 && text.charCodeAt(0) === 43)) return text;
  if (runStart >= 0) reduced += text.slice(runStart);
  return text.charCodeAt(0) === 43 ? `+${reduced}` : reduced;
}

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

/** The library's verdict on `text`, computed without it; undefined when the text is not a shape it takes. */
function normalizeFast(text: string, defaultCountry: string): PhoneResult | undefined {
  const home = homePlan(defaultCountry);
  if (!home) return undefined;
  const reduced = reduce(text);
  if (reduced === undefined) return undefined;

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
