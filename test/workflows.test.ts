// Workflow runs: the WORKFLOWS consumer starts one Workflows instance per customer (once, however
// often the message comes), and each instance walks the campaign's steps with the real dialer path.
import { introspectWorkflow, introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createWorkflowLauncher } from "../src/adapters/workflow-launcher";
import { workflowInstanceId } from "../src/db/workflow-runs-repository";
import { createDeps } from "../src/deps";
import type { Dialer } from "../src/domain/ports/dialer";
import type { Steps, WorkflowLauncher } from "../src/domain/ports/workflows";
import { runCustomerWorkflow } from "../src/domain/workflows/run-customer-workflow";
import { platformSteps } from "../src/workflows/customer-workflow";
import {
  CALL_CONFIG,
  callsOf,
  countingDialer,
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
import { deliveriesOf, receivedBy, registerWebhook, verifiedBodies } from "./webhooks-fixtures";

async function runRows(importId: string) {
  const { results } = await env.DB.prepare(
    "SELECT instance_id, customer_id, status, outcome, started_at, last_error FROM workflow_runs WHERE import_id = ? ORDER BY customer_id",
  )
    .bind(importId)
    .all<{
      instance_id: string;
      customer_id: number;
      status: string;
      outcome: string | null;
      started_at: number | null;
      last_error: string | null;
    }>();
  return results;
}

async function callRows(importId: string) {
  const { results } = await env.DB.prepare(
    "SELECT customer_id, origin, status, reason FROM calls WHERE import_id = ? ORDER BY customer_id, origin",
  )
    .bind(importId)
    .all<{ customer_id: number; origin: string; status: string; reason: string | null }>();
  return results;
}

async function workflowTenant(steps: unknown[]) {
  const t = await newTenant();
  await createCampaign(t.auth, { id: "wf", ...windowOpenNow(), workflow: { steps } });
  return t;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("campaign workflow definitions", () => {
  it("are validated when the campaign is created", async () => {
    const t = await newTenant();
    const bad = [
      { steps: [] },
      { steps: [{ type: "teleport" }] },
      { steps: [{ type: "wait", duration: "forever" }] },
      { steps: [{ type: "wait", until: { field: "loan_amount" } }] },
      { steps: [{ type: "webhook", url: "https://example.com/x" }] },
      { steps: [{ type: "webhook" }] },
    ];
    for (const workflow of bad) {
      const r = await call("POST", "/api/v1/campaigns", { name: "x", campaignType: "emi", workflow }, t.auth);
      expect(r.status, JSON.stringify(workflow)).toBe(400);
      expect(r.json.error.code).toBe("validation_error");
      expect(r.json.error.details[0].path).toMatch(/^workflow/);
    }
    const unknownAgent = await call(
      "POST",
      "/api/v1/campaigns",
      { name: "x", campaignType: "emi", workflow: { steps: [{ type: "call", agentId: "ghost" }] } },
      t.auth,
    );
    expect(unknownAgent.status).toBe(400);
    expect(unknownAgent.json.error.code).toBe("unknown_agent");
    const unknownWebhook = await call(
      "POST",
      "/api/v1/campaigns",
      {
        name: "x",
        campaignType: "emi",
        workflow: { steps: [{ type: "call" }, { type: "webhook", webhookId: "wh_ghost" }] },
      },
      t.auth,
    );
    expect(unknownWebhook.status).toBe(400);
    expect(unknownWebhook.json.error).toMatchObject({
      code: "unknown_webhook",
      details: [{ path: "workflow.steps.1.webhookId" }],
    });
    // Another organization's webhook is unknown too.
    const other = await newTenant();
    const foreign = await registerWebhook(other.auth, { events: ["call.failed"] });
    const stolen = await call(
      "POST",
      "/api/v1/campaigns",
      { name: "x", campaignType: "emi", workflow: { steps: [{ type: "webhook", webhookId: foreign.id }] } },
      t.auth,
    );
    expect(stolen.status).toBe(400);
    expect(stolen.json.error.code).toBe("unknown_webhook");

    const ok = await call(
      "POST",
      "/api/v1/campaigns",
      {
        id: "good",
        name: "x",
        campaignType: "emi",
        workflow: {
          steps: [
            { type: "wait", until: { field: "emi_due_date", offsetDays: -2 } },
            { type: "call", agentId: "agent-1", dispositionId: "disp-1" },
            { type: "wait", duration: "1d" },
          ],
        },
      },
      t.auth,
    );
    expect(ok.status).toBe(201);
    expect(ok.json.workflow.steps).toEqual([
      { type: "wait", until: { field: "emi_due_date", offsetDays: -2, at: "10:00" } },
      { type: "call", agentId: "agent-1", dispositionId: "disp-1" },
      { type: "wait", duration: 86_400 },
    ]);
  });

  it("useWorkflow needs callConfig when the workflow's call steps name no agent", async () => {
    const t = await newTenant();
    const body = { campaignId: "emi", records: [loanRecord(1)], useWorkflow: true };
    const refused = await call("POST", "/api/v1/customers/add/bulk", body, t.auth);
    expect(refused.status).toBe(400);
    expect(refused.json.error.details).toEqual([
      {
        path: "callConfig",
        message:
          "is required: the campaign's workflow has call steps that name no agent, and the campaign has no default agentId and dispositionId",
      },
    ]);
    const accepted = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { ...body, callConfig: CALL_CONFIG },
      t.auth,
    );
    expect(accepted.status).toBe(201);
    expect(accepted.json.workflowTriggered).toBe(true);
  });
});

describe("WORKFLOWS consumer", () => {
  it("starts one instance per customer, and a redelivery starts nothing new", async () => {
    const t = await workflowTenant([{ type: "wait", duration: "30d" }]);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1), loanRecord(2), loanRecord(3)], {
      useWorkflow: true,
    });
    let created = 0;
    const real = createWorkflowLauncher(env.CUSTOMER_WORKFLOW as any);
    const counting: WorkflowLauncher = {
      async start(instances) {
        const result = await real.start(instances);
        created += instances.length;
        return result;
      },
    };
    const worker = workerWith({ workflowLauncher: counting });
    const first = await deliver(worker, "bulkcall-workflows", seeded.messages);
    expect(first.explicitAcks).toHaveLength(1);
    expect(created).toBe(3);
    const rows = await runRows(seeded.importId);
    expect(rows.map((r) => r.instance_id)).toEqual(
      seeded.customerIds.map((id) => workflowInstanceId(seeded.importId, id)),
    );
    expect(rows.every((r) => r.started_at !== null)).toBe(true);

    // The same message again: every run is already started, so nothing is asked of Workflows.
    const again = await deliver(worker, "bulkcall-workflows", seeded.messages);
    expect(again.explicitAcks).toHaveLength(1);
    expect(created).toBe(3);

    // And Workflows itself refuses a second instance with one of those ids.
    const direct = await env.CUSTOMER_WORKFLOW.createBatch({
      instances: [
        { id: rows[0]!.instance_id, params: { importId: seeded.importId, customerId: rows[0]!.customer_id } },
      ],
    });
    expect(direct.created).toHaveLength(0);
    expect(direct.errors).toHaveLength(1);
    // ...which the launcher reads as "already started", so a consumer that died before recording
    // the start is harmless.
    await env.DB.prepare("UPDATE workflow_runs SET status = 'queued', started_at = NULL WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    await env.DB.prepare("UPDATE outbox_batches SET state = 'sent' WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    const afterCrash = await deliver(worker, "bulkcall-workflows", seeded.messages);
    expect(afterCrash.explicitAcks).toHaveLength(1);
    expect((await runRows(seeded.importId)).every((r) => r.started_at !== null)).toBe(true);
  });

  it("retries the message when Workflows refuses some instances, then finishes the batch", async () => {
    const t = await workflowTenant([{ type: "wait", duration: "30d" }]);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1), loanRecord(2)], { useWorkflow: true });
    const refusing: WorkflowLauncher = {
      async start(instances) {
        return { started: [], failed: instances.map((i) => ({ id: i.id, message: "service unavailable" })) };
      },
    };
    const failed = await deliver(
      workerWith({ workflowLauncher: refusing }),
      "bulkcall-workflows",
      seeded.messages,
    );
    expect(failed.retryMessages).toHaveLength(1);
    expect((await runRows(seeded.importId)).map((r) => r.status)).toEqual(["queued", "queued"]);

    const ok = await deliver(workerWith({}), "bulkcall-workflows", seeded.messages, 2);
    expect(ok.explicitAcks).toHaveLength(1);
    expect((await runRows(seeded.importId)).map((r) => r.status)).toEqual(["started", "started"]);
  });

  it("a dead-lettered batch fails its runs that never started, visible in the progress", async () => {
    const t = await workflowTenant([{ type: "wait", duration: "30d" }]);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1), loanRecord(2)], { useWorkflow: true });
    await env.DB.prepare("UPDATE outbox_batches SET last_error = 'workflows unavailable' WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    await deliver(workerWith({}), "bulkcall-workflows-dlq", seeded.messages);
    const p = await progressOf(seeded.importId, t.auth);
    expect(p.workflows).toEqual({
      requested: 2,
      started: 0,
      running: 0,
      completed: 0,
      failed: 2,
      errors: [{ batch: 0, customers: 2, message: "dead_lettered: workflows unavailable" }],
    });
  });
});

