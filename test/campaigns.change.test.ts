// Campaigns change: PATCH (name, time zone, window, workflow, default agent and disposition; never the
// type), DELETE (409 while work waits unless force), and the default agent and disposition that make
// callConfig optional.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { workflowInstanceId } from "../src/db/workflow-runs-repository";
import { createDeps } from "../src/deps";
import { PURGE_AT_DELETE, PURGE_SETTLE_MS } from "../src/domain/campaigns/delete-campaign";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { Steps } from "../src/domain/ports/workflows";
import { runScheduledMaintenance } from "../src/domain/scheduled-maintenance";
import { runCustomerWorkflow } from "../src/domain/workflows/run-customer-workflow";
import {
  callsOf,
  callTenant,
  capturingQueue,
  createCampaign,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

const MONDAY_1_IST = "2026-11-23T01:00:00+05:30";
const MONDAY_10_IST = "2026-11-23T10:00:00+05:30";

/** The personal columns of the campaign's customer rows that are still filled in. */
async function personalDataLeft(orgId: string, campaignId: string) {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk
     WHERE p.organization_id = ? AND p.id = ? AND (c.first_name != '' OR c.phone_number != '' OR c.loan_id IS NOT NULL
       OR c.variables IS NOT NULL OR c.erased_at IS NULL)`,
  )
    .bind(orgId, campaignId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("PATCH /api/v1/campaigns/{campaignId} — success", () => {
  it("changes the fields sent, answers and stores the campaign, and keeps the rest", async () => {
    const t = await newTenant();
    const r = await call(
      "PATCH",
      "/api/v1/campaigns/emi",
      {
        name: "December collections",
        timezone: "Asia/Dubai",
        callingWindow: { start: "09:30", end: "18:00", days: ["mon", "tue"] },
        workflow: { steps: [{ type: "call" }] },
        agentId: "agent-1",
        dispositionId: "disp-1",
      },
      t.auth,
    );
    expect(r.status, r.text).toBe(200);
    const read = await call("GET", "/api/v1/campaigns/emi", undefined, t.auth);
    expect(read.json).toEqual(r.json);
    expect(read.json).toMatchObject({
      id: "emi",
      name: "December collections",
      campaignType: "emi",
      timezone: "Asia/Dubai",
      defaultCountry: "IN",
      callingWindow: { start: "09:30", end: "18:00", days: ["mon", "tue"] },
      workflow: { steps: [{ type: "call" }] },
      agentId: "agent-1",
      dispositionId: "disp-1",
    });
    const cleared = await call(
      "PATCH",
      "/api/v1/campaigns/emi",
      { workflow: null, agentId: null, dispositionId: null },
      t.auth,
    );
    expect(cleared.json).toMatchObject({
      workflow: null,
      agentId: null,
      dispositionId: null,
      name: "December collections",
    });
  });

  it("a new calling window applies to calls already waiting for the old one", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const clock = pinnedClock(MONDAY_1_IST);
    const worker = workerWith({ clock, dialer: createLogDialer(() => {}) });
    await deliver(worker, "bulkcall-calls", seeded.messages);
    expect((await callsOf("ist", t.auth))[0].status).toBe("delayed");
    await call("PATCH", "/api/v1/campaigns/ist", { callingWindow: { start: "00:00", end: "23:59" } }, t.auth);
    await deliver(worker, "bulkcall-calls", seeded.messages);
    expect((await callsOf("ist", t.auth))[0].status).toBe("dispatched");
  });
});

describe("PATCH a calling window: only the fields named change", () => {
  it("blackout dates alone keep the hours and days; an end before the start is refused", async () => {
    const t = await newTenant();
    const window = { start: "09:00", end: "18:00", days: ["mon", "tue", "wed", "thu", "fri", "sat"] };
    const created = await call(
      "POST",
      "/api/v1/campaigns",
      { id: "w1", name: "W1", campaignType: "emi", callingWindow: window },
      t.auth,
    );
    expect(created.status, created.text).toBe(201);
    const dates = await call(
      "PATCH",
      "/api/v1/campaigns/w1",
      { callingWindow: { blackoutDates: ["2026-12-25"] } },
      t.auth,
    );
    expect(dates.status, dates.text).toBe(200);
    const stored = (await call("GET", "/api/v1/campaigns/w1", undefined, t.auth)).json.callingWindow;
    // No Sunday, no 08:00: the window is the one the campaign had.
    expect(stored).toEqual({ ...window, blackoutDates: ["2026-12-25"] });

    const later = await call("PATCH", "/api/v1/campaigns/w1", { callingWindow: { end: "19:00" } }, t.auth);
    expect(later.json.callingWindow).toEqual({ ...window, end: "19:00", blackoutDates: ["2026-12-25"] });

    const inverted = await call("PATCH", "/api/v1/campaigns/w1", { callingWindow: { end: "08:30" } }, t.auth);
    expect(inverted.status).toBe(400);
    expect(inverted.json.error.details).toEqual([
      { path: "callingWindow.end", message: "must be after start (the window would be 09:00-08:30)" },
    ]);
    const unknown = await call(
      "PATCH",
      "/api/v1/campaigns/w1",
      { callingWindow: { Start: "10:00" } },
      t.auth,
    );
    expect(unknown.status).toBe(400);
    expect((await call("GET", "/api/v1/campaigns/w1", undefined, t.auth)).json.callingWindow.end).toBe(
      "19:00",
    );
  });
});

describe("PATCH /api/v1/campaigns/{campaignId} — errors", () => {
  const cases: [string, unknown, string, string][] = [
    ["the type cannot change", { campaignType: "lead" }, "validation_error", "campaignType"],
    ["the id cannot change", { id: "other" }, "validation_error", "id"],
    ["an unknown field", { colour: "red" }, "validation_error", ""],
    ["a time zone that does not exist", { timezone: "Mars/Olympus" }, "validation_error", "timezone"],
    [
      "a window that ends before it starts",
      { callingWindow: { start: "18:00", end: "09:00" } },
      "validation_error",
      "callingWindow.end",
    ],
    ["a default agent without a disposition", { agentId: "agent-1" }, "validation_error", "dispositionId"],
    ["an unknown agent", { agentId: "ghost", dispositionId: "disp-1" }, "unknown_agent", "agentId"],
    [
      "a workflow naming an unknown agent",
      { workflow: { steps: [{ type: "call", agentId: "ghost" }] } },
      "unknown_agent",
      "workflow.steps.0.agentId",
    ],
  ];
  for (const [name, body, code, path] of cases) {
    it(`${name} → 400 ${code}, and nothing changes`, async () => {
      const t = await newTenant();
      const before = await call("GET", "/api/v1/campaigns/emi", undefined, t.auth);
      const r = await call("PATCH", "/api/v1/campaigns/emi", body, t.auth);
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.code).toBe(code);
      if (path) expect(r.json.error.details.map((d: any) => d.path)).toContain(path);
      expect((await call("GET", "/api/v1/campaigns/emi", undefined, t.auth)).json).toEqual(before.json);
    });
  }

  it("another organization's campaign is 404 and stays as it was", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/campaigns", { id: "only-a", name: "A", campaignType: "emi" }, a.auth);
    const r = await call("PATCH", "/api/v1/campaigns/only-a", { name: "Taken over" }, b.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("campaign_not_found");
    expect((await call("GET", "/api/v1/campaigns/only-a", undefined, a.auth)).json.name).toBe("A");
  });
});

describe("a campaign's default agent and disposition", () => {
  it("make callConfig optional for initiateCall, and are what the calls use", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "dflt",
      ...windowOpenNow(),
      agentId: "agent-1",
      dispositionId: "disp-1",
    });
    const queue = capturingQueue();
    const deps = createDeps(env, { callsQueue: queue });
    const outcome = await addCustomersInBulk(deps, {
      organizationId: t.orgId,
      campaignId: "dflt",
      records: [loanRecord(1)],
      initiateCall: true,
      useWorkflow: false,
    });
    expect(outcome.status).toBe(201);
    expect(outcome.body.callResults).toMatchObject({ requested: 1, queued: 1 });
    const requests: { agentId: string | null; dispositionId: string | null }[] = [];
    const dialer = createLogDialer(() => {});
    const worker = workerWith({
      dialer: {
        name: "recording",
        async dispatch(batch) {
          requests.push({ agentId: batch.agentId, dispositionId: batch.dispositionId });
          return dialer.dispatch(batch);
        },
      },
    });
    await deliver(
      worker,
      "bulkcall-calls",
      queue.sent.map((m) => m.body),
    );
    expect(requests).toEqual([{ agentId: "agent-1", dispositionId: "disp-1" }]);
  });

  it("useWorkflow: true alone works against the default workflow when the campaign has defaults", async () => {
    const t = await newTenant();
    const body = { campaignId: "emi", records: [loanRecord(1)], useWorkflow: true };
    expect((await call("POST", "/api/v1/customers/add/bulk", body, t.auth)).status).toBe(400);
    await call("PATCH", "/api/v1/campaigns/emi", { agentId: "agent-1", dispositionId: "disp-1" }, t.auth);
    const r = await call("POST", "/api/v1/customers/add/bulk", body, t.auth);
    expect(r.status, r.text).toBe(201);
    expect(r.json.workflowTriggered).toBe(true);
    const stored = await env.DB.prepare("SELECT agent_id, disposition_id FROM imports WHERE id = ?")
      .bind(r.json.importId)
      .first();
    expect(stored).toEqual({ agent_id: "agent-1", disposition_id: "disp-1" });
  });

  it("a request's callConfig wins over the defaults", async () => {
    const t = await newTenant();
    await call("POST", "/api/v1/agents", { id: "agent-2", name: "Second" }, t.auth);
    await call("PATCH", "/api/v1/campaigns/emi", { agentId: "agent-1", dispositionId: "disp-1" }, t.auth);
    const r = await call(
      "POST",
      "/api/v1/customers/add",
      {
        campaignId: "emi",
        data: loanRecord(1),
        initiateCall: true,
        callConfig: { agentId: "agent-2", dispositionId: "disp-1" },
      },
      t.auth,
    );
    expect(r.status).toBe(201);
    const stored = await env.DB.prepare("SELECT agent_id FROM imports WHERE id = ?")
      .bind(r.json.importId)
      .first();
    expect(stored).toEqual({ agent_id: "agent-2" });
  });

  it("are set when the campaign is created, and refused when unknown", async () => {
    const t = await newTenant();
    const ok = await call(
      "POST",
      "/api/v1/campaigns",
      { id: "c1", name: "C", campaignType: "emi", agentId: "agent-1", dispositionId: "disp-1" },
      t.auth,
    );
    expect(ok.json).toMatchObject({ agentId: "agent-1", dispositionId: "disp-1" });
    const bad = await call(
      "POST",
      "/api/v1/campaigns",
      { id: "c2", name: "C", campaignType: "emi", agentId: "agent-1", dispositionId: "ghost" },
      t.auth,
    );
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("unknown_disposition");
    expect((await call("GET", "/api/v1/campaigns/c2", undefined, t.auth)).status).toBe(404);
  });
});

describe("DELETE /api/v1/campaigns/{campaignId}", () => {
  it("removes the campaign from the API, erases its customers, keeps its imports, and frees its id", async () => {
    const t = await newTenant();
    const added = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2)] },
      t.auth,
    );
    const r = await call("DELETE", "/api/v1/campaigns/emi", undefined, t.auth);
    expect(r.status, r.text).toBe(204);
    expect((await call("GET", "/api/v1/campaigns/emi", undefined, t.auth)).status).toBe(404);
    expect((await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth)).status).toBe(404);
    const listed = await call("GET", "/api/v1/campaigns", undefined, t.auth);
    expect(listed.json.data.map((c: any) => c.id)).not.toContain("emi");
    expect(await personalDataLeft(t.orgId, "emi")).toBe(0);
    // The import stays readable, for audit.
    const progress = await progressOf(added.json.importId, t.auth);
    expect(progress).toMatchObject({ campaignId: "emi", results: { total: 2, successful: 2 } });
    // The id may be used again, by a new and empty campaign.
    const again = await call(
      "POST",
      "/api/v1/campaigns",
      { id: "emi", name: "New", campaignType: "lead" },
      t.auth,
    );
    expect(again.status).toBe(201);
    expect((await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth)).json.data).toEqual([]);
    expect((await call("DELETE", "/api/v1/campaigns/nope", undefined, t.auth)).status).toBe(404);
  });

  it("is refused (409) while calls wait, and force=true cancels them first", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1), loanRecord(2)]);
    const worker = workerWith({ clock: pinnedClock(MONDAY_1_IST), dialer: createLogDialer(() => {}) });
    await deliver(worker, "bulkcall-calls", seeded.messages);

    const refused = await call("DELETE", "/api/v1/campaigns/ist", undefined, t.auth);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({
      code: "conflict",
      details: [
        { path: "calls", message: "2 waiting or being dialled" },
        { path: "batches" },
        { path: "workflowRuns" },
      ],
    });
    expect((await call("GET", "/api/v1/campaigns/ist", undefined, t.auth)).status).toBe(200);

    const forced = await call("DELETE", "/api/v1/campaigns/ist?force=true", undefined, t.auth);
    expect(forced.status).toBe(204);
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 2, cancelled: 2, delayed: 0, queued: 0 });
    const { results } = await env.DB.prepare(
      "SELECT status, reason, phone_number FROM calls WHERE import_id = ?",
    )
      .bind(seeded.importId)
      .all();
    expect(results).toEqual([
      { status: "cancelled", reason: "campaign_deleted", phone_number: "" },
      { status: "cancelled", reason: "campaign_deleted", phone_number: "" },
    ]);
    // A redelivered message dials nobody.
    const dialled: unknown[] = [];
    const later = workerWith({
      clock: pinnedClock(MONDAY_10_IST),
      dialer: {
        name: "spy",
        async dispatch(batch) {
          dialled.push(batch);
          return { kind: "accepted", rejected: new Map(), providerCallIds: new Map() };
        },
      },
    });
    await deliver(later, "bulkcall-calls", seeded.messages);
    expect(dialled).toEqual([]);
  });

  it("force=true: a batch not consumed yet makes its calls cancelled, and a running workflow run ends", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "wait", duration: "1d" }, { type: "call" }] },
    });
    const calls = await seedCallImport(t.orgId, "wf", [loanRecord(1)]);
    const runs = await seedCallImport(t.orgId, "wf", [loanRecord(2)], { useWorkflow: true });
    const refused = await call("DELETE", "/api/v1/campaigns/wf", undefined, t.auth);
    expect(refused.status).toBe(409);

    const [customerId] = runs.customerIds as [number];
    const deps = createDeps(env, { dialer: createLogDialer(() => {}) });
    await deps.workflowRuns.ensureRuns(runs.importId, 0, [customerId], Date.now());
    const steps: Steps = {
      do: (_name, fn) => fn(),
      sleepUntil: async () => {
        expect((await call("DELETE", "/api/v1/campaigns/wf?force=true", undefined, t.auth)).status).toBe(204);
      },
    };
    const instanceId = workflowInstanceId(runs.importId, customerId);
    expect(
      await runCustomerWorkflow(deps, steps, instanceId, { importId: runs.importId, customerId }),
    ).toEqual({
      outcome: "campaign_deleted",
    });

    await deliver(workerWith({ dialer: createLogDialer(() => {}) }), "bulkcall-calls", calls.messages);
    const progress = await progressOf(calls.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 1, cancelled: 1, queued: 0, dispatched: 0 });
  });

  it("a large campaign is erased partly at once and the rest by the cron, which marks it purged later", async () => {
    const t = await newTenant();
    const records = Array.from({ length: PURGE_AT_DELETE + 20 }, (_, i) => loanRecord(i));
    expect(
      (await call("POST", "/api/v1/customers/add/bulk", { campaignId: "emi", records }, t.auth)).status,
    ).toBe(201);
    expect((await call("DELETE", "/api/v1/campaigns/emi", undefined, t.auth)).status).toBe(204);
    expect(await personalDataLeft(t.orgId, "emi")).toBe(20);

    const now = Date.now();
    const purgedAt = () =>
      env.DB.prepare("SELECT purged_at FROM campaigns WHERE organization_id = ? AND id = 'emi'")
        .bind(t.orgId)
        .first<{ purged_at: number | null }>("purged_at");
    await runScheduledMaintenance(createDeps(env, { clock: pinnedClock(new Date(now).toISOString()) }));
    expect(await personalDataLeft(t.orgId, "emi")).toBe(0);
    expect(await purgedAt()).toBeNull();
    const settled = now + PURGE_SETTLE_MS + 1_000;
    await runScheduledMaintenance(createDeps(env, { clock: pinnedClock(new Date(settled).toISOString()) }));
    expect(await purgedAt()).toBe(settled);
  }, 60_000);

  it("another organization's campaign is 404 and nothing is deleted or cancelled", async () => {
    const a = await callTenant();
    const seeded = await seedCallImport(a.orgId, "ist", [loanRecord(1)]);
    const b = await newTenant();
    const r = await call("DELETE", "/api/v1/campaigns/ist?force=true", undefined, b.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("campaign_not_found");
    expect((await call("GET", "/api/v1/campaigns/ist", undefined, a.auth)).status).toBe(200);
    const customers = await call("GET", "/api/v1/campaigns/ist/customers", undefined, a.auth);
    expect(customers.json.data).toMatchObject([{ loan_id: "LN-000001", first_name: "Asha" }]);
    const batches = await createDeps(env).outbox.listForImport(seeded.importId);
    expect(batches).toMatchObject([{ state: "sent" }]);
  });
});
