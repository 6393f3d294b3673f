import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import { type CountryCode, getCountries, getCountryCallingCode } from "libphonenumber-js/max";
import { describe, expect, it } from "vitest";
import { normalizePhone, normalizePhoneFastPath, normalizePhoneReference } from "./phone";

// The fast path must give exactly the library's answer. These tests compare the two on example
// numbers of every country written every common way, on mutations of them, on random digit
// strings, and on text the fast path must hand to the library.

const COUNTRIES = getCountries();
const EXAMPLES = examples as Partial<Record<CountryCode, string>>;
const callingCode = (country: CountryCode) => getCountryCallingCode(country) as string;

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

function expectSame(input: unknown, country: string) {
  const reference = normalizePhoneReference(input, country);
  expect(normalizePhone(input, country), `${JSON.stringify(input)} for ${country}`).toEqual(reference);
  const fast = normalizePhoneFastPath(input, country);
  if (fast !== undefined) expect(fast, `${JSON.stringify(input)} for ${country}`).toEqual(reference);
}

describe("normalizePhone fast path", () => {
  it("answers like the library for example numbers in every common writing, under every default country", () => {
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
  });

  it("takes the common shapes itself instead of handing them to the library", () => {
    for (const text of [
      "9876543210",
      "09876543210",
      "919876543210",
      "+91 98765-43210",
      "+91 (987) 654.3210",
    ]) {
      expect(normalizePhoneFastPath(text, "IN"), text).toEqual({ ok: true, e164: "+919876543210" });
    }
    expect(normalizePhoneFastPath(919876543210, "IN")).toEqual({ ok: true, e164: "+919876543210" });
    expect(normalizePhoneFastPath("12345", "IN")).toEqual({
      ok: false,
      message: "is not a valid phone number",
    });
    // Shapes it must leave to the library: extensions, letters, non-ASCII digits, a bad country.
    for (const text of [
      "98765 43210 ext 12",
      "98765x43210",
      "９８７６５４３２１０",
      "+91+9876543210",
      "tel:+919876543210",
    ]) {
      expect(normalizePhoneFastPath(text, "IN"), text).toBeUndefined();
    }
    expect(normalizePhoneFastPath("9876543210", "XX")).toBeUndefined();
  });

  const countryArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<CountryCode>("IN", "US", "GB") },
    { weight: 4, arbitrary: fc.constantFrom(...COUNTRIES) },
    { weight: 1, arbitrary: fc.constantFrom("XX", "in", "", "001", "constructor") },
  );
  const digit = fc.constantFrom(..."0123456789");
  const separator = fc.constantFrom(" ", "-", ".", "(", ")", "/", "", "", "", "");
  const digitsArb = (minLength: number, maxLength: number) =>
    fc.string({ unit: digit, minLength, maxLength });

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

  const phoneInput = fc.oneof(
    { weight: 5, arbitrary: nearReal },
    { weight: 4, arbitrary: formatted(digitsArb(1, 20)) },
    { weight: 2, arbitrary: oddText },
    { weight: 2, arbitrary: numberInput },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, {}, ["9876543210"]) },
  );

  it("answers like the library on generated input", () => {
    fc.assert(
      fc.property(phoneInput, countryArb, (input, country) => {
        expectSame(input, country);
      }),
      { numRuns: 20_000 },
    );
  });
});