describe("a customer's run", () => {
  it("advances through a sleep, places its call once through the dialer, and sends its webhook step's event", async () => {
    const t = await newTenant();
    const hook = await registerWebhook(t.auth, { events: ["workflow.completed"] });
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: {
        steps: [{ type: "wait", duration: "2d" }, { type: "call" }, { type: "webhook", webhookId: hook.id }],
      },
    });
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const customerId = seeded.customerIds[0] as number;
    const instanceId = workflowInstanceId(seeded.importId, customerId);
    await using instance = await introspectWorkflowInstance(env.CUSTOMER_WORKFLOW, instanceId);
    await instance.modify(async (m) => {
      await m.disableSleeps();
    });

    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ outcome: "finished" });

    expect(await callRows(seeded.importId)).toEqual([
      { customer_id: customerId, origin: "workflow:1", status: "dispatched", reason: null },
    ]);
    // The step's workflow.step event and the run's workflow.completed, through the real queue,
    // verified by the receiver with the webhook's own secret.
    const bodies = await until(
      "both events at the receiver",
      () => verifiedBodies(hook.key),
      (b) => b.length >= 2,
    );
    const [customer] = (await call("GET", "/api/v1/campaigns/wf/customers", undefined, t.auth)).json.data;
    const byType = Object.fromEntries(bodies.map((b) => [b.type, b]));
    expect(Object.keys(byType).sort()).toEqual(["workflow.completed", "workflow.step"]);
    expect(byType["workflow.step"]).toEqual({
      type: "workflow.step",
      timestamp: expect.any(String),
      data: {
        instanceId,
        step: 2,
        importId: seeded.importId,
        campaignId: "wf",
        customerId,
        loan_id: customer.loan_id,
        lead_id: null,
        phone_number: customer.phone_number,
        payment_status: customer.payment_status,
      },
    });
    expect(byType["workflow.completed"].data).toMatchObject({
      instanceId,
      status: "completed",
      outcome: "finished",
      reason: null,
      step: 2,
      customerId,
      loan_id: customer.loan_id,
      phone_number: customer.phone_number,
      campaignId: "wf",
      importId: seeded.importId,
    });
    const [run] = await runRows(seeded.importId);
    expect(run).toMatchObject({ status: "completed", outcome: "finished" });
    const p = await progressOf(seeded.importId, t.auth);
    expect(p.workflows).toMatchObject({ requested: 1, started: 1, running: 0, completed: 1, failed: 0 });
  });

  it("stops when the customer has paid, before calling", async () => {
    const t = await newTenant();
    // The default collections workflow's shape: wait, stop if paid, call; twice. (Its waits are a day
    // apart; with sleeps disabled they are not, so the second call would wait out the gap on the
    // number of the first: the contact rules hold inside a workflow too.)
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: {
        steps: [
          { type: "wait", duration: "1d" },
          { type: "stop_if_paid" },
          { type: "call" },
          { type: "wait", duration: "1d" },
          { type: "stop_if_paid" },
        ],
      },
    });
    const seeded = await seedCallImport(
      t.orgId,
      "wf",
      [loanRecord(1, { payment_status: "paid" }), loanRecord(2, { payment_status: "pending" })],
      { useWorkflow: true },
    );
    await using introspector = await introspectWorkflow(env.CUSTOMER_WORKFLOW);
    await introspector.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    const instances = await introspector.get();
    expect(instances).toHaveLength(2);
    for (const i of instances) await i.waitForStatus("complete");

    const rows = await runRows(seeded.importId);
    expect(rows.map((r) => r.outcome)).toEqual(["stopped_paid", "finished"]);
    // The unpaid customer got the call; the paid one none.
    expect((await callRows(seeded.importId)).map((c) => [c.customer_id, c.origin, c.status])).toEqual([
      [seeded.customerIds[1], "workflow:2", "dispatched"],
    ]);
  });

  it("is not held up by a receiver that refuses its webhook step: the delivery is retried on its own", async () => {
    const t = await newTenant();
    // Subscribed to no event: it receives only what the step sends it.
    const refusing = await registerWebhook(t.auth, { events: [], scenario: "always-500" });
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "webhook", webhookId: refusing.id }, { type: "stop_if_paid" }] },
    });
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const instanceId = workflowInstanceId(seeded.importId, seeded.customerIds[0]!);
    await using instance = await introspectWorkflowInstance(env.CUSTOMER_WORKFLOW, instanceId);
    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    await instance.waitForStatus("complete");
    const [run] = await runRows(seeded.importId);
    expect(run).toMatchObject({ status: "completed", outcome: "finished" });
    const [delivery] = await until(
      "the first attempt",
      () => deliveriesOf(refusing.id, t.auth),
      (d) => d[0]?.attempts >= 1,
    );
    expect(delivery).toMatchObject({
      eventType: "workflow.step",
      status: "pending",
      lastResponseStatus: 500,
    });
    expect((await receivedBy(refusing.key))[0]?.verified).toBe(true);
  });

  it("skips a webhook step whose webhook was deleted after the campaign was created", async () => {
    const t = await newTenant();
    const hook = await registerWebhook(t.auth, { events: ["call.failed"] });
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "webhook", webhookId: hook.id }] },
    });
    expect((await call("DELETE", `/api/v1/webhooks/${hook.id}`, undefined, t.auth)).status).toBe(204);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const instanceId = workflowInstanceId(seeded.importId, seeded.customerIds[0]!);
    await using instance = await introspectWorkflowInstance(env.CUSTOMER_WORKFLOW, instanceId);
    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    await instance.waitForStatus("complete");
    expect((await runRows(seeded.importId))[0]).toMatchObject({ status: "completed", outcome: "finished" });
    const { results } = await env.DB.prepare(
      "SELECT count(*) AS n FROM webhook_deliveries d JOIN webhooks w ON w.pk = d.webhook_pk WHERE w.id = ?",
    )
      .bind(hook.id)
      .all<{ n: number }>();
    expect(results[0]?.n).toBe(0);
  });

  it("end to end: a bulk request with useWorkflow runs every customer through the real queue", async () => {
    const t = await workflowTenant([{ type: "call" }, { type: "wait", duration: "1h" }]);
    await using introspector = await introspectWorkflow(env.CUSTOMER_WORKFLOW);
    await introspector.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const records = Array.from({ length: 30 }, (_, i) => loanRecord(i));
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "wf", records, useWorkflow: true, callConfig: CALL_CONFIG },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.workflowTriggered).toBe(true);
    const p = await until(
      "every run to complete",
      () => progressOf(r.json.importId, t.auth),
      (progress) => progress.workflows.completed + progress.workflows.failed >= 30,
      60_000,
    );
    expect(p.workflows).toEqual({
      requested: 30,
      started: 30,
      running: 0,
      completed: 30,
      failed: 0,
      errors: [],
    });
    const calls = await callRows(r.json.importId);
    expect(calls).toHaveLength(30);
    expect(new Set(calls.map((c) => c.customer_id)).size).toBe(30);
    expect(calls.every((c) => c.status === "dispatched" && c.origin === "workflow:0")).toBe(true);
  }, 90_000);
});

