import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TYPES } from "../../../test/support/record-arbitraries";
import { dedupeFieldOf, FIELDS, MESSAGES } from "../records/record-rules";
import { validateRecord } from "../records/validate-record";
import {
  invalidRecordError,
  judgeRecords,
  MAX_ERROR_BYTES,
  MAX_FIELD_ERRORS,
  utf8Length,
} from "./judge-records";

const jsonBytes = (value: unknown) => utf8Length(JSON.stringify(value));

/** The longest message a record rule writes, as JSON: a field given twice, both spellings quoted. */
const LONGEST_MESSAGE_BYTES = 623;

/** Characters JSON escapes (some as six bytes, some twice inside a quote), and wide ones. */
const nastyChar = fc.constantFrom(
  "\u0001",
  "\u000b",
  "\t",
  '"',
  "\\",
  "\ud800",
  "😀",
  "ह",
  "a",
  "1",
  ",",
  "₹",
  " ",
);
// Lengths drawn over the whole range ("max"), so that long names and quotes are common.
const nasty = (maxLength: number) => fc.array(nastyChar, { maxLength, size: "max" }).map((a) => a.join(""));

/** A documented field's name spelled another way: padded with characters JSON escapes, cased. */
const spelling = (name: string) =>
  fc
    .tuple(fc.array(fc.constantFrom("\u000b", "\t", " ", "\uFEFF"), { maxLength: 60 }), fc.boolean())
    .map(([pad, upper]) => `${pad.join("")}${upper ? name.toUpperCase() : name}`);

const value = fc.oneof(
  nasty(300),
  nasty(80).map((s) => `1,2${s}`),
  nasty(80).map((s) => `₹${s}`),
  fc.constantFrom(-1, 0, 1.5, 9876543210, "9.87654E+09", "2026-02-30", {}, [], null, true),
);

/** Records breaking any number of rules with inputs made to lengthen the messages. */
const hostileRecord = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...FIELDS.map((f) => f.name)), value), { maxLength: 13 }),
    fc.array(fc.tuple(fc.constantFrom(...FIELDS.map((f) => f.name)).chain(spelling), value), {
      maxLength: 6,
    }),
    fc.array(fc.tuple(nasty(150), value), { maxLength: 30, size: "max" }),
  )
  .map(([fields, spelled, extras]) => {
    const record: Record<string, unknown> = {};
    for (const [k, v] of [...fields, ...spelled, ...extras]) {
      Object.defineProperty(record, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return record;
  });

describe("invalidRecordError", () => {
  it("keeps every error within MAX_ERROR_BYTES and every message bounded, whatever the record carries", () => {
    fc.assert(
      fc.property(hostileRecord, fc.constantFrom(...TYPES), (record, type) => {
        const verdict = validateRecord(record, type, "IN");
        if (verdict.ok) return;
        for (const f of verdict.fields)
          expect(jsonBytes(f.message)).toBeLessThanOrEqual(LONGEST_MESSAGE_BYTES);
        const error = invalidRecordError(9_999, record, dedupeFieldOf(type), verdict.fields);
        expect(jsonBytes(error)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
        // The first fields at fault, in order, names clipped; the rest counted in the message.
        expect(error.fields.length).toBeGreaterThanOrEqual(1);
        expect(error.fields.length).toBeLessThanOrEqual(MAX_FIELD_ERRORS);
        for (const [i, shown] of error.fields.entries()) {
          const original = verdict.fields[i] as { field: string; message: string };
          expect(shown.message).toBe(original.message);
          if (original.field.length <= 100) expect(shown.field).toBe(original.field);
          else expect(original.field.startsWith(shown.field.slice(0, -1))).toBe(true);
        }
        const more = verdict.fields.length - error.fields.length;
        const names = error.fields.map((f) => f.field).join(", ");
        expect(error.message).toBe(
          `Record failed validation: ${names}${more > 0 ? ` and ${more} more` : ""}`,
        );
      }),
      { numRuns: 1_500 },
    );
  });

  it("reaches the longest message: a field given twice, under two spellings quoted in full", () => {
    const pad = "\u000b".repeat(41);
    const verdict = validateRecord({ [`${pad}loan_id`]: "A", [`${pad}LOAN_ID`]: "B" }, "emi", "IN");
    expect(verdict.ok).toBe(false);
    const loanId = !verdict.ok && verdict.fields.find((f) => f.field === "loan_id");
    expect(loanId && jsonBytes(loanId.message)).toBe(LONGEST_MESSAGE_BYTES);
  });

  it("always shows the first field: the longest first-field error fits the budget", () => {
    // The longest key (128 characters JSON writes as two bytes each: a key holds no control
    // character), a first field named by more than 100 characters JSON writes as six bytes each,
    // and a count of the rest as long as a 20 MB body allows (7 digits).
    const key = '"'.repeat(128);
    const name = "\u0002".repeat(150);
    const fields = new Array(1_000_001).fill({ field: name, message: MESSAGES.variable });
    const error = invalidRecordError(9_999, { loan_id: key }, "loan_id", fields);
    expect(error.key).toBe(key);
    expect(error.fields).toEqual([{ field: `${name.slice(0, 100)}…`, message: MESSAGES.variable }]);
    expect(error.message.endsWith(" and 1000000 more")).toBe(true);
    expect(jsonBytes(error)).toBe(2_155 - 128 * 4);
    expect(jsonBytes(error)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
  });

  it("never cuts a surrogate pair in half when it clips a name", () => {
    const name = `${"a".repeat(99)}😀😀`;
    const error = invalidRecordError(0, {}, "loan_id", [{ field: name, message: MESSAGES.variable }]);
    expect(error.fields[0]?.field).toBe(`${"a".repeat(99)}…`);
  });
});

describe("judgeRecords", () => {
  it("keeps a duplicate's error with the longest key within the budget", () => {
    const record = {
      loan_id: '"'.repeat(128),
      first_name: "Asha",
      phone_number: "9876543210",
      emi_amount: 1,
      emi_due_date: "2026-12-05",
    };
    const judged = judgeRecords(
      { customers: { encodeRow: (r) => JSON.stringify(r) } },
      { campaignType: "emi", defaultCountry: "IN" },
      [record, record],
    );
    expect(judged.errors).toHaveLength(1);
    expect(judged.errors[0]?.code).toBe("duplicate_in_request");
    expect(jsonBytes(judged.errors[0])).toBeLessThanOrEqual(MAX_ERROR_BYTES);
  });
});
