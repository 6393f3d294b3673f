// The bound on a bulk answer's size (README, Limits): 10,000 records, each built to make the
// longest error entry the rules and the per-record budget allow, must get a proper 400 whose body
// stays within the stated bound, and store nothing.
import { describe, expect, it } from "vitest";
import { MAX_ERROR_BYTES, utf8Length } from "../src/domain/intake/judge-records";
import { call, newTenant } from "./helpers";

/** README, Limits: "a bulk answer … at most 22.1 MB". */
const STATED_BOUND_BYTES = 22_100_000;

/** The body limit (MAX_BODY_BYTES, 20 MB): the worst case must be sendable. */
const BODY_LIMIT = 20_000_000;

/**
 * Characters JSON writes as six bytes (\u0001): an extra key named by 101 of them is the longest
 * first field. A key holds no control character (they are blank: trimmed, refused inside), so the
 * longest key an error can carry is 128 characters JSON writes as two bytes each (`"`): 256 bytes.
 */
const SIX = "\u0001";
const TWO = '"';

/** A record whose first field error alone comes near the budget: the longest key and field name. */
function escapedRecord(i: number): Record<string, unknown> {
  return {
    loan_id: TWO.repeat(128),
    first_name: "Asha",
    phone_number: "9876543210",
    emi_amount: 100,
    emi_due_date: "2026-12-05",
    [`${SIX.repeat(101)}${i}`]: {},
    [`${"\u0002".repeat(101)}${i}`]: {},
  };
}

/**
 * A record breaking every documented field with the longest message its rule has (spelled twice
 * with different values, grouped numbers quoting 40 characters, a spreadsheet phone number, an
 * unknown language), then ten extra keys with 101-character names: far more than the budget holds.
 */
function longMessagesRecord(i: number): Record<string, unknown> {
  const pad = "\t".repeat(41);
  const record: Record<string, unknown> = {
    loan_id: `L${String(i).padStart(127, "0")}`,
    [`${pad}LOAN_ID`]: `M${i}`,
    first_name: "Asha",
    [`${pad}First_Name`]: "Ravi",
    phone_number: "9.87654E+09",
    loan_amount: `1,2${"x\\".repeat(30)}`,
    emi_amount: `1,2${'"'.repeat(60)}`,
    loan_period: `1,2${"y".repeat(60)}`,
    current_emi: `1,2${"z".repeat(60)}`,
    emi_due_date: "2026-12-05",
    [`${pad}EMI_DUE_DATE`]: "2026-12-06",
    language: "klingon",
    payment_status: "pending",
    [`${pad}Payment_Status`]: "paid",
  };
  for (let k = 0; k < 10; k++) record[`${String(k)}${"v".repeat(100)}`] = [k];
  return record;
}

describe("the size of a bulk answer", () => {
  it("10,000 records each made for the longest error entry: a 400 within the stated bound, nothing stored", async () => {
    const t = await newTenant();
    const campaignId = `size-${crypto.randomUUID().slice(0, 8)}`;
    await call("POST", "/api/v1/campaigns", { id: campaignId, name: "size", campaignType: "emi" }, t.auth);
    const records = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 === 0 ? escapedRecord(i) : longMessagesRecord(i),
    );
    const body = JSON.stringify({ campaignId, records });
    expect(utf8Length(body)).toBeLessThanOrEqual(BODY_LIMIT);

    const r = await call("POST", "/api/v1/customers/add/bulk", body, t.auth);
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    const bytes = utf8Length(r.text);
    expect(bytes).toBeLessThanOrEqual(STATED_BOUND_BYTES);
    expect(r.json.results).toMatchObject({ total: 10_000, invalid: 10_000, successful: 0, failed: 10_000 });
    const errors = r.json.results.errors as { code: string; message: string; fields: unknown[] }[];
    expect(errors).toHaveLength(10_000);
    const sizes = errors.map((e) => utf8Length(JSON.stringify(e)));
    for (const [i, e] of errors.entries()) {
      expect(e.code).toBe("invalid_record");
      expect(sizes[i]).toBeLessThanOrEqual(MAX_ERROR_BYTES);
      // Every record had more fields at fault than its entry shows: the rest are counted.
      expect(e.message).toMatch(/ and \d+ more$/);
    }
    // The records reach as far as entries can now that keys hold no control characters (about
    // 1.65 KB); the budget stays the bound the README states.
    expect(Math.min(...sizes)).toBeGreaterThan(MAX_ERROR_BYTES - 600);
    console.log(
      `worst-case bulk answer: ${bytes} bytes; entries ${Math.min(...sizes)}–${Math.max(...sizes)} bytes`,
    );

    const stored = await call("GET", `/api/v1/campaigns/${campaignId}/customers`, undefined, t.auth);
    expect(stored.json.data).toEqual([]);
  }, 120_000);
});
