// Outcome events end to end: the operations that end a call, an import or a workflow run record
// their events in the same statement (the store's triggers), hand them to the real WEBHOOKS queue,
// and the Worker's own consumer delivers them to the loopback receiver, which verifies each one.
// Every payload is checked against what the API reports for the same call, import or run.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { signatureHeader } from "../src/domain/calls/signature";
import type { AppEnv } from "../src/env";
import {
  CALL_CONFIG,
  callsOf,
  callTenant,
  createCampaign,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  until,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";
import { countsOf, deliveriesOf, registerWebhook, verifiedBodies } from "./webhooks-fixtures";

const dialerSecret = (env as unknown as AppEnv).DIALER_SECRET as string;

async function postEvents(body: unknown) {
  const raw = JSON.stringify(body);
  return call("POST", "/api/v1/calls/events", raw, {
    "X-Bulkcall-Signature": await signatureHeader(dialerSecret, Math.floor(Date.now() / 1000), raw),
  });
}

async function customersOf(campaignId: string, auth: Record<string, string>) {
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  return new Map<number, any>(r.json.data.map((c: { id: number }) => [c.id, c]));
}

/** Waits until the receiver has accepted `n` events for the webhook. */
const eventsAt = (key: string, n: number, what: string) =>
  until(
    what,
    () => verifiedBodies(key),
    (bodies) => bodies.length >= n,
    30_000,
  );

describe("call outcomes", () => {
  it("call.completed and call.failed, reported by the dialer through the signed events endpoint", async () => {
    const t = await callTenant();
    const hook = await registerWebhook(t.auth, { events: ["call.completed", "call.failed"] });
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1), loanRecord(2), loanRecord(3)]);
    const worker = workerWith({
      clock: pinnedClock("2026-11-23T10:00:00+05:30"),
      dialer: createLogDialer(() => {}),
    });
    await deliver(worker, "bulkcall-calls", seeded.messages);
    const [c0, c1] = await callsOf("ist", t.auth);
    // Dispatching ends nothing: no event yet.
    expect(await deliveriesOf(hook.id, t.auth)).toEqual([]);

    const r = await postEvents({
      events: [
        {
          id: `evt-${c0.callId}`,
          callId: c0.callId,
          status: "completed",
          disposition: "promise_to_pay",
          providerCallId: "prov-1",
          occurredAt: "2026-11-23T10:05:00+05:30",
        },
        // invalid_number is never retried: the call fails for good (an unanswered one would wait for
        // its retry, with no event yet).
        { id: `evt-${c1.callId}`, callId: c1.callId, status: "failed", reason: "invalid_number" },
      ],
    });
    expect(r.status, r.text).toBe(200);

    const bodies = await eventsAt(hook.key, 2, "both call events");
    const calls = new Map((await callsOf("ist", t.auth)).map((c) => [c.callId, c]));
    const customers = await customersOf("ist", t.auth);
    for (const body of bodies) {
      const stored = calls.get(body.data.callId);
      const customer = customers.get(stored.customerId);
      expect(body).toEqual({
        type: `call.${stored.status}`,
        timestamp: body.data.finishedAt,
        data: {
          callId: stored.callId,
          status: stored.status,
          reason: stored.reason,
          disposition: stored.disposition,
          attempts: stored.attempts,
          providerCallId: stored.providerCallId,
          customerId: stored.customerId,
          loan_id: customer.loan_id,
          lead_id: null,
          phone_number: stored.phone_number,
          campaignId: "ist",
          importId: seeded.importId,
          origin: "bulk",
          createdAt: stored.createdAt,
          dispatchedAt: "2026-11-23T04:30:00.000Z",
          finishedAt: expect.any(String),
        },
      });
    }
    const byType = Object.fromEntries(bodies.map((b) => [b.type, b.data]));
    expect(byType["call.completed"]).toMatchObject({
      callId: c0.callId,
      disposition: "promise_to_pay",
      providerCallId: "prov-1",
      finishedAt: "2026-11-23T04:35:00.000Z",
      attempts: 1,
    });
    expect(byType["call.failed"]).toMatchObject({
      callId: c1.callId,
      reason: "invalid_number",
      disposition: null,
    });
    expect(byType["call.failed"].finishedAt).toBe(calls.get(c1.callId).updatedAt);

    const deliveries = await until(
      "both deliveries recorded",
      () => deliveriesOf(hook.id, t.auth),
      (d) => d.every((x) => x.status === "delivered"),
    );
    expect(deliveries.map((d) => [d.eventType, d.status, d.attempts]).sort()).toEqual([
      ["call.completed", "delivered", 1],
      ["call.failed", "delivered", 1],
    ]);
    // A repeated report changes nothing, so it sends nothing: a delivery is written in the very
    // statement that changes a call, so none can appear later for this report.
    await postEvents({ events: [{ id: `evt-${c0.callId}-late`, callId: c0.callId, status: "failed" }] });
    expect(await deliveriesOf(hook.id, t.auth)).toHaveLength(2);
    expect(await verifiedBodies(hook.key)).toHaveLength(2);
  });

  it("call.skipped for a paid and a suppressed customer, and import.completed, from a bulk request through the real queues", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, { id: "open", ...windowOpenNow() });
    const hook = await registerWebhook(t.auth, { events: ["call.skipped", "import.completed"] });
    const records = [loanRecord(1, { payment_status: "paid" }), loanRecord(2), loanRecord(3)];
    await call("POST", "/api/v1/suppressions", { phone_numbers: [records[2]?.phone_number] }, t.auth);
    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "open", records, initiateCall: true, callConfig: CALL_CONFIG },
      t.auth,
    );
    expect(bulk.status, bulk.text).toBe(201);
    const importId = bulk.json.importId;

    const bodies = await eventsAt(hook.key, 3, "two skipped calls and the import");
    const progress = await progressOf(importId, t.auth);
    const imported = bodies.filter((b) => b.type === "import.completed");
    expect(imported).toEqual([
      {
        type: "import.completed",
        timestamp: imported[0]?.data.completedAt,
        data: {
          importId,
          kind: "bulk",
          campaignId: "open",
          results: countsOf(progress.results),
          initiateCall: true,
          useWorkflow: false,
          createdAt: progress.createdAt,
          completedAt: expect.any(String),
        },
      },
    ]);

    const calls = await callsOf("open", t.auth);
    const customers = await customersOf("open", t.auth);
    const skipped = bodies.filter((b) => b.type === "call.skipped").map((b) => b.data);
    expect(skipped.map((d) => [d.loan_id, d.reason]).sort()).toEqual([
      [records[0]?.loan_id, "paid"],
      [records[2]?.loan_id, "suppressed"],
    ]);
    for (const data of skipped) {
      const stored = calls.find((c) => c.callId === data.callId);
      expect(data).toEqual({
        callId: stored.callId,
        status: "skipped",
        reason: stored.reason,
        disposition: null,
        attempts: 0,
        providerCallId: null,
        customerId: stored.customerId,
        loan_id: customers.get(stored.customerId).loan_id,
        lead_id: null,
        phone_number: stored.phone_number,
        campaignId: "open",
        importId,
        origin: "bulk",
        createdAt: stored.createdAt,
        dispatchedAt: null,
        finishedAt: stored.updatedAt,
      });
    }
    expect(progress.calls).toMatchObject({ dispatched: 1, skipped: { paid: 1, suppressed: 1 } });
  }, 60_000);

  it("call.failed for every call of a dead-lettered batch", async () => {
    const t = await callTenant();
    const hook = await registerWebhook(t.auth, { events: ["call.failed"] });
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1), loanRecord(2)]);
    await env.DB.prepare("UPDATE outbox_batches SET last_error = 'dialer unavailable' WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    await deliver(workerWith({}), "bulkcall-calls-dlq", seeded.messages);
    const bodies = await eventsAt(hook.key, 2, "both failed calls");
    const progress = await progressOf(seeded.importId, t.auth);
    expect(bodies.map((b) => [b.type, b.data.reason])).toEqual([
      ["call.failed", progress.calls.errors[0].message],
      ["call.failed", progress.calls.errors[0].message],
    ]);
    expect(progress.calls.errors[0].message).toBe("dead_lettered: dialer unavailable");
    const calls = await callsOf("ist", t.auth);
    expect(bodies.map((b) => b.data.callId).sort()).toEqual(calls.map((c) => c.callId).sort());
  });
});

