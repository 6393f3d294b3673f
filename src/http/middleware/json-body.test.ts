// quotePhonesAsWritten, the one pass that keeps a float-written phone number's text, held to its
// definition: JSON.parse with a reviver that reads each number's source text (which workerd's V8
// passes), the way the body used to be read.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalFieldName } from "../../domain/records/record-rules";
import { quotePhonesAsWritten } from "./json-body";

class Written {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}
}

/** The definition: a phone_number's float-written number, or a phone_numbers entry's, keeps its text. */
function reviver(this: unknown, key: string, value: unknown, context?: { source?: string }): unknown {
  const source = context?.source;
  if (typeof value === "number" && source !== undefined && /[.eE]/.test(source)) {
    if (Array.isArray(this)) return new Written(value, source);
    if (canonicalFieldName(key) === "phone_number") return source;
  }
  if (Array.isArray(value)) {
    const phones = canonicalFieldName(key) === "phone_numbers";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item instanceof Written) value[i] = phones ? item.source : item.value;
    }
  }
  return value;
}

const number = fc.constantFrom(
  "9.87654E+09",
  "98765432100e-1",
  "9876543210.0",
  "9.87654e9",
  "1.5",
  "-0.5E-3",
  "9876543210",
  "0",
  "-12",
  "1e5",
  "12.50",
);
const phoneKey = fc.constantFrom(
  "phone_number",
  "Phone_Number",
  " PHONE_NUMBER ",
  "phone\\u005fnumber",
  "phone",
);
const space = fc.constantFrom("", " ", "\n  ");
const text = fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s));

/** Bodies with phone numbers in every place the definition looks, and in places it does not. */
const body = fc
  .tuple(phoneKey, number, number, number, number, number, space, text, fc.jsonValue({ maxDepth: 3 }))
  .map(
    ([key, a, b, c, d, e, w, t, other]) =>
      `{${w}"records":[{"${key}":${w}${a},"note":${t},"x":"\\"phone_number\\": 1.5","amount":${b}},` +
      `{"phone_numbers":[${c},${w}[${d}],${t},{"phone_number":${e}}]}],` +
      `"phone_numbers":[${e}${w},${a}],"other":${JSON.stringify(other)}}`,
  );

describe("quotePhonesAsWritten", () => {
  it("reads every body as the source-text reviver does", () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(JSON.parse(quotePhonesAsWritten(b))).toEqual(JSON.parse(b, reviver as never));
      }),
      { numRuns: 1_000 },
    );
  });

  it("leaves any JSON without such numbers untouched, and malformed numbers for JSON.parse to refuse", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const b = JSON.stringify(v);
        expect(JSON.parse(quotePhonesAsWritten(b))).toEqual(JSON.parse(b, reviver as never));
      }),
      { numRuns: 500 },
    );
    const malformed = '{"phone_number": 1.}';
    expect(quotePhonesAsWritten(malformed)).toBe(malformed);
    expect(quotePhonesAsWritten('{"phone_number":9.87654E+09}')).toBe('{"phone_number":"9.87654E+09"}');
  });

  it("walks any depth without recursion", () => {
    const deep = `{"phone_numbers":[9.5,${"[".repeat(200_000)}${"]".repeat(200_000)}]}`;
    expect(quotePhonesAsWritten(deep).startsWith('{"phone_numbers":["9.5",')).toBe(true);
  });
});
