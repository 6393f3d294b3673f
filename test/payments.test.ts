// A payment takes effect at once: when an update (single or bulk) makes a customer paid or
// received, its waiting calls become skipped (reason paid) in the same write, and its running
// workflow runs end at their next step.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { workflowInstanceId } from "../src/db/workflow-runs-repository";
import { createDeps } from "../src/deps";
import type { Steps } from "../src/domain/ports/workflows";
import { runCustomerWorkflow } from "../src/domain/workflows/run-customer-workflow";
import {
  callsOf,
  callTenant,
  createCampaign,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

/** 01:00 in India on a Monday: the "ist" campaign's window (08:00-19:00) is closed. */
const MONDAY_1_IST = "2026-11-23T01:00:00+05:30";

/** Customers of campaign "ist" whose calls wait for the window (delayed). */
async function waitingCalls(count: number) {
  const t = await callTenant();
  const records = Array.from({ length: count }, (_, i) => loanRecord(i));
  const seeded = await seedCallImport(t.orgId, "ist", records);
  const worker = workerWith({ clock: pinnedClock(MONDAY_1_IST), dialer: createLogDialer(() => {}) });
  await deliver(worker, "bulkcall-calls", seeded.messages);
  const calls = await callsOf("ist", t.auth);
  expect(calls.every((c) => c.status === "delayed")).toBe(true);
  return { t, seeded };
}

const byLoan = (calls: any[]) => Object.fromEntries(calls.map((c) => [c.loan_id, c]));

describe("a payment recorded by PUT /api/v1/customers/update", () => {
  it("skips the customer's waiting calls with reason paid, and only its own", async () => {
    const { t, seeded } = await waitingCalls(3);
    const r = await call(
      "PUT",
      "/api/v1/customers/update",
      { campaignId: "ist", loan_id: "LN-000001", data: { payment_status: "Paid" } },
      t.auth,
    );
    expect(r.status, r.text).toBe(200);
    expect(r.json.data).toEqual({ id: "LN-000001", result: "updated", changed: ["payment_status"] });

    const calls = byLoan(await callsOf("ist", t.auth));
    expect(calls["LN-000001"]).toMatchObject({ status: "skipped", reason: "paid", notBefore: null });
    expect(calls["LN-000000"]).toMatchObject({ status: "delayed" });
    expect(calls["LN-000002"]).toMatchObject({ status: "delayed" });
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 3, delayed: 2, skipped: { paid: 1 } });
  });

  it("a status that is not settled leaves the waiting calls alone", async () => {
    const { t } = await waitingCalls(1);
    const r = await call(
      "PUT",
      "/api/v1/customers/update",
      { campaignId: "ist", loan_id: "LN-000000", data: { payment_status: "partial" } },
      t.auth,
    );
    expect(r.status).toBe(200);
    expect((await callsOf("ist", t.auth))[0]).toMatchObject({ status: "delayed" });
  });
});

describe("a payment recorded by the daily file (onExisting: update)", () => {
  it("skips the waiting calls of the customers the file marks paid or received", async () => {
    const { t } = await waitingCalls(4);
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      {
        campaignId: "ist",
        onExisting: "update",
        records: [
          loanRecord(0, { payment_status: "paid" }),
          loanRecord(1),
          loanRecord(2, { payment_status: "RECEIVED" }),
          loanRecord(3, { emi_amount: 1 }),
        ],
      },
      t.auth,
    );
    expect(r.status, r.text).toBe(201);
    expect(r.json.results).toMatchObject({ updated: 3, unchanged: 1 });
    const calls = byLoan(await callsOf("ist", t.auth));
    expect(calls["LN-000000"]).toMatchObject({ status: "skipped", reason: "paid" });
    expect(calls["LN-000002"]).toMatchObject({ status: "skipped", reason: "paid" });
    expect(calls["LN-000001"]).toMatchObject({ status: "delayed" });
    expect(calls["LN-000003"]).toMatchObject({ status: "delayed" });
  });

  it("a call already being dialled (a live claim) is left to finish", async () => {
    const { t } = await waitingCalls(1);
    await env.DB.prepare(
      "UPDATE calls SET status = 'dispatching', claim_token = 'live', claimed_at = ? WHERE organization_id = ?",
    )
      .bind(Date.now(), t.orgId)
      .run();
    await call(
      "PUT",
      "/api/v1/customers/update",
      { campaignId: "ist", loan_id: "LN-000000", data: { payment_status: "paid" } },
      t.auth,
    );
    expect((await callsOf("ist", t.auth))[0]).toMatchObject({ status: "dispatching" });
  });
});

describe("a payment ends the customer's running workflow run at its next step", () => {
  /**
   * A run of campaign "wf" (wait a day, then call: no stop_if_paid step), driven with stand-in
   * steps; `duringSleep` runs while the run sleeps, as a request would meanwhile.
   */
  async function runWithUpdate(duringSleep: (auth: Record<string, string>) => Promise<unknown>) {
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "wait", duration: "1d" }, { type: "call" }] },
    });
    const seeded = await seedCallImport(t.orgId, "wf", [loanRecord(1)], { useWorkflow: true });
    const [customerId] = seeded.customerIds as [number];
    const deps = createDeps(env, { dialer: createLogDialer(() => {}) });
    await deps.workflowRuns.ensureRuns(seeded.importId, 0, [customerId], Date.now());
    const executed: string[] = [];
    const steps: Steps = {
      async do(name, fn) {
        executed.push(name);
        return fn();
      },
      async sleepUntil() {
        await duringSleep(t.auth);
      },
    };
    const instanceId = workflowInstanceId(seeded.importId, customerId);
    const outcome = await runCustomerWorkflow(deps, steps, instanceId, {
      importId: seeded.importId,
      customerId,
    });
    const run = await deps.workflowRuns.find(instanceId);
    const calls = await callsOf("wf", t.auth);
    return { outcome, executed, run, calls };
  }

  it("PUT update to paid: the run ends before its call step, outcome stopped_paid, no call", async () => {
    const r = await runWithUpdate((auth) =>
      call(
        "PUT",
        "/api/v1/customers/update",
        { campaignId: "wf", loan_id: "LN-000001", data: { payment_status: "paid" } },
        auth,
      ),
    );
    expect(r.outcome).toEqual({ outcome: "stopped_paid" });
    expect(r.executed).toEqual(["load", "0:check", "0:wait:deadline", "1:check", "finish"]);
    expect(r.run).toMatchObject({ status: "completed", outcome: "stopped_paid" });
    expect(r.calls).toEqual([]);
  });

  it("bulk refresh to received: the same", async () => {
    const r = await runWithUpdate((auth) =>
      call(
        "POST",
        "/api/v1/customers/add/bulk",
        { campaignId: "wf", onExisting: "update", records: [loanRecord(1, { payment_status: "received" })] },
        auth,
      ),
    );
    expect(r.outcome).toEqual({ outcome: "stopped_paid" });
    expect(r.run).toMatchObject({ status: "completed", outcome: "stopped_paid" });
    expect(r.calls).toEqual([]);
  });

  it("without a payment the run goes on and calls", async () => {
    const r = await runWithUpdate(async () => undefined);
    expect(r.outcome).toEqual({ outcome: "finished" });
    expect(r.calls.map((c) => [c.loan_id, c.status])).toEqual([["LN-000001", "dispatched"]]);
  });
});