/**
 * The durable primitives as the platform gives them, without the platform: a step's result is kept
 * in `journal` and handed back, unrun, to a later execution over the same journal (a replay after a
 * restart); a sleep moves the pinned clock to its moment, or with `evictAtSleep` never returns (the
 * instance is evicted while it sleeps). Everything asked for is recorded.
 */
function fakeSteps(
  clock: ReturnType<typeof pinnedClock>,
  journal = new Map<string, unknown>(),
  { evictAtSleep = false } = {},
) {
  const executed: string[] = [];
  const sleeps: { name: string; at: number; askedAt: number }[] = [];
  const steps: Steps = {
    async do<T>(name: string, fn: () => Promise<T>): Promise<T> {
      if (journal.has(name)) return journal.get(name) as T;
      const value = await fn();
      executed.push(name);
      journal.set(name, value);
      return value;
    },
    async sleepUntil(name, at) {
      const askedAt = clock.now();
      sleeps.push({ name, at, askedAt });
      if (evictAtSleep) return new Promise<void>(() => {});
      if (at > askedAt) clock.advance(at - askedAt);
    },
  };
  return { steps, executed, sleeps, journal };
}

const ms = (iso: string) => Date.parse(iso);

/**
 * Runs of customers stored with useWorkflow, driven by the test itself: each run has its own pinned
 * clock and stand-in steps, over the real repositories and eligibility rules.
 */
