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
      { steps: [{ type: "webhook", url: "ftp://example.com/x" }] },
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
  it("advances through a sleep, places its call once through the dialer, and calls the signed webhook", async () => {
    const key = `wf-${crypto.randomUUID()}`;
    const t = await workflowTenant([
      { type: "wait", duration: "2d" },
      { type: "call" },
      { type: "webhook", url: `${env.DIALER_URL}/ok/${key}` },
    ]);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const instanceId = workflowInstanceId(seeded.importId, seeded.customerIds[0]!);
    await using instance = await introspectWorkflowInstance(env.CUSTOMER_WORKFLOW, instanceId);
    await instance.modify(async (m) => {
      await m.disableSleeps();
    });

    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ outcome: "finished" });

    expect(await callRows(seeded.importId)).toEqual([
      { customer_id: seeded.customerIds[0], origin: "workflow:1", status: "dispatched", reason: null },
    ]);
    const received = await (await fetch(`${env.DIALER_URL}/received/${key}`)).json<any[]>();
    expect(received).toHaveLength(1);
    expect(received[0].signatureValid).toBe(true);
    expect(received[0].body).toMatchObject({
      event: "workflow.step",
      instanceId,
      importId: seeded.importId,
      step: 2,
      customer: {
        id: seeded.customerIds[0],
        loan_id: "LN-000001",
        phone_number: expect.stringMatching(/^\+91/),
      },
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

  it("fails, with the reason, when its webhook keeps being refused", async () => {
    const key = `wf-${crypto.randomUUID()}`;
    const t = await workflowTenant([{ type: "webhook", url: `${env.DIALER_URL}/bad-request/${key}` }]);
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const instanceId = workflowInstanceId(seeded.importId, seeded.customerIds[0]!);
    await using instance = await introspectWorkflowInstance(env.CUSTOMER_WORKFLOW, instanceId);
    await instance.modify(async (m) => {
      await m.disableRetryDelays();
    });
    await deliver(workerWith({}), "bulkcall-workflows", seeded.messages);
    await instance.waitForStatus("errored");
    const [run] = await runRows(seeded.importId);
    expect(run?.status).toBe("failed");
    expect(run?.last_error).toMatch(/answered 400/);
    const received = await (await fetch(`${env.DIALER_URL}/received/${key}`)).json<any[]>();
    expect(received.length).toBeGreaterThan(1);
    const p = await progressOf(seeded.importId, t.auth);
    expect(p.workflows).toMatchObject({ requested: 1, started: 1, running: 0, completed: 0, failed: 1 });
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
