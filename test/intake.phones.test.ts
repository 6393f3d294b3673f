// Phone numbers through the Worker: what is stored for spreadsheet numbers and Unicode separators,
// for customers and for the suppression list.
import { describe, expect, it } from "vitest";
import { PHONE_MESSAGES } from "../src/domain/records/phone";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";
const SPREADSHEET = PHONE_MESSAGES.spreadsheet;

type Auth = Record<string, string>;

async function storedPhones(campaignId: string, auth: Auth): Promise<Record<string, string>> {
  const list = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  expect(list.status, list.text).toBe(200);
  return Object.fromEntries(list.json.data.map((c: any) => [c.loan_id, c.phone_number]));
}

async function suppressed(auth: Auth): Promise<string[]> {
  const list = await call("GET", "/api/v1/suppressions", undefined, auth);
  expect(list.status, list.text).toBe(200);
  return list.json.data.map((s: any) => s.phone_number);
}

/** The records posted with `phones` (one each, in order), their loan ids and the answer. */
async function post(campaignId: string, phones: unknown[], auth: Auth) {
  const records = phones.map((phone_number, i) => loanRecord(i, { phone_number }));
  const r = await call("POST", BULK, { campaignId, records }, auth);
  return { r, ids: records.map((record) => record.loan_id) };
}

describe("phone numbers that look like spreadsheet numbers", () => {
  it("refuses fractions and exponents with a message naming the fix, and stores only the plain number", async () => {
    const t = await newTenant();
    expect(SPREADSHEET).toMatch(/spreadsheet number/);
    expect(SPREADSHEET).toMatch(/format the phone column as text/);
    const refused = ["987654321.0", "9876543210.00", "9.87654E+09", "9.87654e9", 9876543210.5, 1e21];
    const { r, ids } = await post("emi", [...refused, "9876543210"], t.auth);
    expect(r.status, r.text).toBe(207);
    expect(r.json.results).toMatchObject({ total: 7, valid: 1, invalid: 6, successful: 1, failed: 6 });
    expect(r.json.results.errors).toEqual(
      refused.map((_, index) => ({
        index,
        key: ids[index],
        code: "invalid_record",
        message: "Record failed validation: phone_number",
        fields: [{ field: "phone_number", message: SPREADSHEET }],
      })),
    );
    // Only the last record is stored; "987654321.0" is not +919876543210 (someone else's number).
    expect(await storedPhones("emi", t.auth)).toEqual({ [ids[6] as string]: "+919876543210" });
  });

  it("refuses 8123456789.0 in a campaign whose default country is Indonesia", async () => {
    const t = await newTenant();
    const created = await call(
      "POST",
      "/api/v1/campaigns",
      { id: "jakarta", name: "Jakarta", campaignType: "emi", defaultCountry: "ID", timezone: "Asia/Jakarta" },
      t.auth,
    );
    expect(created.status, created.text).toBe(201);
    const { r, ids } = await post("jakarta", ["8123456789.0", "+62 812-3456-789.0", "8123456789"], t.auth);
    expect(r.status, r.text).toBe(207);
    expect(r.json.results.errors.map((e: any) => [e.index, e.fields])).toEqual([
      [0, [{ field: "phone_number", message: SPREADSHEET }]],
      [1, [{ field: "phone_number", message: SPREADSHEET }]],
    ]);
    // Not +6281234567890: only the number written without a fraction is stored.
    expect(await storedPhones("jakarta", t.auth)).toEqual({ [ids[2] as string]: "+628123456789" });
  });
});

describe("phone numbers sent as JSON numbers written like spreadsheet numbers", () => {
  it("are judged by the text they were written in: 9.87654E+09 is refused, not dialled as 9876540000", async () => {
    const t = await newTenant();
    const written = ["9.87654E+09", "98765432100e-1", "9876543210.0", "9.87654e9"];
    const records = written.map(
      (text, i) =>
        `{"loan_id":"SN-${i}","first_name":"A","phone_number":${text},"emi_amount":1,"emi_due_date":"2026-12-05"}`,
    );
    records.push(
      '{"loan_id":"SN-OK","first_name":"A","phone_number":9876543210,"emi_amount":12500.5,"emi_due_date":"2026-12-05"}',
    );
    const r = await call("POST", BULK, `{"campaignId":"emi","records":[${records.join(",")}]}`, t.auth);
    expect(r.status, r.text).toBe(207);
    expect(r.json.results.errors.map((e: any) => [e.key, e.fields])).toEqual(
      written.map((_, i) => [`SN-${i}`, [{ field: "phone_number", message: SPREADSHEET }]]),
    );
    // A whole number stays a number, and other numbers (the amount) are read as ever.
    expect(await storedPhones("emi", t.auth)).toEqual({ "SN-OK": "+919876543210" });

    const s = await call(
      "POST",
      "/api/v1/suppressions",
      '{"phone_numbers":[9.87654E+09,9876543211]}',
      t.auth,
    );
    expect(s.status, s.text).toBe(207);
    expect(await suppressed(t.auth)).toEqual(["+919876543211"]);

    // Next to an entry nested 10,000 levels deep, the float is still read as written (the reading
    // walks any depth with its own stack): each entry is refused on its own, the valid one kept.
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const nested = await call(
      "POST",
      "/api/v1/suppressions",
      `{"phone_numbers":[9.87654E+09,${deep},9876543212]}`,
      t.auth,
    );
    expect(nested.status, nested.text.slice(0, 300)).toBe(207);
    expect(JSON.stringify(nested.json)).toContain("spreadsheet");
    expect(await suppressed(t.auth)).toEqual(["+919876543211", "+919876543212"]);
  });
});

