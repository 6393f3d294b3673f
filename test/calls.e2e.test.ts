// End to end through the runtime: the bulk endpoint hands the customers to the real CALLS queue,
// the Worker's own queue consumer (configured in wrangler.jsonc) places the calls through the `log`
// dialer, and the API reports them.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CALL_CONFIG,
  callsOf,
  createCampaign,
  drainCallsQueue,
  progressOf,
  until,
  windowOpenNow,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

/** callId -> how many times the log dialer logged it (the consumer runs in this isolate). */
function watchLogDialer() {
  const dialled = new Map<string, number>();
  const original = console.log;
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    const line = String(args[0]);
    if (line.startsWith('{"event":"call_dispatched"')) {
      const { callId } = JSON.parse(line) as { callId: string };
      dialled.set(callId, (dialled.get(callId) ?? 0) + 1);
      return;
    }
    original(...args);
  });
  return dialled;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("bulk request with initiateCall, through the real queue", () => {
  it("dials every eligible customer exactly once, despite duplicate messages, and skips the paid and the suppressed", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const records = Array.from({ length: 1050 }, (_, i) =>
      loanRecord(i, i % 100 === 7 ? { payment_status: i % 200 === 7 ? "paid" : "RECEIVED" } : {}),
    );
    // Two customers are on the do-not-call list, written differently from their records.
    const suppressedPhones = [records[3]!.phone_number, records[504]!.phone_number];
    const sup = await call(
      "POST",
      "/api/v1/suppressions",
      { phone_numbers: suppressedPhones.map((p) => `+91 ${p.slice(0, 5)} ${p.slice(5)}`) },
      t.auth,
    );
    expect(sup.status, sup.text).toBe(201);

    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "open", records, initiateCall: true, callConfig: CALL_CONFIG },
      t.auth,
    );
    expect(bulk.status, bulk.text).toBe(201);
    expect(bulk.json.callResults).toMatchObject({ requested: 1050, queued: 1050, batches: 3, failed: 0 });
    // The queue delivers at least once: the same three messages again, racing the first ones.
    const importId = bulk.json.importId;
    await env.CALLS.sendBatch([0, 1, 2].map((batchNo) => ({ body: { kind: "call", importId, batchNo } })));

    const progress = await until(
      "all calls handled",
      () => progressOf(bulk.json.importId, t.auth),
      (p) => p.calls.queued === 0,
    );
    const paid = records.filter((r) => ["paid", "RECEIVED"].includes(r.payment_status)).length;
    expect(progress.calls).toEqual({
      requested: 1050,
      queued: 0,
      dispatched: 1050 - paid - 2,
      delayed: 0,
      skipped: { paid, suppressed: 2 },
      failed: 0,
      completed: 0,
      cancelled: 0,
      errors: [],
    });

    const calls = await callsOf("open", t.auth);
    expect(calls).toHaveLength(1050);
    expect(new Set(calls.map((c) => c.customerId)).size).toBe(1050);
    const dispatched = calls.filter((c) => c.status === "dispatched");
    expect(dispatched.every((c) => c.attempts === 1)).toBe(true);
    // Once the duplicate messages have been consumed, count what the dialer saw (the sentinel's own
    // call is one more).
    await drainCallsQueue(t);
    expect(dialled.size).toBe(dispatched.length + 1);
    expect([...dialled.values()].every((n) => n === 1)).toBe(true);
    const dispatchedIds = new Set(dispatched.map((c) => c.callId));
    expect([...dialled.keys()].filter((id) => !dispatchedIds.has(id))).toHaveLength(1); // the sentinel's
    expect(
      calls
        .filter((c) => c.reason === "suppressed")
        .map((c) => c.loan_id)
        .sort(),
    ).toEqual([records[3]!.loan_id, records[504]!.loan_id]);
  }, 60_000);
});
