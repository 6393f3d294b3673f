import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/deps";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { DispatchMessage } from "../src/domain/model/outbox";
import { until } from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("POST /api/v1/customers/add/bulk — success", () => {
  it("answers the reference page's example with exactly its shape", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2), loanRecord(3)] },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.headers.get("X-Request-Id")).toMatch(/.+/);
    const { importId, ...documented } = r.json;
    expect(importId).toMatch(/^imp_[0-9a-f]{24}$/);
    expect(documented).toEqual({
      success: true,
      message: "Added 3 of 3 records",
      results: { total: 3, valid: 3, invalid: 0, successful: 3, failed: 0, batchesProcessed: 1, errors: [] },
    });
    expect(Object.keys(r.json)).not.toContain("callResults");
    expect(Object.keys(r.json)).not.toContain("workflowTriggered");
  });

  it("stores normalized fields and extra keys as variables, read back in stable pages", async () => {
    const t = await newTenant();
    const records = [
      loanRecord(1, {
        phone_number: "+91 98765-43210",
        language: "HI",
        payment_status: "Bounced",
        branch: "Pune",
      }),
      loanRecord(2, { phone_number: 919876543211, last_name: null, dpd: 45, vip: true }),
      loanRecord(3, { phone_number: "09876543212" }),
    ];
    expect((await call("POST", BULK, { campaignId: "emi", records }, t.auth)).status).toBe(201);

    const first = await call("GET", "/api/v1/campaigns/emi/customers?limit=2", undefined, t.auth);
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    expect(first.json.data[0]).toMatchObject({
      loan_id: "LN-000001",
      phone_number: "+919876543210",
      language: "hindi",
      payment_status: "bounced",
      emi_due_date: "2026-12-05",
      variables: { branch: "Pune" },
    });
    expect(first.json.data[1]).toMatchObject({
      phone_number: "+919876543211",
      last_name: null,
      variables: { dpd: 45, vip: true },
    });
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call(
      "GET",
      `/api/v1/campaigns/emi/customers?limit=2&cursor=${first.json.nextCursor}`,
      undefined,
      t.auth,
    );
    expect(second.json.data.map((c: any) => c.loan_id)).toEqual(["LN-000003"]);
    expect(second.json.data[0].phone_number).toBe("+919876543212");
    expect(second.json.nextCursor).toBeNull();
  });

  it("accepts a lead campaign keyed on lead_id", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      {
        campaignId: "lead",
        records: [
          { lead_id: "LD-1", first_name: "Ravi", phone_number: "9876543210", lead_date: "2026-11-20" },
          { lead_id: "LD-2", first_name: "Meena", phone_number: "9876543211" },
        ],
      },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.results.successful).toBe(2);
  });

  it("takes 10,000 records in one request, in chunks, and stores every one", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 10_000 }, (_, i) => loanRecord(i));
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(201);
    expect(r.json.results).toMatchObject({ total: 10_000, valid: 10_000, successful: 10_000, failed: 0 });
    expect(r.json.results.batchesProcessed).toBeGreaterThan(1);
    const n = await count(
      "SELECT count(*) AS n FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk WHERE p.organization_id = ? AND p.id = 'emi'",
      t.orgId,
    );
    expect(n).toBe(10_000);
  });

  it("sizes chunks in UTF-8 bytes, so records in Indian scripts never overflow D1's 2 MB value limit", async () => {
    const t = await newTenant();
    // 50 variables of 900 Devanagari characters: ~46,000 UTF-16 units but ~136,000 UTF-8 bytes each.
    const devanagari = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`note_${i}`, "अ".repeat(900)]),
    );
    const records = Array.from({ length: 40 }, (_, i) => loanRecord(i, devanagari));
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(201);
    // At most 1.5 MB of UTF-8 per chunk: 11 of these records, so 4 chunks (counting UTF-16 units
    // instead would have packed 32 records, ~4.4 MB, into one value).
    expect(r.json.results.batchesProcessed).toBe(4);
    const stored = await call("GET", "/api/v1/campaigns/emi/customers?limit=1", undefined, t.auth);
    expect(stored.json.data[0].variables.note_0).toBe("अ".repeat(900));
  });

  it("hands 10,000 added customers to the call queue as 20 batches of 500, by reference", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 10_000 }, (_, i) => loanRecord(i));
    const r = await call(
      "POST",
      BULK,
      {
        campaignId: "emi",
        records,
        initiateCall: true,
        callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
      },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.callResults).toEqual({
      requested: 10_000,
      queued: 10_000,
      batches: 20,
      failed: 0,
      errors: [],
    });
    expect(r.json).not.toHaveProperty("workflowTriggered");

    // The sends are recorded just after the answer (the import completed in its chunk writes).
    const results = await until(
      "the sends recorded",
      async () =>
        (
          await env.DB.prepare(
            "SELECT batch_no, size, state, customer_ids FROM outbox_batches WHERE import_id = ? AND kind = 'call' ORDER BY batch_no",
          )
            .bind(r.json.importId)
            .all<{ batch_no: number; size: number; state: string; customer_ids: string }>()
        ).results,
      (rows) => rows.every((row) => row.state !== "pending"),
    );
    expect(results).toHaveLength(20);
    const seen = new Set<number>();
    for (const [i, row] of results.entries()) {
      expect(row.batch_no).toBe(i);
      expect(row.size).toBe(500);
      expect(row.state).not.toBe("pending");
      for (const id of JSON.parse(row.customer_ids) as number[]) seen.add(id);
    }
    expect(seen.size).toBe(10_000);
    const imported = await count("SELECT count(*) AS n FROM customers WHERE import_id = ?", r.json.importId);
    expect(imported).toBe(10_000);
  });

  it("each call message is a small reference (≤ 128 KB), sent to the real queue in sendBatch calls of ≤ 100", async () => {
    const t = await newTenant();
    const sendBatches: { body: unknown }[][] = [];
    // The real CALLS producer, watched: every message the hand-off gives it is recorded on the way.
    const watched = {
      async sendBatch(messages: Iterable<{ body: DispatchMessage }>) {
        const list = [...messages];
        sendBatches.push(list);
        await env.CALLS.sendBatch(list);
      },
    };
    const records: unknown[] = Array.from({ length: 10_000 }, (_, i) => loanRecord(i));
    const outcome = await addCustomersInBulk(createDeps(env, { callsQueue: watched }), {
      organizationId: t.orgId,
      campaignId: "emi",
      records,
      initiateCall: true,
      useWorkflow: false,
      callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
    });
    expect(outcome.status).toBe(201);
    expect(outcome.body.results).toMatchObject({ total: 10_000, successful: 10_000 });
    // The import consumed its records (BulkInput.records): none is held while chunks are written.
    expect(records).toHaveLength(10_000);
    expect(records.every((r) => r === undefined)).toBe(true);
    const messages = sendBatches.flat();
    expect(sendBatches.every((batch) => batch.length <= 100)).toBe(true);
    expect(messages).toHaveLength(20);
    for (const m of messages) {
      expect(new TextEncoder().encode(JSON.stringify(m.body)).byteLength).toBeLessThanOrEqual(128 * 1024);
      expect(m.body).toEqual({ kind: "call", importId: outcome.body.importId, batchNo: expect.any(Number) });
    }
    expect(new Set(messages.map((m) => (m.body as DispatchMessage).batchNo))).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => i)),
    );
  });

  it("hands added customers to the workflow queue with useWorkflow", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 1_200 }, (_, i) => loanRecord(i));
    const r = await call(
      "POST",
      BULK,
      {
        campaignId: "emi",
        records,
        useWorkflow: true,
        callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
      },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.workflowTriggered).toBe(true);
    expect(r.json).not.toHaveProperty("callResults");
    const batches = await until(
      "the sends recorded",
      () =>
        count(
          "SELECT count(*) AS n FROM outbox_batches WHERE import_id = ? AND kind = 'workflow' AND state != 'pending'",
          r.json.importId,
        ),
      (n) => n === 3,
    );
    expect(batches).toBe(3);
  });

  it("keeps the first of two equal records' keys and reports the second", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2), loanRecord(1, { first_name: "Other" })] },
      t.auth,
    );
    expect(r.status).toBe(207);
    expect(r.json.results).toMatchObject({ total: 3, valid: 2, invalid: 1, successful: 2, failed: 1 });
    expect(r.json.results.errors).toEqual([
      {
        index: 2,
        key: "LN-000001",
        code: "duplicate_in_request",
        message: 'loan_id "LN-000001" already appears at index 0 of this request',
      },
    ]);
  });

  it("reports keys the campaign already holds as duplicate_existing", async () => {
    const t = await newTenant();
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1)] }, t.auth);
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2)] },
      t.auth,
    );
    expect(r.status).toBe(207);
    expect(r.json.results).toMatchObject({ valid: 2, successful: 1, failed: 1 });
    expect(r.json.results.errors).toEqual([
      {
        index: 0,
        key: "LN-000001",
        code: "duplicate_existing",
        message: 'The campaign already holds a customer with loan_id "LN-000001"',
      },
    ]);
    // The same loan in another campaign is not a duplicate.
    const other = await call("POST", BULK, { campaignId: "edi", records: [loanRecord(1)] }, t.auth);
    expect(other.status).toBe(201);
  });

  it("answers 207 with the right indexes for a mixed request", async () => {
    const t = await newTenant();
    const records = [
      loanRecord(0),
      loanRecord(1, { phone_number: "12" }),
      loanRecord(2),
      "not an object",
      loanRecord(4, { emi_due_date: "2026-02-30" }),
      loanRecord(5),
    ];
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(207);
    expect(r.json.success).toBe(false);
    expect(r.json.message).toBe("Added 3 of 6 records");
    expect(r.json.results).toMatchObject({ total: 6, valid: 3, invalid: 3, successful: 3, failed: 3 });
    expect(r.json.results.errors.map((e: any) => [e.index, e.code, e.key])).toEqual([
      [1, "invalid_record", "LN-000001"],
      [3, "invalid_record", undefined],
      [4, "invalid_record", "LN-000004"],
    ]);
    expect(r.json.results.errors[1].fields).toEqual([{ field: "record", message: "must be a JSON object" }]);
  });

  it("answers 400 with the full results when no record could be added", async () => {
    const t = await newTenant();
    const records = [loanRecord(1, { phone_number: "x" }), loanRecord(2, { emi_amount: -1 })];
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      success: false,
      message: "Added 0 of 2 records",
      results: { total: 2, valid: 0, invalid: 2, successful: 0, failed: 2, batchesProcessed: 0 },
    });
    expect(r.json.results.errors).toHaveLength(2);
  });
});