describe("phone numbers with Unicode separators and digits", () => {
  it("stores every one as exactly +919876543210", async () => {
    const t = await newTenant();
    const phones = [
      // Refused before, though their neighbours were accepted.
      "98765\u202F43210",
      "98765\u200743210",
      "98765\u200943210",
      "98765\u00A043210",
      "98765\u201143210",
      "98765\u201343210",
      "98765\u300043210",
      // Spaces, dashes, the minus sign and invisible characters anywhere.
      "\uFEFF+91\u00A098765\u2212\u200B43210\u200E",
      "98765\u2E3A43210",
      "98765\uFE6343210",
      "(+91)\u168098765\u00AD43210",
      "98765\u206043210\n",
      // Full-width and Devanagari digits.
      "＋９１ ９８７６５ ４３２１０",
      "९८७६५ ४३२१०",
    ];
    const { r, ids } = await post("emi", phones, t.auth);
    expect(r.status, r.text).toBe(201);
    expect(await storedPhones("emi", t.auth)).toEqual(
      Object.fromEntries(ids.map((id) => [id, "+919876543210"])),
    );
  });

  it("refuses letters and tel: URIs with a message saying which characters are read", async () => {
    const t = await newTenant();
    const { r } = await post("emi", ["98765-FLOWER", "tel:+91-98765-43210", "9876543210"], t.auth);
    expect(r.status, r.text).toBe(207);
    expect(r.json.results.errors.map((e: any) => e.fields)).toEqual([
      [{ field: "phone_number", message: PHONE_MESSAGES.characters }],
      [{ field: "phone_number", message: PHONE_MESSAGES.characters }],
    ]);
    expect(Object.values(await storedPhones("emi", t.auth))).toEqual(["+919876543210"]);
  });
});

describe("the suppression list reads numbers the same way", () => {
  it("refuses 8123456789.0 under either default country and adds nothing", async () => {
    const t = await newTenant();
    for (const body of [
      { phone_numbers: ["8123456789.0"] },
      { phone_numbers: ["8123456789.0"], defaultCountry: "ID" },
    ]) {
      const r = await call("POST", "/api/v1/suppressions", body, t.auth);
      expect(r.status, r.text).toBe(400);
      expect(r.json.results).toMatchObject({ total: 1, valid: 0, invalid: 1, added: 0 });
      expect(r.json.results.errors).toEqual([
        { index: 0, phone_number: "8123456789.0", message: `phone_number ${SPREADSHEET}` },
      ]);
    }
    expect(await suppressed(t.auth)).toEqual([]);

    // Next to valid entries: the valid ones are stored, the spreadsheet ones are not.
    const mixed = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: ["8123456789.0", "8123456789", 9876543210.5, "9.87654E+09"], defaultCountry: "ID" },
      t.auth,
    );
    expect(mixed.status, mixed.text).toBe(207);
    expect(mixed.json.results.errors.map((e: any) => [e.index, e.message])).toEqual([
      [0, `phone_number ${SPREADSHEET}`],
      [2, `phone_number ${SPREADSHEET}`],
      [3, `phone_number ${SPREADSHEET}`],
    ]);
    expect(await suppressed(t.auth)).toEqual(["+628123456789"]);

    const removal = await call(
      "DELETE",
      `/api/v1/suppressions/${encodeURIComponent("8123456789.0")}?defaultCountry=ID`,
      undefined,
      t.auth,
    );
    expect(removal.status, removal.text).toBe(400);
    expect(removal.json.error.details).toEqual([{ path: "phone", message: SPREADSHEET }]);
    expect(await suppressed(t.auth)).toEqual(["+628123456789"]);
  });

  it("stores a number written with Unicode separators as the customer's number, and removes it the same way", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: ["98765\u202F43210", "98765\u200743210", "９８７６５４３２１０"] },
      t.auth,
    );
    expect(r.status, r.text).toBe(201);
    expect(r.json.results).toMatchObject({ valid: 3, added: 1, repeated: 2 });
    expect(await suppressed(t.auth)).toEqual(["+919876543210"]);
    const removal = await call(
      "DELETE",
      `/api/v1/suppressions/${encodeURIComponent("98765\u200943210")}`,
      undefined,
      t.auth,
    );
    expect(removal.status, removal.text).toBe(204);
    expect(await suppressed(t.auth)).toEqual([]);
  });
});
