// The daily file: POST /api/v1/customers/add/bulk with onExisting "update" refreshes the customers a
// campaign holds, in the same chunked atomic writes as an intake, and hands over the ones that
// became callable again.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createDeps } from "../src/deps";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import {
  CALL_CONFIG,
  callsOf,
  callTenant,
  capturingQueue,
  createCampaign,
  deliver,
  pinnedClock,
  progressOf,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";
import { countsOf, deliveriesOf, registerWebhook } from "./webhooks-fixtures";

const BULK = "/api/v1/customers/add/bulk";

async function customersOf(campaignId: string, auth: Record<string, string>) {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ limit: "500", ...(cursor ? { cursor } : {}) });
    const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?${qs}`, undefined, auth);
    expect(r.status, r.text).toBe(200);
    all.push(...r.json.data);
    cursor = r.json.nextCursor;
  } while (cursor);
  return Object.fromEntries(all.map((c) => [c.loan_id, c]));
}

describe("bulk refresh (onExisting: update) — success", () => {
  it("the same variables in another order are unchanged, not an update", async () => {
    const t = await newTenant();
    const day1 = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1, { branch: "Pune", dpd: 30 })] },
      t.auth,
    );
    expect(day1.status).toBe(201);
    const record = loanRecord(1);
    const day2 = await call(
      "POST",
      BULK,
      `{"campaignId":"emi","onExisting":"update","records":[${JSON.stringify({ ...record, dpd: 30, branch: "Pune" })}]}`,
      t.auth,
    );
    expect(day2.json.results).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await customersOf("emi", t.auth))[record.loan_id].updatedAt).toBeNull();
  });

  it("updates known loans in place, adds new ones, leaves identical ones alone, and counts each", async () => {
    const t = await newTenant();
    const day1 = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2), loanRecord(3, { branch: "Pune" })] },
      t.auth,
    );
    expect(day1.status).toBe(201);
    const before = await customersOf("emi", t.auth);

    const day2 = await call(
      "POST",
      BULK,
      {
        campaignId: "emi",
        onExisting: "update",
        records: [
          loanRecord(1),
          loanRecord(2, { payment_status: "PAID", emi_due_date: "2027-01-05", last_name: null }),
          loanRecord(3, { branch: "Mumbai", phone_number: "+91 98100 00099" }),
          loanRecord(4),
        ],
      },
      t.auth,
    );
    expect(day2.status, day2.text).toBe(201);
    expect(day2.json).toMatchObject({
      success: true,
      message: "Added 4 of 4 records",
      results: {
        total: 4,
        valid: 4,
        invalid: 0,
        successful: 4,
        failed: 0,
        batchesProcessed: 1,
        added: 1,
        updated: 2,
        unchanged: 1,
        errors: [],
      },
    });

    const after = await customersOf("emi", t.auth);
    expect(Object.keys(after).sort()).toEqual(["LN-000001", "LN-000002", "LN-000003", "LN-000004"]);
    // Same rows (ids, the import that added them, createdAt); new values; updatedAt on changed ones.
    for (const key of ["LN-000001", "LN-000002", "LN-000003"]) {
      expect(after[key]).toMatchObject({
        id: before[key].id,
        importId: day1.json.importId,
        createdAt: before[key].createdAt,
      });
    }
    expect(after["LN-000001"]).toEqual(before["LN-000001"]);
    expect(after["LN-000002"]).toMatchObject({
      payment_status: "paid",
      emi_due_date: "2027-01-05",
      last_name: null,
      updatedAt: expect.any(String),
    });
    expect(after["LN-000003"]).toMatchObject({
      phone_number: "+919810000099",
      variables: { branch: "Mumbai" },
    });
    expect(after["LN-000004"]).toMatchObject({ importId: day2.json.importId, updatedAt: null });

    const progress = await progressOf(day2.json.importId, t.auth);
    expect(progress).toMatchObject({
      kind: "bulk",
      results: { total: 4, successful: 4, added: 1, updated: 2, unchanged: 1 },
    });
  });

  it("its import.completed event carries the kind and the split, as GET /api/v1/imports/{id} does", async () => {
    const t = await newTenant();
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1)] }, t.auth);
    const hook = await registerWebhook(t.auth, { events: ["import.completed"] });
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", onExisting: "update", records: [loanRecord(1, { emi_amount: 1 }), loanRecord(2)] },
      t.auth,
    );
    const [delivery] = await deliveriesOf(hook.id, t.auth);
    const progress = await progressOf(r.json.importId, t.auth);
    expect(delivery.payload.data).toMatchObject({
      importId: r.json.importId,
      kind: "bulk",
      results: countsOf(progress.results),
    });
    expect(progress.results).toMatchObject({ added: 1, updated: 1, unchanged: 0 });
  });

  it("without onExisting keeps the reference behaviour: known keys are duplicate_existing and unchanged", async () => {
    const t = await newTenant();
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1)] }, t.auth);
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1, { payment_status: "paid" }), loanRecord(2)] },
      t.auth,
    );
    expect(r.status).toBe(207);
    expect(r.json.results).not.toHaveProperty("updated");
    expect(r.json.results.errors).toMatchObject([{ index: 0, code: "duplicate_existing" }]);
    expect((await customersOf("emi", t.auth))["LN-000001"].payment_status).toBe("pending");
  });

  it("a lead campaign refreshes by lead_id, and its loan_id may change", async () => {
    const t = await newTenant();
    const lead = (extra: Record<string, unknown>) => ({
      lead_id: "LD-1",
      first_name: "Ravi",
      phone_number: "9876543210",
      ...extra,
    });
    await call("POST", BULK, { campaignId: "lead", records: [lead({ loan_id: "L-1" })] }, t.auth);
    const r = await call(
      "POST",
      BULK,
      {
        campaignId: "lead",
        onExisting: "update",
        records: [lead({ loan_id: "L-2", lead_date: "2026-11-30" })],
      },
      t.auth,
    );
    expect(r.json.results).toMatchObject({ added: 0, updated: 1, unchanged: 0 });
    const list = await call("GET", "/api/v1/campaigns/lead/customers", undefined, t.auth);
    expect(list.json.data).toMatchObject([{ lead_id: "LD-1", loan_id: "L-2", lead_date: "2026-11-30" }]);
  });
});

describe("bulk refresh — errors", () => {
  it("invalid and repeated records are reported and change nothing; the valid ones still update", async () => {
    const t = await newTenant();
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1), loanRecord(2)] }, t.auth);
    const r = await call(
      "POST",
      BULK,
      {
        campaignId: "emi",
        onExisting: "update",
        records: [
          loanRecord(1, { phone_number: "12345" }),
          loanRecord(2, { emi_amount: 9999 }),
          loanRecord(2, { emi_amount: 1 }),
        ],
      },
      t.auth,
    );
    expect(r.status).toBe(207);
    expect(r.json.results).toMatchObject({
      total: 3,
      valid: 1,
      invalid: 2,
      successful: 1,
      failed: 2,
      added: 0,
      updated: 1,
      unchanged: 0,
    });
    expect(r.json.results.errors.map((e: any) => [e.index, e.code])).toEqual([
      [0, "invalid_record"],
      [2, "duplicate_in_request"],
    ]);
    const stored = await customersOf("emi", t.auth);
    expect(stored["LN-000001"].phone_number).toBe("+919810000001");
    expect(stored["LN-000002"].emi_amount).toBe(9999);
  });

  it("refuses an onExisting value it does not know, before anything is stored", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", onExisting: "replace", records: [loanRecord(1)] },
      t.auth,
    );
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("validation_error");
    expect(r.json.error.details[0].path).toBe("onExisting");
    expect(await customersOf("emi", t.auth)).toEqual({});
  });

  it("never writes into another organization's customers with the same keys", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1)] }, a.auth);
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", onExisting: "update", records: [loanRecord(1, { payment_status: "paid" })] },
      b.auth,
    );
    expect(r.json.results).toMatchObject({ added: 1, updated: 0 });
    expect((await customersOf("emi", a.auth))["LN-000001"].payment_status).toBe("pending");
  });
});

describe("bulk refresh with initiateCall", () => {
  /** The refresh through the domain function with the call queue captured: the test plays the queue. */
  async function refresh(orgId: string, records: unknown[]) {
    const queue = capturingQueue();
    const deps = createDeps(env, { callsQueue: queue });
    const outcome = await addCustomersInBulk(deps, {
      organizationId: orgId,
      campaignId: "open",
      records,
      initiateCall: true,
      useWorkflow: false,
      callConfig: CALL_CONFIG,
      onExisting: "update",
    });
    const batches = await deps.outbox.listForImport(outcome.body.importId);
    return {
      outcome,
      messages: queue.sent.map((m) => m.body),
      handed: batches.flatMap((b) => b.customerIds),
    };
  }

  it("hands over added customers and updated ones that became callable again, and calls nobody twice", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const worker = workerWith({ dialer: createLogDialer(() => {}) });
    const day1Records = [
      loanRecord(1),
      loanRecord(2),
      loanRecord(3, { payment_status: "paid" }),
      loanRecord(4),
      loanRecord(5),
      loanRecord(6, { payment_status: "bounced" }),
    ];
    const day1 = await refresh(t.orgId, day1Records);
    expect(day1.outcome.body.callResults).toMatchObject({ requested: 6, queued: 6 });
    await deliver(worker, "bulkcall-calls", day1.messages);
    const ids = Object.fromEntries((await callsOf("open", t.auth)).map((c) => [c.loan_id, c.customerId]));

    const day2 = await refresh(t.orgId, [
      loanRecord(1), // identical
      loanRecord(2, { emi_due_date: "2027-01-05" }), // next instalment: call again
      loanRecord(3, { payment_status: "pending" }), // paid -> pending: call again
      loanRecord(4, { first_name: "Asha K." }), // a spelling fix: no new call
      loanRecord(5, { payment_status: "received", emi_due_date: "2027-01-05" }), // paid: no call
      loanRecord(6, { payment_status: "bounced", language: "tamil" }), // still bounced, nothing that calls for a call changed
      loanRecord(7), // new
    ]);
    expect(day2.outcome.body.results).toMatchObject({ added: 1, updated: 5, unchanged: 1 });
    expect(day2.outcome.body.callResults).toMatchObject({ requested: 3, queued: 3, failed: 0 });
    const newId = (await customersOf("open", t.auth))["LN-000007"].id;
    expect(day2.handed.sort((a, b) => a - b)).toEqual([ids["LN-000002"], ids["LN-000003"], newId]);

    // Day two's calls go out a day later: a number dialled on day one is held by the contact limits
    // (the gap after an attempt whose outcome was never reported) if dialled again at once.
    const nextDay = workerWith({
      dialer: createLogDialer(() => {}),
      clock: pinnedClock(new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString()),
    });
    await deliver(nextDay, "bulkcall-calls", day2.messages);
    const calls = await callsOf("open", t.auth);
    const day2Calls = calls.filter((c) => c.importId === day2.outcome.body.importId);
    expect(day2Calls.map((c) => [c.loan_id, c.status]).sort()).toEqual([
      ["LN-000002", "dispatched"],
      ["LN-000003", "dispatched"],
      ["LN-000007", "dispatched"],
    ]);
    // One call per customer per request: the unchanged customer has exactly its first one.
    expect(calls.filter((c) => c.loan_id === "LN-000001")).toHaveLength(1);
    const progress = await progressOf(day2.outcome.body.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 3, dispatched: 3, queued: 0 });
  });

  it("an update never hands over a customer whose call is still waiting: that call dials it as updated", async () => {
    const t = await callTenant();
    const queue = capturingQueue();
    const deps = createDeps(env, { callsQueue: queue });
    const file = (records: unknown[]) =>
      addCustomersInBulk(deps, {
        organizationId: t.orgId,
        campaignId: "ist",
        records,
        initiateCall: true,
        useWorkflow: false,
        callConfig: CALL_CONFIG,
        onExisting: "update",
      });
    // Customer 1's call waits for the window (01:00 in India); customer 2's batch is not consumed yet.
    await file([loanRecord(1)]);
    const night = workerWith({
      clock: pinnedClock("2026-11-23T01:00:00+05:30"),
      dialer: createLogDialer(() => {}),
    });
    await deliver(
      night,
      "bulkcall-calls",
      queue.sent.map((m) => m.body),
    );
    expect((await callsOf("ist", t.auth)).map((c) => c.status)).toEqual(["delayed"]);
    await file([loanRecord(2)]);
    const moved = { emi_due_date: "2027-01-05" };
    const day2 = await file([loanRecord(1, moved), loanRecord(2, moved), loanRecord(3)]);
    expect(day2.body.results).toMatchObject({ added: 1, updated: 2 });
    expect(day2.body.callResults).toMatchObject({ requested: 1 });
  });

  it("splits the handed-over customers of large files into batches of 500 across chunks", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const day1 = await refresh(
      t.orgId,
      Array.from({ length: 1500 }, (_, i) => loanRecord(i)),
    );
    expect(day1.outcome.body.callResults).toMatchObject({ requested: 1500, batches: 3 });
    await deliver(workerWith({ dialer: createLogDialer(() => {}) }), "bulkcall-calls", day1.messages);
    // 1,200 move their due date (callable again), 300 stay; 700 new ones.
    const day2 = await refresh(t.orgId, [
      ...Array.from({ length: 1500 }, (_, i) =>
        loanRecord(i, i < 1200 ? { emi_due_date: "2027-01-05" } : {}),
      ),
      ...Array.from({ length: 700 }, (_, i) => loanRecord(10_000 + i)),
    ]);
    expect(day2.outcome.body.results).toMatchObject({
      added: 700,
      updated: 1200,
      unchanged: 300,
      batchesProcessed: 3,
    });
    expect(day2.outcome.body.callResults).toMatchObject({ requested: 1900, queued: 1900, failed: 0 });
    expect(new Set(day2.handed).size).toBe(1900);
    const batches = await createDeps(env).outbox.listForImport(day2.outcome.body.importId);
    expect(batches.every((b) => b.size <= 500)).toBe(true);
    expect(batches.map((b) => b.batchNo)).toEqual(batches.map((_, i) => i));
  });
});
