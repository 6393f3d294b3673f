import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COUNTRIES, recordArb, TYPES } from "../../../test/support/record-arbitraries";
import { recordSchemaFor, verdictFromSchema } from "./record-schema";
import { validateRecord, variablesBytes, variablesBytesBound } from "./validate-record";

describe("validateRecord", () => {
  it("normalizes a full emi record", () => {
    const v = validateRecord(
      {
        loan_id: " L1 ",
        first_name: "Asha",
        phone_number: "09876543210",
        emi_amount: 10,
        emi_due_date: "2026-12-05",
        language: "HI",
        payment_status: "Pending",
        branch: "Pune",
      },
      "emi",
      "IN",
    );
    expect(v).toEqual({
      ok: true,
      record: {
        loan_id: "L1",
        first_name: "Asha",
        phone_number: "+919876543210",
        emi_amount: 10,
        emi_due_date: "2026-12-05",
        language: "hindi",
        payment_status: "pending",
        variables: { branch: "Pune" },
      },
    });
  });
  it("names the failing field", () => {
    const v = validateRecord(
      { loan_id: "L1", first_name: "Asha", phone_number: "123", emi_amount: 10, emi_due_date: "2026-02-30" },
      "emi",
      "IN",
    );
    expect(v).toEqual({
      ok: false,
      fields: [
        { field: "phone_number", message: "is not a valid phone number" },
        {
          field: "emi_due_date",
          message: "must be a calendar date in the form YYYY-MM-DD, in the years 1900 to 2100",
        },
      ],
    });
  });
});

// The hand-written validator must give exactly the zod schema's verdicts: the same normalized
// record (down to the key order of what is stored), and on failure the same fields in the same
// order with the same messages. Generated records start valid and are then broken field by field.
describe("validateRecord agrees with the zod schema", () => {
  for (const type of TYPES) {
    it(`gives the schema's verdict on generated ${type} records`, () => {
      fc.assert(
        fc.property(recordArb, fc.constantFrom(...COUNTRIES), fc.boolean(), (generated, country, viaJson) => {
          // Half the time the record goes through JSON as a request body would (NaN becomes null).
          const input =
            viaJson && generated !== undefined ? JSON.parse(JSON.stringify(generated)) : generated;
          const expected = verdictFromSchema(recordSchemaFor(type, country), input);
          const actual = validateRecord(input, type, country);
          expect(actual).toEqual(expected);
          expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
        }),
        { numRuns: 2500 },
      );
    });
  }

  it("agrees on hand-picked edge cases", () => {
    const base = {
      loan_id: "L1",
      first_name: "Asha",
      phone_number: "9876543210",
      emi_amount: 1,
      emi_due_date: "2026-01-31",
    };
    const cases: unknown[] = [
      base,
      { ...base, current_emi: 7, loan_period: 6 },
      { ...base, current_emi: 7, loan_period: 6, last_name: "x".repeat(101) },
      { ...base, current_emi: 7, loan_period: 6, phone_number: "123" },
      { ...base, current_emi: 7, loan_period: 0 },
      { ...base, current_emi: 7, loan_period: 2 ** 60 },
      { ...base, current_emi: 2 ** 60, loan_period: 6 },
      { ...base, current_emi: 1.5, loan_period: 6 },
      { ...base, current_emi: 7, loan_period: 6, emi_amount: -1 },
      { ...base, current_emi: 7, loan_period: 6, emi_due_date: "2026-02-30" },
      { ...base, current_emi: 7, loan_period: 6, language: "xx" },
      { ...base, current_emi: 7, loan_period: 6, note: "n".repeat(1001) },
      { ...base, current_emi: 7, loan_period: 6, note: { deep: true } },
      { ...base, emi_due_date: "2026-02-30", variables: { a: 1 } },
      { ...base, payment_status: "constructor" },
      { ...base, payment_status: "__proto__" },
      { ...base, language: "Constructor" },
      { ...base, record: {} },
      { ...base, emi_amount: -0 },
      { ...base, loan_id: "   ", lead_id: null },
      { ...base, ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) },
      {
        ...base,
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
        variables: [1],
      },
      {
        ...base,
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
        loan_period: 0,
      },
      {
        ...base,
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
        current_emi: 2 ** 60,
      },
      {
        ...base,
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
        current_emi: 2.5,
      },
      { ...base, ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])), loan_id: 5 },
      {
        ...base,
        ...Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
        loan_id: "y".repeat(200),
      },
      Object.create({ loan_id: "inherited", extra: "inherited too" }),
    ];
    for (const type of TYPES) {
      for (const country of COUNTRIES) {
        for (const input of cases) {
          const expected = verdictFromSchema(recordSchemaFor(type, country), input);
          expect(validateRecord(input, type, country), JSON.stringify(input)).toEqual(expected);
        }
      }
    }
  });
});

describe("variablesBytesBound", () => {
  // Every kind of code unit JSON.stringify writes differently: plain, escaped with a backslash,
  // escaped as \uXXXX (controls, lone surrogates), two and three UTF-8 bytes, and astral pairs.
  const unit = fc.constantFrom(
    "a",
    '"',
    "\\",
    "\n",
    "\u0001",
    "\u001f",
    "\ud800",
    "\udfff",
    "é",
    "€",
    "😀",
    "\u2028",
  );
  const text = fc.array(unit, { maxLength: 40 }).map((units) => units.join(""));
  const value = fc.oneof(
    text,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(
      -0.0000012345678901234567,
      -2.2250738585072014e-308,
      -1.7976931348623157e308,
      true,
      false,
      null,
    ),
  );

  it("is never below the exact UTF-8 size of the variables as JSON", () => {
    fc.assert(
      fc.property(fc.dictionary(text, value, { maxKeys: 8 }), (raw) => {
        const extras = Object.keys(raw);
        expect(variablesBytesBound(raw, extras)).toBeGreaterThanOrEqual(variablesBytes(raw, extras));
      }),
      { numRuns: 5_000 },
    );
  });

  /** Fifty variables of at most 1,000 characters whose JSON takes exactly `bytes` UTF-8 bytes. */
  function variablesOf(bytes: number): Record<string, string> {
    const names = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    const out: Record<string, string> = Object.fromEntries(names.map((n) => [n, ""]));
    let left = bytes - variablesBytes(out, names);
    for (const n of names) {
      const controls = Math.min(1_000, Math.floor(left / 6)); // each written \u0001: 6 bytes
      const plain = Math.min(1_000 - controls, left - 6 * controls);
      out[n] = "\u0001".repeat(controls) + "a".repeat(plain);
      left -= 6 * controls + plain;
    }
    return out;
  }

  it("leaves the variables the bound cannot clear to their exact size: the limit passes, a byte more fails", () => {
    const limit = 262_144;
    const base = {
      loan_id: "L1",
      first_name: "Asha",
      phone_number: "9876543210",
      emi_amount: 10,
      emi_due_date: "2026-12-05",
    };
    const at = variablesOf(limit);
    const past = variablesOf(limit + 1);
    expect(variablesBytes(at, Object.keys(at))).toBe(limit);
    expect(variablesBytes(past, Object.keys(past))).toBe(limit + 1);
    expect(variablesBytesBound(at, Object.keys(at))).toBeGreaterThan(limit);
    expect(validateRecord({ ...base, ...at }, "emi", "IN").ok).toBe(true);
    expect(validateRecord({ ...base, ...past }, "emi", "IN")).toEqual({
      ok: false,
      fields: [{ field: "variables", message: "the extra keys may hold at most 262,144 bytes of data" }],
    });
  });
});
