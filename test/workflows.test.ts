// Workflow runs: the WORKFLOWS consumer starts one Workflows instance per customer (once, however
// often the message comes), and each instance walks the campaign's steps with the real dialer path.
import { introspectWorkflow, introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createWorkflowLauncher } from "../src/adapters/workflow-launcher";
import { workflowInstanceId } from "../src/db/workflow-runs-repository";
import type { WorkflowLauncher } from "../src/domain/ports/workflows";
import {
  CALL_CONFIG,
  createCampaign,
  deliver,
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
        message: "is required: the campaign's workflow has call steps that name no agent",
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
    await createCampaign(t.auth, { id: "wf", ...windowOpenNow() }); // the default collections workflow
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
    // The unpaid customer got both calls of the default workflow; the paid one none.
    expect((await callRows(seeded.importId)).map((c) => [c.customer_id, c.origin, c.status])).toEqual([
      [seeded.customerIds[1], "workflow:2", "dispatched"],
      [seeded.customerIds[1], "workflow:5", "dispatched"],
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