async function pinnedRuns(campaign: Record<string, unknown>, records: unknown[]) {
  const t = await newTenant();
  await createCampaign(t.auth, { id: "pinned", timezone: "Asia/Kolkata", ...campaign });
  const seeded = await seedCallImport(t.orgId, "pinned", records, { useWorkflow: true });
  await createDeps(env).workflowRuns.ensureRuns(seeded.importId, 0, seeded.customerIds, Date.now());
  return {
    t,
    seeded,
    async run(
      customerId: number,
      at: string,
      options: { journal?: Map<string, unknown>; evictAtSleep?: boolean; dialer?: Dialer } = {},
    ) {
      const clock = pinnedClock(at);
      const dialer = countingDialer(options.dialer ?? createLogDialer(() => {}));
      const fake = fakeSteps(clock, options.journal, { evictAtSleep: options.evictAtSleep });
      const deps = createDeps(env, { clock, dialer: dialer.dialer });
      const outcome = runCustomerWorkflow(deps, fake.steps, workflowInstanceId(seeded.importId, customerId), {
        importId: seeded.importId,
        customerId,
      });
      return { ...fake, clock, dialer, outcome };
    },
    async calls(customerId: number) {
      const { results } = await env.DB.prepare(
        "SELECT origin, status, dispatched_at FROM calls WHERE import_id = ? AND customer_id = ? ORDER BY origin",
      )
        .bind(seeded.importId, customerId)
        .all<{ origin: string; status: string; dispatched_at: number | null }>();
      return results.map((c) => [
        c.origin,
        c.status,
        c.dispatched_at && new Date(c.dispatched_at).toISOString(),
      ]);
    },
    async runRow(customerId: number) {
      return (await runRows(seeded.importId)).find((r) => r.customer_id === customerId);
    },
  };
}

