// GET /api/v1/imports/{importId}: the request's stored counts and the live progress of its calls
// and workflow runs; the call buckets always add up to what was requested.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import {
  callTenant,
  capturingQueue,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

function total(calls: any): number {
  const skipped = Object.values(calls.skipped as Record<string, number>).reduce((a, b) => a + b, 0);
  return (
    calls.queued +
    calls.delayed +
    calls.dispatched +
    skipped +
    calls.failed +
    calls.completed +
    calls.cancelled
  );
}

describe("GET /api/v1/imports/{importId}", () => {
  it("reports the bulk response's counts for an import without calls", async () => {
    const t = await newTenant();
    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2), { first_name: "x" }] },
      t.auth,
    );
    expect(bulk.status).toBe(207);
    const r = await call("GET", `/api/v1/imports/${bulk.json.importId}`, undefined, t.auth);
    expect(r.status).toBe(200);
    const { errors: _errors, ...counts } = bulk.json.results;
    expect(r.json).toEqual({
      importId: bulk.json.importId,
      kind: "bulk",
      campaignId: "emi",
      state: "completed",
      attempt: { number: 1, leaseExpiresAt: null },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      results: { ...counts, pending: 0 },
      dialing: { status: "finished", pausedBy: null, pausedAt: null, cancelledAt: null },
      calls: {
        requested: 0,
        queued: 0,
        dispatched: 0,
        delayed: 0,
        delayedBy: {},
        skipped: {},
        failed: 0,
        completed: 0,
        cancelled: 0,
        errors: [],
        decisions: [],
      },
      workflows: { requested: 0, started: 0, running: 0, completed: 0, failed: 0, errors: [] },
    });
  });

  it("adds up at every step while the batches are worked through", async () => {
    const t = await callTenant();
    const records = Array.from({ length: 1200 }, (_, i) =>
      loanRecord(i, i % 50 === 0 ? { payment_status: "paid" } : {}),
    );
    const seeded = await seedCallImport(t.orgId, "ist", records);
    expect(seeded.messages).toHaveLength(3);

    let p = await progressOf(seeded.importId, t.auth);
    expect(p.calls).toMatchObject({ requested: 1200, queued: 1200 });

    const monday = pinnedClock("2026-11-23T10:00:00+05:30");
    await deliver(workerWith({ clock: monday, dialer: createLogDialer(() => {}) }), "bulkcall-calls", [
      seeded.messages[0]!,
    ]);
    p = await progressOf(seeded.importId, t.auth);
    expect(p.calls).toMatchObject({ requested: 1200, dispatched: 490, skipped: { paid: 10 }, queued: 700 });
    expect(total(p.calls)).toBe(1200);

    const night = pinnedClock("2026-11-23T22:00:00+05:30");
    await deliver(workerWith({ clock: night, callsQueue: capturingQueue() }), "bulkcall-calls", [
      seeded.messages[1]!,
    ]);
    p = await progressOf(seeded.importId, t.auth);
    expect(p.calls).toMatchObject({ dispatched: 490, skipped: { paid: 20 }, delayed: 490, queued: 200 });
    expect(total(p.calls)).toBe(1200);
  });

  it("counts workflow customers from the outbox", async () => {
    const t = await newTenant();
    const seeded = await seedCallImport(t.orgId, "emi", [loanRecord(1), loanRecord(2), loanRecord(3)], {
      useWorkflow: true,
    });
    const p = await progressOf(seeded.importId, t.auth);
    expect(p.workflows).toEqual({
      requested: 3,
      started: 0,
      running: 0,
      completed: 0,
      failed: 0,
      errors: [],
    });
    expect(p.calls.requested).toBe(0);

    // A workflow batch the dead-letter queue gave up on is reported as failed, with the reason.
    await env.DB.prepare(
      "UPDATE outbox_batches SET last_error = 'workflow service unavailable' WHERE import_id = ?",
    )
      .bind(seeded.importId)
      .run();
    await deliver(workerWith({}), "bulkcall-calls-dlq", [
      { kind: "workflow", importId: seeded.importId, batchNo: 0 },
    ]);
    const failed = await progressOf(seeded.importId, t.auth);
    expect(failed.workflows).toMatchObject({
      requested: 3,
      failed: 3,
      errors: [{ batch: 0, customers: 3, message: "dead_lettered: workflow service unavailable" }],
    });
  });

  it("answers 404 for an unknown import and for another organization's, and needs an API key", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [loanRecord(1)] },
      a.auth,
    );
    const foreign = await call("GET", `/api/v1/imports/${bulk.json.importId}`, undefined, b.auth);
    const missing = await call("GET", "/api/v1/imports/imp_nothing", undefined, b.auth);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.json.error.code).toBe(missing.json.error.code);
    expect((await call("GET", `/api/v1/imports/${bulk.json.importId}`, undefined, {})).status).toBe(401);
  });
});

