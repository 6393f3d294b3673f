import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COUNTRIES, recordArb, TYPES } from "../../../test/support/record-arbitraries";
import { recordSchemaFor, verdictFromSchema } from "./record-schema";
import { validateRecord } from "./validate-record";

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
