import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import { describe, expect, it } from "vitest";
import { normalizePhone, normalizePhoneFastPath, PHONE_MESSAGES, type PhoneResult } from "./phone";

// normalizePhone is held to a reference written here, apart from phone.ts: bulkcall's reading rules
// as the contract states them (code point sets copied from the Unicode tables, digit values taken
// from the runtime's numbering systems, whole-text string checks instead of a character loop),
// followed by the library's own parser on what they leave. The tests compare the two on example
// numbers of every country written every common way, on mutations of them, on random digit
// strings, on Unicode writings, on spreadsheet numbers, and on arbitrary text; and they check the
// rules themselves against numbers whose answer is known.

const COUNTRIES = getCountries();
const EXAMPLES = examples as Partial<Record<CountryCode, string>>;
const callingCode = (country: CountryCode) => getCountryCallingCode(country) as string;

// ---------------------------------------------------------------------------------------------
// The reference.

const codePoints = (...items: (number | readonly [number, number])[]) =>
  items.flatMap((item) =>
    typeof item === "number"
      ? [String.fromCodePoint(item)]
      : Array.from({ length: item[1] - item[0] + 1 }, (_, k) => String.fromCodePoint(item[0] + k)),
  );

/** General category Zs (Unicode 16). */
const SPACES = codePoints(0x20, 0xa0, 0x1680, [0x2000, 0x200a], 0x202f, 0x205f, 0x3000);
/** General category Pd (Unicode 16), and U+2212 MINUS SIGN. */
const DASHES = codePoints(
  0x2d,
  0x58a,
  0x5be,
  0x1400,
  0x1806,
  [0x2010, 0x2015],
  0x2e17,
  0x2e1a,
  0x2e3a,
  0x2e3b,
  0x2e40,
  0x2e5d,
  0x301c,
  0x3030,
  0x30a0,
  0xfe31,
  0xfe32,
  0xfe58,
  0xfe63,
  0xff0d,
  0x10d6e,
  0x10ead,
  0x2212,
);
/** Invisible formatting characters: zero-width space to right-to-left mark, word joiner, BOM, soft hyphen. */
const INVISIBLE = codePoints([0x200b, 0x200f], 0x2060, 0xfeff, 0xad);
/** White space that is not Zs: tab, line feed, vertical tab, form feed, carriage return, line and paragraph separators. */
const OTHER_WHITE_SPACE = codePoints([0x09, 0x0d], 0x2028, 0x2029);
/** Dots, slashes and brackets, ASCII and full-width. */
const MARKS = [..."./()[]．／（）［］"];
const SEPARATORS = new Set([...SPACES, ...DASHES, ...INVISIBLE, ...OTHER_WHITE_SPACE, ...MARKS]);

/**
 * Every decimal digit the runtime's numbering systems write, with its value: ASCII, full-width,
 * Arabic-Indic, Devanagari, Bengali, Thai, the mathematical digits... Only systems whose ten
 * digits are ten characters in a row (so not hanidec's 〇一二三).
 */
const NUMBERING_SYSTEMS = new Map<string, string[]>();
for (const system of Intl.supportedValuesOf("numberingSystem")) {
  const format = new Intl.NumberFormat("en", { numberingSystem: system, useGrouping: false });
  const digits = Array.from({ length: 10 }, (_, d) => format.format(d));
  const zero = digits[0]?.codePointAt(0) as number;
  if (digits.every((d, k) => [...d].length === 1 && d.codePointAt(0) === zero + k)) {
    NUMBERING_SYSTEMS.set(system, digits);
  }
}
const DIGIT_VALUES = new Map<string, number>();
for (const digits of NUMBERING_SYSTEMS.values()) {
  digits.forEach((d, value) => {
    DIGIT_VALUES.set(d, value);
  });
}

const refusal = (message: string): PhoneResult => ({ ok: false, message });
const TYPE = refusal(PHONE_MESSAGES.type);
const INVALID = refusal(PHONE_MESSAGES.invalid);
const EXTENSION = refusal(PHONE_MESSAGES.extension);
const SPREADSHEET = refusal(PHONE_MESSAGES.spreadsheet);
const CHARACTERS = refusal(PHONE_MESSAGES.characters);

/**
 * The text's shape: digits as ASCII digits, `e` for e and E, `+`, `?` for any other non-separator,
 * and each run of separators, dots and commas as its first dot or comma, or else one space; no
 * run at either end.
 */