describe("an import whose calls all ended while its batch waited for the window", () => {
  it("is finished at once, and refuses pause with 409", async () => {
    const t = await callTenant(); // "ist": 08:00-19:00 Asia/Kolkata, Monday to Saturday
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1), loanRecord(2)]);
    // Saturday evening: the consumer delays both calls to Monday and puts the batch's message back
    // on the queue with a delay, so the batch stays `sent`.
    const queue = capturingQueue();
    const worker = workerWith({
      clock: pinnedClock("2026-11-28T19:30:00+05:30"),
      dialer: createLogDialer(() => {}),
      callsQueue: queue,
    });
    const result = await deliver(worker, "bulkcall-calls", seeded.messages, 1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(queue.sent).toHaveLength(1);
    let progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls.delayed).toBe(2);
    expect(progress.dialing.status).toBe("active");

    // Both pay before Monday: their waiting calls are skipped in the same write.
    for (const i of [1, 2]) {
      const paid = await call(
        "PUT",
        "/api/v1/customers/update",
        { campaignId: "ist", loan_id: loanRecord(i).loan_id, data: { payment_status: "paid" } },
        t.auth,
      );
      expect(paid.status, paid.text).toBe(200);
    }
    progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ delayed: 0, skipped: { paid: 2 } });
    // The batch's delayed message is still on the queue, but it will find nothing to do.
    expect(progress.dialing.status).toBe("finished");
    const pause = await call("POST", `/api/v1/imports/${seeded.importId}/pause`, {}, t.auth);
    expect(pause.status, pause.text).toBe(409);
    expect(pause.json.error.code).toBe("conflict");
  });
});

describe("GET /api/v1/campaigns/{campaignId}/calls", () => {
  it("filters by status and pages with a cursor; another organization's campaign answers 404", async () => {
    const t = await callTenant();
    const records = Array.from({ length: 7 }, (_, i) =>
      loanRecord(i, i < 2 ? { payment_status: "paid" } : {}),
    );
    const seeded = await seedCallImport(t.orgId, "ist", records);
    await deliver(
      workerWith({ clock: pinnedClock("2026-11-23T10:00:00+05:30"), dialer: createLogDialer(() => {}) }),
      "bulkcall-calls",
      seeded.messages,
    );
    const first = await call(
      "GET",
      "/api/v1/campaigns/ist/calls?status=dispatched&limit=3",
      undefined,
      t.auth,
    );
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(3);
    expect(first.json.data[0]).toMatchObject({
      customerId: seeded.customerIds[2],
      loan_id: "LN-000002",
      lead_id: null,
      phone_number: "+919810000002",
      status: "dispatched",
      reason: null,
      attempts: 1,
      importId: seeded.importId,
      origin: "bulk",
    });
    const second = await call(
      "GET",
      `/api/v1/campaigns/ist/calls?status=dispatched&limit=3&cursor=${first.json.nextCursor}`,
      undefined,
      t.auth,
    );
    expect(second.json.data.map((c: any) => c.loan_id)).toEqual(["LN-000005", "LN-000006"]);
    expect(second.json.nextCursor).toBeNull();
    const skipped = await call("GET", "/api/v1/campaigns/ist/calls?status=skipped", undefined, t.auth);
    expect(skipped.json.data.map((c: any) => [c.loan_id, c.reason])).toEqual([
      ["LN-000000", "paid"],
      ["LN-000001", "paid"],
    ]);
    expect((await call("GET", "/api/v1/campaigns/ist/calls?status=ringing", undefined, t.auth)).status).toBe(
      400,
    );

    const other = await newTenant();
    expect((await call("GET", "/api/v1/campaigns/ist/calls", undefined, other.auth)).status).toBe(404);
    expect((await call("GET", "/api/v1/campaigns/ist/calls", undefined, {})).status).toBe(401);
  });
});

describe("a cursor this endpoint did not issue", () => {
  it("is refused, whatever number it holds", async () => {
    const t = await callTenant();
    for (const value of ["-1", "0", "10.5", "true"]) {
      const cursor = btoa(value).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
      const r = await call("GET", `/api/v1/campaigns/ist/customers?cursor=${cursor}`, undefined, t.auth);
      expect(r.status, `${value}: ${r.text}`).toBe(400);
      expect(r.json.error.details).toEqual([
        { path: "cursor", message: "not a cursor this endpoint issued" },
      ]);
    }
  });
});