describe("a run's waits (pinned clock, stand-in steps)", () => {
  // 2026-11-27 is a Friday; 04:30 UTC is 10:00 in India. The default window is 08:00-19:00 daily.
  const FRIDAY_10_IST = "2026-11-27T04:30:00.000Z";

  it("the default collections workflow calls a borrower due tomorrow today, and again the day after the due date", async () => {
    const runs = await pinnedRuns({}, [
      loanRecord(1, { emi_due_date: "2026-11-28" }),
      loanRecord(2, { emi_due_date: "2026-11-27" }),
    ]);
    const [tomorrow, today] = runs.seeded.customerIds as [number, number];

    const due = await runs.run(tomorrow, FRIDAY_10_IST);
    expect(await due.outcome).toEqual({ outcome: "finished" });
    // "3 days before the due date" was Wednesday: no sleep for it, the first call is placed now.
    // The only sleep is the one to the day after the due date, at 11:00.
    expect(due.sleeps).toEqual([
      { name: "3:wait", at: ms("2026-11-29T05:30:00Z"), askedAt: ms(FRIDAY_10_IST) },
    ]);
    expect(await runs.calls(tomorrow)).toEqual([
      ["workflow:2", "dispatched", FRIDAY_10_IST],
      ["workflow:5", "dispatched", "2026-11-29T05:30:00.000Z"],
    ]);
    expect(await runs.runRow(tomorrow)).toMatchObject({
      status: "completed",
      outcome: "finished",
      last_error: null,
    });

    const dueToday = await runs.run(today, FRIDAY_10_IST);
    expect(await dueToday.outcome).toEqual({ outcome: "finished" });
    expect(dueToday.sleeps).toEqual([
      { name: "3:wait", at: ms("2026-11-28T05:30:00Z"), askedAt: ms(FRIDAY_10_IST) },
    ]);
    expect(await runs.calls(today)).toEqual([
      ["workflow:2", "dispatched", FRIDAY_10_IST],
      ["workflow:5", "dispatched", "2026-11-28T05:30:00.000Z"],
    ]);
  });

  it("a customer without the date, or whose moment has passed, continues at once; a moment ahead is slept until", async () => {
    const runs = await pinnedRuns(
      {
        workflow: { steps: [{ type: "wait", until: { field: "lead_date", at: "09:00" } }, { type: "call" }] },
      },
      [loanRecord(1), loanRecord(2, { lead_date: "2026-11-27" }), loanRecord(3, { lead_date: "2026-11-28" })],
    );
    const [missing, passed, ahead] = runs.seeded.customerIds as [number, number, number];

    for (const id of [missing, passed]) {
      const r = await runs.run(id, FRIDAY_10_IST);
      expect(await r.outcome).toEqual({ outcome: "finished" });
      expect(r.sleeps).toEqual([]);
      expect(r.executed).toEqual(["load", "0:check", "0:wait:deadline", "1:check", "1:call:0", "finish"]);
      expect(await runs.calls(id)).toEqual([["workflow:1", "dispatched", FRIDAY_10_IST]]);
    }

    const r = await runs.run(ahead, FRIDAY_10_IST);
    expect(await r.outcome).toEqual({ outcome: "finished" });
    expect(r.sleeps).toEqual([
      { name: "0:wait", at: ms("2026-11-28T03:30:00Z"), askedAt: ms(FRIDAY_10_IST) },
    ]);
    expect(await runs.calls(ahead)).toEqual([["workflow:1", "dispatched", "2026-11-28T03:30:00.000Z"]]);
  });

  it("a date ahead, then a duration: sleeps until each moment in turn", async () => {
    const runs = await pinnedRuns(
      {
        workflow: {
          steps: [
            { type: "wait", until: { field: "emi_due_date", offsetDays: -3, at: "10:00" } },
            { type: "wait", duration: "6h" },
            { type: "call" },
          ],
        },
      },
      [loanRecord(1, { emi_due_date: "2026-12-10" })],
    );
    const [id] = runs.seeded.customerIds as [number];
    const r = await runs.run(id, FRIDAY_10_IST);
    expect(await r.outcome).toEqual({ outcome: "finished" });
    expect(r.sleeps).toEqual([
      { name: "0:wait", at: ms("2026-12-07T04:30:00Z"), askedAt: ms(FRIDAY_10_IST) },
      { name: "1:wait", at: ms("2026-12-07T10:30:00Z"), askedAt: ms("2026-12-07T04:30:00Z") },
    ]);
    expect(await runs.calls(id)).toEqual([["workflow:2", "dispatched", "2026-12-07T10:30:00.000Z"]]);
  });

  it("a passed moment at night still waits for the calling window before dialling", async () => {
    const runs = await pinnedRuns({}, [loanRecord(1, { emi_due_date: "2026-11-28" })]);
    const [id] = runs.seeded.customerIds as [number];
    const twoAmIst = "2026-11-26T20:30:00.000Z";
    const r = await runs.run(id, twoAmIst);
    expect(await r.outcome).toEqual({ outcome: "finished" });
    // No sleep for the passed deadline; the call step sleeps until the window opens at 08:00.
    expect(r.sleeps[0]).toEqual({
      name: "2:call:0:window",
      at: ms("2026-11-27T02:30:00Z"),
      askedAt: ms(twoAmIst),
    });
    expect(await runs.calls(id)).toEqual([
      ["workflow:2", "dispatched", "2026-11-27T02:30:00.000Z"],
      ["workflow:5", "dispatched", "2026-11-29T05:30:00.000Z"],
    ]);
  });

  it("a run restarted after its deadline replays the recorded deadline, continues at once and dials once", async () => {
    const runs = await pinnedRuns(
      { workflow: { steps: [{ type: "wait", duration: "2d" }, { type: "call" }] } },
      [loanRecord(1)],
    );
    const [id] = runs.seeded.customerIds as [number];
    const journal = new Map<string, unknown>();
    const first = await runs.run(id, FRIDAY_10_IST, { journal, evictAtSleep: true });
    await until(
      "the first execution to sleep",
      async () => first.sleeps.length,
      (n) => n === 1,
      5_000,
    );
    expect(first.sleeps).toEqual([
      { name: "0:wait", at: ms("2026-11-29T04:30:00Z"), askedAt: ms(FRIDAY_10_IST) },
    ]);

    // Woken a day after the deadline: the engine runs the workflow from the top over its journal.
    const replay = await runs.run(id, "2026-11-30T04:30:00.000Z", { journal });
    expect(await replay.outcome).toEqual({ outcome: "finished" });
    expect(replay.executed).toEqual(["1:check", "1:call:0", "finish"]);
    // The recorded deadline (not one recomputed from the later clock), already behind the clock.
    expect(replay.sleeps).toEqual([
      { name: "0:wait", at: ms("2026-11-29T04:30:00Z"), askedAt: ms("2026-11-30T04:30:00.000Z") },
    ]);
    expect(replay.dialer.requests).toHaveLength(1);
    expect(await runs.calls(id)).toEqual([["workflow:1", "dispatched", "2026-11-30T04:30:00.000Z"]]);
  });

  it("the platform adapter never hands the engine a moment that has passed", async () => {
    const asked: [string, unknown][] = [];
    const step = {
      do: async (_name: string, _config: unknown, fn: () => Promise<unknown>) => fn(),
      sleep: async (name: string, duration: unknown) => {
        asked.push([name, duration]);
      },
    };
    const steps = platformSteps(step as never, () => 10_000);
    await steps.sleepUntil("passed", 9_999);
    await steps.sleepUntil("now", 10_000);
    await steps.sleepUntil("missing date recorded by older runs", 0);
    await steps.sleepUntil("ahead", 12_500);
    expect(asked).toEqual([["ahead", 2_500]]);
    expect(await steps.do("step", async () => 42)).toBe(42);
  });
});