describe("workflow outcomes", () => {
  it("workflow.failed for the runs of a dead-lettered batch", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "wait", duration: "30d" }] },
    });
    const hook = await registerWebhook(t.auth, { events: ["workflow.failed", "workflow.completed"] });
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1), loanRecord(2)], { useWorkflow: true });
    await env.DB.prepare("UPDATE outbox_batches SET last_error = 'workflows unavailable' WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    await deliver(workerWith({}), "bulkcall-workflows-dlq", seeded.messages);

    const bodies = await eventsAt(hook.key, 2, "both failed runs");
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.workflows).toMatchObject({ requested: 2, failed: 2 });
    const customers = await customersOf("wf", t.auth);
    expect(bodies.map((b) => b.data.customerId).sort()).toEqual([...seeded.customerIds].sort());
    for (const body of bodies) {
      const customer = customers.get(body.data.customerId);
      expect(body).toEqual({
        type: "workflow.failed",
        timestamp: body.data.finishedAt,
        data: {
          instanceId: `${seeded.importId}-c${customer.id}`,
          status: "failed",
          outcome: null,
          reason: progress.workflows.errors[0].message,
          step: null,
          customerId: customer.id,
          loan_id: customer.loan_id,
          lead_id: null,
          phone_number: customer.phone_number,
          campaignId: "wf",
          importId: seeded.importId,
          createdAt: expect.any(String),
          startedAt: null,
          finishedAt: expect.any(String),
        },
      });
    }
  });
});
