// A body over 4 MiB is parsed a run of records at a time (parseJsonBody), never decoded whole. Through the
// Worker: what such a body stores is what a small one would, character for character, and a record
// that does not parse is named.
import { describe, expect, it } from "vitest";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";
type Auth = Record<string, string>;

/** Every customer of a campaign, by loan id, read page by page. */
async function stored(campaignId: string, auth: Auth): Promise<Map<string, any>> {
  const out = new Map<string, any>();
  let cursor: string | undefined;
  do {
    const query = cursor ? `&cursor=${cursor}` : "";
    const page = await call(
      "GET",
      `/api/v1/campaigns/${campaignId}/customers?limit=500${query}`,
      undefined,
      auth,
    );
    expect(page.status, page.text).toBe(200);
    for (const c of page.json.data) out.set(c.loan_id, c);
    cursor = page.json.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** 1,500 records of about 4 KB each (a 5.7 MB body), every variable with a quote and a backslash. */
function records() {
  return Array.from({ length: 1_500 }, (_, i) =>
    loanRecord(i, {
      branch: `Pune "West" \\ ${i}`.padEnd(900, "·"),
      product: `p${i}`.padEnd(900, "·"),
    }),
  );
}

describe("a bulk body over 4 MiB", () => {
  it("stores every character as sent: text above U+00FF, escapes, and a float-written phone refused", async () => {
    const t = await newTenant();
    const list = records();
    list[0] = { ...list[0], first_name: "Priyā€", last_name: "😀\u0101" } as (typeof list)[0];
    const body = JSON.stringify({ campaignId: "emi", records: list })
      // Record 1's phone written as a spreadsheet exports it: a JSON number, refused as written.
      .replace(`"phone_number":"${list[1]?.phone_number}"`, '"phone_number":9.87654E+09')
      // An escaped character, as some exporters write them.
      .replace('"last_name":"Rao"', '"last_name":"R\\u0061o"');
    expect(new TextEncoder().encode(body).byteLength).toBeGreaterThan(4 * 1024 * 1024);

    const r = await call("POST", BULK, body, t.auth);
    expect(r.status, r.text.slice(0, 500)).toBe(207);
    expect(r.json.results).toMatchObject({ total: 1_500, valid: 1_499, invalid: 1, successful: 1_499 });
    expect(r.json.results.errors).toEqual([
      expect.objectContaining({
        index: 1,
        code: "invalid_record",
        fields: [expect.objectContaining({ field: "phone_number" })],
      }),
    ]);

    const customers = await stored("emi", t.auth);
    expect(customers.size).toBe(1_499);
    expect(customers.has(list[1]?.loan_id as string)).toBe(false);
    const first = customers.get(list[0]?.loan_id as string);
    expect(first).toMatchObject({ first_name: "Priyā€", last_name: "😀\u0101" });
    for (const i of [2, 777, 1_499]) {
      const sent = list[i] as ReturnType<typeof loanRecord> & { branch: string; product: string };
      const got = customers.get(sent.loan_id);
      expect(got).toMatchObject({ phone_number: `+91${sent.phone_number}`, last_name: "Rao" });
      expect(got.variables).toEqual({ branch: sent.branch, product: sent.product });
    }
  });

  it("names the record that does not parse, and stores nothing", async () => {
    const t = await newTenant();
    const list = records();
    const body = JSON.stringify({ campaignId: "emi", records: list }).replace(
      `"product":"p1200${"·".repeat(895)}"`,
      `"product":}`,
    );
    const r = await call("POST", BULK, body, t.auth);
    expect(r.status, r.text.slice(0, 500)).toBe(400);
    expect(r.json.error).toMatchObject({
      code: "invalid_json",
      details: [expect.objectContaining({ path: "records.1200" })],
    });
    expect((await stored("emi", t.auth)).size).toBe(0);
  });

  it("reads a body nested thousands of levels deep around a long string, and stores its record", async () => {
    const t = await newTenant();
    const record = JSON.stringify(loanRecord(1));
    const nested = `${'{"a":'.repeat(3_000)}"${"x".repeat(4 * 1024 * 1024)}"${"}".repeat(3_000)}`;
    const r = await call("POST", BULK, `{"campaignId":"emi","records":[${record}],"x":${nested}}`, t.auth);
    expect(r.status, r.text.slice(0, 500)).toBe(201);
    expect((await stored("emi", t.auth)).has(loanRecord(1).loan_id)).toBe(true);
  });
});