describe("why runs failed", () => {
  const downDialer: Dialer = {
    name: "down",
    async dispatch() {
      return { kind: "retry", reason: "dialer answered 503" };
    },
  };

  it("a failed run records the step and the cause; the import lists runs by reason with a few examples", async () => {
    const runs = await pinnedRuns({ workflow: { steps: [{ type: "call" }] } }, [
      loanRecord(1),
      loanRecord(2),
      loanRecord(3),
      loanRecord(4),
    ]);
    for (const id of runs.seeded.customerIds) {
      const r = await runs.run(id, "2026-11-27T04:30:00.000Z", { dialer: downDialer });
      await expect(r.outcome).rejects.toThrow(/did not take the call/);
    }
    const reason =
      "step 0 (call): the dialer did not take the call (dialer answered 503); check that it is up";
    expect((await runRows(runs.seeded.importId)).map((r) => [r.status, r.last_error])).toEqual(
      runs.seeded.customerIds.map(() => ["failed", reason]),
    );
    const p = await progressOf(runs.seeded.importId, runs.t.auth);
    expect(p.workflows).toEqual({
      requested: 4,
      started: 4,
      running: 0,
      completed: 0,
      failed: 4,
      errors: [
        {
          customers: 4,
          message: reason,
          examples: runs.seeded.customerIds.slice(0, 3).map((id, i) => ({
            customerId: id,
            loan_id: `LN-00000${i + 1}`,
            lead_id: null,
            instanceId: workflowInstanceId(runs.seeded.importId, id),
          })),
        },
      ],
    });
  });

  it("lists at most ten reasons and counts the rest, after the dead-lettered batches", async () => {
    const t = await workflowTenant([{ type: "wait", duration: "30d" }]);
    const records = Array.from({ length: 15 }, (_, i) => loanRecord(i));
    const seeded = await seedCallImport(t.orgId, "wf", records, { useWorkflow: true });
    const deps = createDeps(env);
    await deps.workflowRuns.ensureRuns(seeded.importId, 0, seeded.customerIds, Date.now());
    const ids = seeded.customerIds;
    // Three runs share one reason, eleven fail for reasons of their own, one never started.
    for (const [i, id] of ids.slice(0, 14).entries()) {
      await deps.workflowRuns.update(workflowInstanceId(seeded.importId, id), { status: "running" }, 1);
      const lastError = i < 3 ? "step 0 (wait): shared" : `step 0 (wait): own ${String(i).padStart(2, "0")}`;
      await deps.workflowRuns.update(
        workflowInstanceId(seeded.importId, id),
        { status: "failed", lastError },
        2,
      );
    }
    await env.DB.prepare("UPDATE outbox_batches SET last_error = 'workflows unavailable' WHERE import_id = ?")
      .bind(seeded.importId)
      .run();
    await deliver(workerWith({}), "bulkcall-workflows-dlq", seeded.messages);

    const p = await progressOf(seeded.importId, t.auth);
    expect(p.workflows).toMatchObject({ requested: 15, started: 14, failed: 15 });
    const errors = p.workflows.errors as any[];
    expect(errors).toHaveLength(12);
    expect(errors[0]).toEqual({ batch: 0, customers: 15, message: "dead_lettered: workflows unavailable" });
    expect(errors[1]).toMatchObject({ customers: 3, message: "step 0 (wait): shared" });
    expect(errors[1].examples.map((e: any) => e.customerId)).toEqual(ids.slice(0, 3));
    expect(errors.slice(2, 11).map((e) => [e.customers, e.message, e.examples.length])).toEqual(
      Array.from({ length: 9 }, (_, k) => [1, `step 0 (wait): own ${String(k + 3).padStart(2, "0")}`, 1]),
    );
    expect(errors[11]).toEqual({
      customers: 2,
      message: "2 more runs failed for 2 other reasons (only the 10 most frequent reasons are listed)",
      examples: [],
    });
  });
});