function shapeOf(text: string): string {
  let shape = "";
  for (const character of text) {
    const value = DIGIT_VALUES.get(character);
    if (value !== undefined) shape += value;
    else if ("eEｅＥ".includes(character)) shape += "e";
    else if ("+＋".includes(character)) shape += "+";
    else if (".．".includes(character)) shape += ".";
    else if (",，".includes(character)) shape += ",";
    else shape += SEPARATORS.has(character) ? " " : "?";
  }
  return shape.replace(/[ .,]+/g, (run) => run.match(/[.,]/)?.[0] ?? " ").replace(/^[ .,]|[ .,]$/g, "");
}

const isDigits = (s: string) => s !== "" && [...s].every((c) => c >= "0" && c <= "9");

/** The contract's "looks like a spreadsheet number", read off the shape. */
function looksLikeSpreadsheetNumber(text: string): boolean {
  const shape = shapeOf(text);
  // An exponent: a digit (maybe followed by a dot or comma and more digits), e, an optional +,
  // digits, at the end.
  const e = shape.lastIndexOf("e");
  if (e > 0) {
    const mantissa = shape.slice(0, e).replace(/ $/, "");
    const exponent = shape.slice(e + 1).replace(/^ ?\+? ?/, "");
    const dot = Math.max(mantissa.lastIndexOf("."), mantissa.lastIndexOf(","));
    const endsInDigit =
      /\d$/.test(mantissa) || (dot >= 0 && dot === mantissa.length - 1 && /\d$/.test(mantissa.slice(0, dot)));
    if (isDigits(exponent) && endsInDigit) return true;
  }
  // A decimal fraction: digits after the last dot or comma, which follows a digit.
  const mark = Math.max(shape.lastIndexOf("."), shape.lastIndexOf(","));
  if (mark <= 0 || !/\d/.test(shape[mark - 1] as string)) return false;
  const before = shape.slice(0, mark);
  const after = shape.slice(mark + 1);
  if (!isDigits(after)) return false;
  const onlyMark = !before.includes(".") && !before.includes(",");
  return after.length === 1 || (onlyMark && /^0+$/.test(after)) || isDigits(before);
}

/** What bulkcall answers, by the contract's rules and the library. */
function reference(input: unknown, country: string): PhoneResult {
  let text: string;
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return TYPE;
    if (!Number.isSafeInteger(input) || input < 1) return SPREADSHEET;
    text = String(input);
  } else if (typeof input === "string") {
    text = input;
  } else {
    return TYPE;
  }
  if (text.length > 250) return INVALID;
  if (looksLikeSpreadsheetNumber(text)) return SPREADSHEET;
  let digits = "";
  let plus = false;
  for (const character of text) {
    const value = DIGIT_VALUES.get(character);
    if (value !== undefined) digits += value;
    else if (SEPARATORS.has(character)) continue;
    else if ((character === "+" || character === "＋") && !plus && digits === "") plus = true;
    else {
      // Refused; the library only picks the message.
      const parsed = parsePhoneNumberFromString(text, { defaultCountry: country as CountryCode });
      return parsed?.isValid() && parsed.ext ? EXTENSION : CHARACTERS;
    }
  }
  const parsed = parsePhoneNumberFromString(`${plus ? "+" : ""}${digits}`, {
    defaultCountry: country as CountryCode,
  });
  return parsed?.isValid() ? { ok: true, e164: parsed.number } : INVALID;
}

function expectSame(input: unknown, country: string) {
  const expected = reference(input, country);
  expect(normalizePhone(input, country), `${JSON.stringify(input)} for ${country}`).toEqual(expected);
  const fast = normalizePhoneFastPath(input, country);
  if (fast !== undefined) expect(fast, `${JSON.stringify(input)} for ${country}`).toEqual(expected);
}

// ---------------------------------------------------------------------------------------------
// Generators.

/** Ways people type a number whose national significant number is `national`. */
function writings(country: CountryCode, national: string): string[] {
  const cc = callingCode(country);
  const spaced = national.replace(/(\d{3})(?=\d)/g, "$1 ");
  return [
    national,
    `0${national}`,
    `${cc}${national}`,
    `+${cc}${national}`,
    `+${cc} ${spaced}`,
    `+${cc}-${national.slice(0, 3)}-${national.slice(3)}`,
    `(${national.slice(0, 3)}) ${national.slice(3)}`,
    `00${cc}${national}`,
    `011${cc}${national}`,
    `8${national}`,
    `1${national}`,
    `${cc}0${national}`,
    `+${cc}0${national}`,
    `${cc}${cc}${national}`,
    `1${cc}${national}`,
    `0${cc}${national}`,
    `${national}.`,
    ` ${national} `,
  ];
}

const countryArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<CountryCode>("IN", "US", "GB") },
  { weight: 4, arbitrary: fc.constantFrom(...COUNTRIES) },
  { weight: 1, arbitrary: fc.constantFrom("XX", "in", "", "001", "constructor") },
);
const digit = fc.constantFrom(..."0123456789");
const separator = fc.constantFrom(" ", "-", ".", "(", ")", "/", "", "", "", "");
const digitsArb = (minLength: number, maxLength: number) => fc.string({ unit: digit, minLength, maxLength });

/** Digits with separators sprinkled between them, maybe a leading `+`. */
const formatted = (digits: fc.Arbitrary<string>) =>
  fc
    .tuple(digits, fc.array(separator, { maxLength: 20 }), fc.boolean(), separator)
    .map(([ds, seps, plus, lead]) => {
      let out = "";
      for (let i = 0; i < ds.length; i++) out += (seps[i] ?? "") + ds[i];
      return (plus ? "+" : lead) + out;
    });

/** An example number of some country, written some way, maybe with one digit changed, added or dropped. */
const nearReal = fc
  .tuple(
    fc.constantFrom(...COUNTRIES.filter((c) => EXAMPLES[c])),
    fc.nat(),
    fc.constantFrom("keep", "change", "add", "drop"),
    fc.nat(),
    digit,
  )
  .map(([owner, which, mutation, at, d]) => {
    const all = writings(owner, EXAMPLES[owner] as string);
    const text = all[which % all.length] as string;
    const i = at % text.length;
    if (mutation === "change") return text.slice(0, i) + d + text.slice(i + 1);
    if (mutation === "add") return text.slice(0, i) + d + text.slice(i);
    if (mutation === "drop") return text.slice(0, i) + text.slice(i + 1);
    return text;
  });

const oddText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(..."0123456789+-. ()/x#,;*~ext："), maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(..."0123456789０１２３٠١٢۰۱"), minLength: 3, maxLength: 16 }),
  digitsArb(240, 260),
  fc.constantFrom("+", "++91", "tel:+91-98765-43210", "+91 98765 43210;ext=5", "98765 43210 #12", "  ", ""),
);