describe("end to end through real sleeps", () => {
  it("past and missing dates continue, a real 2-second wait is slept, and every customer is dialled", async () => {
    const t = await workflowTenant([
      { type: "wait", until: { field: "emi_due_date", offsetDays: -3, at: "10:00" } },
      { type: "wait", until: { field: "lead_date", offsetDays: 0, at: "10:00" } },
      // The schema's shortest wait is one second; two leave no doubt that the engine really slept.
      { type: "wait", duration: 2 },
      { type: "call" },
    ]);
    // Nothing is switched off: every sleep is a real one. (Why failed runs show in the progress is
    // covered above, with the run's steps driven by the test.)
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const records = [
      // Due tomorrow: "3 days before" has passed, and so has the promised date.
      loanRecord(1, { emi_due_date: day(1), lead_date: day(-1) }),
      // No lead_date at all.
      loanRecord(2, { emi_due_date: day(1) }),
      // Due in two days, its lead date a month ago: both waits have passed.
      loanRecord(3, { emi_due_date: day(2), lead_date: day(-30) }),
    ];
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "wf", records, useWorkflow: true, callConfig: CALL_CONFIG },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.workflowTriggered).toBe(true);
    const importId: string = r.json.importId;
    const p = await until(
      "every run to end",
      () => progressOf(importId, t.auth),
      (progress) => progress.workflows.completed + progress.workflows.failed >= 3,
      60_000,
    );
    expect(p.workflows).toEqual({
      requested: 3,
      started: 3,
      running: 0,
      completed: 3,
      failed: 0,
      errors: [],
    });

    // Every customer reached the call step and was dialled, read back through the API.
    const calls = await callsOf("wf", t.auth);
    expect(
      calls
        .map((c) => [c.loan_id, c.status, c.origin, c.importId])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ["LN-000001", "dispatched", "workflow:3", importId],
      ["LN-000002", "dispatched", "workflow:3", importId],
      ["LN-000003", "dispatched", "workflow:3", importId],
    ]);
    // Each call came after the 2-second wait: the wait was really slept, not skipped.
    const { results: waited } = await env.DB.prepare(
      `SELECT c.dispatched_at - r.started_at AS waited FROM calls c
       JOIN workflow_runs r ON r.import_id = c.import_id AND r.customer_id = c.customer_id
       WHERE c.import_id = ?`,
    )
      .bind(importId)
      .all<{ waited: number }>();
    expect(waited).toHaveLength(3);
    for (const w of waited) expect(w.waited).toBeGreaterThanOrEqual(2_000);
  }, 90_000);
});