const numberInput = fc.oneof(
  fc.integer({ min: -1e6, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(919876543210, 9876543210, 2025550123, 447911123456, 0, -9876543210, 98765.5, 2 ** 60),
  fc.double(),
);

const SEPARATOR_LIST = [...SEPARATORS];
const SYSTEM_LIST = [...NUMBERING_SYSTEMS.values()];
const unicodeSeparator = fc.constantFrom(...SEPARATOR_LIST);
/** 1-3 separators of any kind, often plain ones. */
const separatorRun = fc.oneof(
  fc.constantFrom(" ", "-", ".", "(", ")", "/"),
  fc.string({ unit: unicodeSeparator, minLength: 1, maxLength: 3 }),
);

/**
 * `plain` (an optional `+` and ASCII digits) written another way: digits in some script (now and
 * then a different one per digit), cut into groups with runs of separators between them and maybe
 * at either end, the plus maybe full-width.
 */
const decorate = (plain: string) =>
  fc
    .record({
      system: fc.constantFrom(...SYSTEM_LIST),
      mixed: fc.boolean(),
      perDigit: fc.array(fc.constantFrom(...SYSTEM_LIST), {
        minLength: plain.length,
        maxLength: plain.length,
      }),
      cuts: fc.array(fc.option(separatorRun, { freq: 2 }), {
        minLength: plain.length,
        maxLength: plain.length,
      }),
      lead: fc.option(separatorRun),
      trail: fc.option(separatorRun),
      fullWidthPlus: fc.boolean(),
    })
    .map(({ system, mixed, perDigit, cuts, lead, trail, fullWidthPlus }) => {
      let out = lead ?? "";
      [...plain].forEach((c, i) => {
        if (i > 0) out += cuts[i] ?? "";
        if (c === "+") out += fullWidthPlus ? "＋" : "+";
        else out += ((mixed ? perDigit[i] : system) ?? system)[Number(c)];
      });
      return out + (trail ?? "");
    });

interface Known {
  /** The number, `+` and ASCII digits only, written in a way the library reads as `e164` under `country`. */
  plain: string;
  country: string;
  e164: string;
}

/**
 * Example numbers of every country in plain writings whose meaning is known: international with
 * `+` under any default country; national, with a trunk prefix 0, with the calling code and no
 * `+`, or after the 00 international prefix, under the owner's country. A writing is kept only
 * when the library, given exactly that ASCII text, reads it as the number.
 */
const KNOWN: Known[] = COUNTRIES.flatMap((owner) => {
  const national = EXAMPLES[owner];
  if (!national) return [];
  const cc = callingCode(owner);
  const e164 = `+${cc}${national}`;
  const candidates: [string, string][] = [
    [`+${cc}${national}`, owner],
    [`+${cc}${national}`, "IN"],
    [`+${cc}${national}`, "US"],
    [national, owner],
    [`0${national}`, owner],
    [`${cc}${national}`, owner],
    [`00${cc}${national}`, owner],
  ];
  return candidates
    .filter(([plain, country]) => {
      const parsed = parsePhoneNumberFromString(plain, { defaultCountry: country as CountryCode });
      return parsed?.isValid() && parsed.number === e164;
    })
    .map(([plain, country]) => ({ plain, country, e164 }));
});

/** A known number written some accepted way. */
const knownWriting = fc
  .constantFrom(...KNOWN)
  .chain((known) => decorate(known.plain).map((text) => ({ ...known, text })));

const fractionMark = fc.constantFrom(".", ",", "．", "，");
/** A decimal fraction as spreadsheets append it: .0, .00, .000, or one digit. */
const fractionDigits = fc.oneof(fc.constantFrom("0", "00", "000"), digit);

/** A number's digits as a spreadsheet prints them with an exponent: 9.87654E+09, 9.876543210e9, 9E9. */
const exponentOf = (digits: string) =>
  fc
    .record({
      kept: fc.integer({ min: 0, max: digits.length - 1 }),
      mark: fc.constantFrom(".", ",", "．"),
      e: fc.constantFrom("E", "e", "Ｅ", "ｅ"),
      sign: fc.constantFrom("+", "", "＋", "-"),
      pad: fc.boolean(),
      plus: fc.boolean(),
    })
    .map(({ kept, mark, e, sign, pad, plus }) => {
      const mantissa = kept === 0 ? digits[0] : `${digits[0]}${mark}${digits.slice(1, kept + 1)}`;
      const power = String(digits.length - 1);
      return `${plus ? "+" : ""}${mantissa}${e}${sign}${pad ? power.padStart(2, "0") : power}`;
    });

/** Text that is, or nearly is, a spreadsheet number. */
const spreadsheetish = fc.oneof(
  fc
    .tuple(knownWriting, fractionMark, fractionDigits, fc.option(separatorRun))
    .map(([w, mark, f, sep]) => `${w.text}${sep ?? ""}${mark}${f}`),
  fc.constantFrom(...KNOWN).chain((k) => exponentOf(k.plain.replace("+", ""))),
  fc.string({ unit: fc.constantFrom(..."0123456789.,eE+- ．，"), maxLength: 20 }),
  fc.double().map(String),
);

const anyCharacter = fc.oneof(
  digit,
  unicodeSeparator,
  fc.constantFrom(...DIGIT_VALUES.keys()),
  fc.constantFrom(..."+＋.,eExX#*;:~'_abcdefghijklmnopqrstuvwxyz"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);

const phoneInput = fc.oneof(
  { weight: 5, arbitrary: nearReal },
  { weight: 4, arbitrary: formatted(digitsArb(1, 20)) },
  { weight: 2, arbitrary: oddText },
  { weight: 2, arbitrary: numberInput },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, {}, ["9876543210"]) },
  { weight: 3, arbitrary: nearReal.chain((text) => decorate(text.replace(/[^+\d]/g, ""))) },
  { weight: 2, arbitrary: knownWriting.map((w) => w.text) },
  { weight: 2, arbitrary: spreadsheetish },
  { weight: 2, arbitrary: fc.string({ unit: anyCharacter, maxLength: 24 }) },
);

// ---------------------------------------------------------------------------------------------

/** Time allowed to the sweeps below: tens of thousands of library parses (some seconds each). */
const SWEEP_TIMEOUT_MS = 60_000;

describe("normalizePhone against the reference", () => {
  it(
    "answers like the reference for example numbers in every common writing, under every default country",
    () => {
      const owners = COUNTRIES.filter((c) => EXAMPLES[c]);
      const usual: CountryCode[] = ["IN", "US", "GB", "JP"];
      COUNTRIES.forEach((country, i) => {
        // The country's own numbers, the usual foreign ones, and a spread of others that moves with i.
        const picked = [
          country,
          ...usual,
          ...[1, 2, 3, 4, 5, 6, 7, 8].map((k) => owners[(i * 13 + k * 31) % owners.length]),
        ];
        for (const owner of picked) {
          const national = owner && EXAMPLES[owner];
          if (!national) continue;
          for (const text of writings(owner, national)) expectSame(text, country);
        }
      });
    },
    SWEEP_TIMEOUT_MS,
  );

  it("answers the common shapes on the fast path instead of asking the library", () => {
    for (const text of [
      "9876543210",
      "09876543210",
      "919876543210",
      "+91 98765-43210",
      "+91 (987) 654.3210",
      "(+91) 98765\u202F43210",
      "９８７６５４３２１０",
      "＋９１ ９８７６５ ４３２１０",
    ]) {
      expect(normalizePhoneFastPath(text, "IN"), text).toEqual({ ok: true, e164: "+919876543210" });
    }
    expect(normalizePhoneFastPath(919876543210, "IN")).toEqual({ ok: true, e164: "+919876543210" });
    expect(normalizePhoneFastPath("12345", "IN")).toEqual(INVALID);
    expect(normalizePhoneFastPath("9876543210.0", "IN")).toEqual(SPREADSHEET);
    expect(normalizePhoneFastPath(9876543210.5, "IN")).toEqual(SPREADSHEET);
    // Refused text asks the library only which message to give; an unknown country goes to it whole.
    for (const text of ["98765 43210 ext 12", "98765x43210", "+91+9876543210", "tel:+919876543210"]) {
      expect(normalizePhoneFastPath(text, "IN"), text).toBeUndefined();
    }
    expect(normalizePhoneFastPath("9876543210", "XX")).toBeUndefined();
  });

  it(
    "answers like the reference on generated input",
    () => {
      fc.assert(
        fc.property(phoneInput, countryArb, (input, country) => {
          expectSame(input, country);
        }),
        { numRuns: 20_000 },
      );
    },
    SWEEP_TIMEOUT_MS,
  );
});

describe("normalizePhone never turns punctuation into digits", () => {
  it(
    "reads a known number written any accepted way as exactly that number",
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(knownWriting, ({ text, country, e164 }) => {
          const result = normalizePhone(text, country);
          // A dot right before the last group can make a writing a decimal numeral (98765.43210,
          // 987654321.0); those are refused whole, never read as some number.
          if (looksLikeSpreadsheetNumber(text)) {
            expect(result, text).toEqual(SPREADSHEET);
          } else {
            expect(result, `${JSON.stringify(text)} for ${country}`).toEqual({ ok: true, e164 });
            accepted++;
          }
        }),
        { numRuns: 10_000 },
      );
      expect(accepted).toBeGreaterThan(9_000);
    },
    SWEEP_TIMEOUT_MS,
  );

  it(
    "refuses a writing that adds a decimal fraction or an exponent, and never reads it as a number",
    () => {
      const withFraction = fc
        .tuple(knownWriting, fractionMark, fractionDigits, fc.option(separatorRun), fc.option(separatorRun))
        // Zeros after a writing that already has dots are a dotted writing of a longer number
        // ("01.23.45.67.00"); only one digit after the mark marks a fraction there.
        .filter(([w, , f]) => f.length === 1 || !/[.．]/.test(w.text))
        .map(([w, mark, f, before, after]) => ({
          ...w,
          text: `${w.text}${before ?? ""}${mark}${f}${after ?? ""}`,
        }));
      const withExponent = fc
        .constantFrom(...KNOWN)
        .chain((k) => exponentOf(k.plain.replace("+", "")).map((text) => ({ ...k, text })));
      fc.assert(
        fc.property(fc.oneof(withFraction, withExponent), ({ text, country }) => {
          expect(normalizePhone(text, country), text).toEqual(SPREADSHEET);
        }),
        { numRuns: 10_000 },
      );
    },
    SWEEP_TIMEOUT_MS,
  );

  it("reads a JSON number only when it is a safe positive integer", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ noNaN: true }), fc.maxSafeInteger(), fc.bigInt().map(Number)),
        countryArb,
        (n, country) => {
          const result = normalizePhone(n, country);
          if (!Number.isFinite(n)) expect(result).toEqual(TYPE);
          else if (Number.isSafeInteger(n) && n > 0) expect(result).toEqual(reference(String(n), country));
          else expect(result, String(n)).toEqual(SPREADSHEET);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("refuses the spreadsheet numbers users sent, for every default country they came with", () => {
    for (const [input, country] of [
      ["8123456789.0", "ID"],
      ["987654321.0", "IN"],
      ["9876543210.00", "IN"],
      ["9.87654E+09", "IN"],
      ["9.87654e9", "IN"],
      ["8123456789,0", "ID"],
      [9876543210.5, "IN"],
      [1e21, "IN"],
      [2 ** 60, "IN"],
    ] as const) {
      expect(normalizePhone(input, country), String(input)).toEqual(SPREADSHEET);
    }
    // The writings of the same numbers without the fraction are fine.
    expect(normalizePhone("8123456789", "ID")).toEqual({ ok: true, e164: "+628123456789" });
    expect(normalizePhone("01.23.45.67.00", "FR")).toEqual({ ok: true, e164: "+33123456700" });
  });

  it("treats every Unicode space, dash and invisible formatting character as a separator", () => {
    // The ones users found refused, next to the ones that were always accepted.
    for (const c of ["\u202F", "\u2007", "\u2009", "\u00A0", "\u2011", "\u2013", "\u3000"]) {
      expect(normalizePhone(`98765${c}43210`, "IN"), c).toEqual({ ok: true, e164: "+919876543210" });
    }
    for (const c of SEPARATOR_LIST) {
      const hex = `U+${(c.codePointAt(0) as number).toString(16).toUpperCase()}`;
      expect(normalizePhone(`+91 98765${c}43210`, "IN"), hex).toEqual({ ok: true, e164: "+919876543210" });
      expect(normalizePhone(`${c}+91${c}98765${c}${c}43210${c}`, "IN"), hex).toEqual({
        ok: true,
        e164: "+919876543210",
      });
    }
  });

  it(
    "reads every Unicode decimal digit as its value, and no other character as a digit",
    () => {
      expect(DIGIT_VALUES.size).toBeGreaterThanOrEqual(600);
      const wrong: string[] = [];
      for (let cp = 0; cp <= 0x10ffff; cp++) {
        const c = String.fromCodePoint(cp);
        const value = DIGIT_VALUES.get(c);
        const asLast = normalizePhoneFastPath(`+91 98765 4321${c}`, "IN");
        let right: boolean;
        if (value !== undefined) right = asLast?.ok === true && asLast.e164 === `+91987654321${value}`;
        else if (SEPARATORS.has(c)) right = normalizePhone(`+91 98765${c}43210`, "IN").ok;
        // Anything else is refused (the library is asked only for the message).
        else right = asLast === undefined;
        if (!right) wrong.push(`U+${cp.toString(16)} → ${JSON.stringify(asLast)}`);
      }
      expect(wrong).toEqual([]);
    },
    SWEEP_TIMEOUT_MS,
  );

  it("refuses letters, prose, tel: URIs and extensions with a message saying why", () => {
    for (const [text, country, expected] of [
      ["1-800-FLOWERS", "US", CHARACTERS],
      ["1-800-356-9377", "US", { ok: true, e164: "+18003569377" }],
      ["Phone: 98765 43210", "IN", CHARACTERS],
      ["'9876543210", "IN", CHARACTERS],
      ["tel:+91-98765-43210", "IN", CHARACTERS],
      ["98765 43210;phone-context=+91", "IN", CHARACTERS],
      ["+91+9876543210", "IN", CHARACTERS],
      ["98765 43210 #", "IN", CHARACTERS],
      ["+91 98765 43210 ext 12", "IN", EXTENSION],
      ["tel:+91-98765-43210;ext=5", "IN", EXTENSION],
      ["9876543210\n", "IN", { ok: true, e164: "+919876543210" }],
    ] as const) {
      expect(normalizePhone(text, country), text).toEqual(expected);
    }
  });
});
