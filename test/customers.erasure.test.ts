// DELETE /api/v1/campaigns/{campaignId}/customers/{key}: the borrower's right to erasure. The test
// reads every column of every table straight from the database, so a table added later that keeps
// personal data fails it until erasure covers it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { workflowInstanceId } from "../src/db/workflow-runs-repository";
import { createDeps } from "../src/deps";
import { initiateCalls } from "../src/domain/calls/initiate-calls";
import { signatureHeader } from "../src/domain/calls/signature";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { Steps } from "../src/domain/ports/workflows";
import { runCustomerWorkflow } from "../src/domain/workflows/run-customer-workflow";
import type { AppEnv } from "../src/env";
import {
  CALL_CONFIG,
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
import { registerWebhook } from "./webhooks-fixtures";

const KEY = "ZQ-ERASE-7731";
const PERSON = {
  loan_id: KEY,
  first_name: "Zorawarx",
  last_name: "Quillfeather",
  phone_number: "9123487650",
  emi_amount: 77123.45,
  emi_due_date: "2026-12-05",
  pan_hint: "ZQPAN4471X",
};
const E164 = "+919123487650";
/** Reading every column of every table takes a few seconds on a busy machine. */
const SCAN_TIMEOUT_MS = 60_000;

/** Everything that identifies the person, as it may be stored anywhere. */
const NEEDLES = [KEY, "Zorawarx", "Quillfeather", E164, "23487650", "ZQPAN4471X", "77123.45"];

/** Every (table, column) of the database that holds one of the needles, with how many rows. */
async function whereNeedlesAre(): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  const found: string[] = [];
  for (const { name: table } of tables) {
    const { results: columns } = await env.DB.prepare("SELECT name FROM pragma_table_info(?)")
      .bind(table)
      .all<{ name: string }>();
    for (const { name: column } of columns) {
      const counts = NEEDLES.map((_, i) => `sum(instr(CAST("${column}" AS TEXT), ?${i + 1}) > 0) AS n${i}`);
      const row = await env.DB.prepare(`SELECT ${counts.join(", ")} FROM "${table}"`)
        .bind(...NEEDLES)
        .first<Record<string, number | null>>();
      NEEDLES.forEach((needle, i) => {
        if ((row?.[`n${i}`] ?? 0) > 0) found.push(`${table}.${column} ~ ${needle}`);
      });
    }
  }
  return found;
}

const secret = (env as unknown as AppEnv).DIALER_SECRET as string;
async function postEvents(body: unknown) {
  const raw = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  return call("POST", "/api/v1/calls/events", raw, {
    "X-Bulkcall-Signature": await signatureHeader(secret, t, raw),
  });
}

/**
 * A tenant whose customer PERSON has been everywhere: an import whose stored answer lists its key,
 * two dialled calls (one completed with a chatty dialer event, one failed with a reason quoting the
 * number), webhook deliveries for both, and a neighbour customer that must stay untouched.
 */
async function personEverywhere() {
  const t = await newTenant();
  // One attempt per call: the failed call stays failed, with the dialer's reason on it.
  await createCampaign(t.auth, { id: "open", ...windowOpenNow(), retry: { maxAttempts: 1 } });
  await registerWebhook(t.auth);
  const queue = capturingQueue();
  const deps = createDeps(env, { callsQueue: queue });
  const worker = workerWith({ dialer: createLogDialer(() => {}) });
  const bulk = await addCustomersInBulk(deps, {
    organizationId: t.orgId,
    campaignId: "open",
    records: [PERSON, loanRecord(1), { ...PERSON, first_name: "Again" }],
    initiateCall: true,
    useWorkflow: false,
    callConfig: CALL_CONFIG,
    idempotency: { key: "file-with-person", bodyHash: "hash-1" },
  });
  expect(bulk.body.results.errors).toMatchObject([{ index: 2, key: KEY, code: "duplicate_in_request" }]);
  await deliver(
    worker,
    "bulkcall-calls",
    queue.sent.map((m) => m.body),
  );
  const [first] = (await callsOf("open", t.auth)).filter((c) => c.loan_id === KEY);
  await postEvents({
    events: [
      {
        id: "evt-person-1",
        callId: first.callId,
        status: "completed",
        disposition: "promise_to_pay",
        note: `Zorawarx Quillfeather confirmed ${E164}`,
      },
    ],
  });
  const again = capturingQueue();
  const initiation = await initiateCalls(createDeps(env, { callsQueue: again }), {
    organizationId: t.orgId,
    campaignId: "open",
    ...CALL_CONFIG,
    filters: { ids: [KEY] },
  });
  expect(initiation.body.results.initiated).toBe(1);
  // The same number is dialled again once the organization's 30-minute gap after the first call
  // has passed (31 minutes on; a minute more if that lands on 23:59 UTC, outside the window).
  let later = Date.now() + 31 * 60_000;
  if (new Date(later).getUTCHours() === 23 && new Date(later).getUTCMinutes() === 59) later += 60_000;
  await deliver(
    workerWith({ dialer: createLogDialer(() => {}), clock: pinnedClock(new Date(later).toISOString()) }),
    "bulkcall-calls",
    again.sent.map((m) => m.body),
  );
  const second = (await callsOf("open", t.auth)).find(
    (c) => c.loan_id === KEY && c.importId === initiation.body.initiationId,
  );
  await postEvents({
    events: [
      { id: "evt-person-2", callId: second.callId, status: "failed", reason: "no answer on 9123487650" },
    ],
  });
  return { t, deps, bulkImport: bulk.body.importId, initiationId: initiation.body.initiationId };
}

describe("DELETE /api/v1/campaigns/{campaignId}/customers/{key} — success", () => {
  it("leaves no personal data of the customer in any table, and the progress still adds up", {
    timeout: SCAN_TIMEOUT_MS,
  }, async () => {
    const s = await personEverywhere();
    const before = await whereNeedlesAre();
    // The set-up really put the person everywhere the erasure has to reach.
    for (const place of [
      "customers.first_name",
      "calls.phone_number",
      "calls.reason",
      "call_events.payload",
      "webhook_deliveries.payload",
      // The dialing policy's ledger of attempts (what the contact limits count) and the calls' loan.
      "call_attempts.phone_number",
      "call_attempts.loan_id",
      "calls.loan_id",
      "call_attempts.reason",
      "call_decisions.reason",
    ]) {
      expect(before.some((f) => f.startsWith(place))).toBe(true);
    }
    const progressBefore = await progressOf(s.bulkImport, s.t.auth);

    const r = await call("DELETE", `/api/v1/campaigns/open/customers/${KEY}`, undefined, s.t.auth);
    expect(r.status, r.text).toBe(204);
    expect(await whereNeedlesAre()).toEqual([]);

    // De-identified counts stay: the imports still add up, with the same numbers.
    expect(await progressOf(s.bulkImport, s.t.auth)).toEqual(progressBefore);
    const initiation = await call("GET", `/api/v1/initiations/${s.initiationId}`, undefined, s.t.auth);
    expect(initiation.json.calls).toMatchObject({ requested: 1, failed: 1 });
    // The neighbour is untouched, and the erased customer is gone from the API.
    const customers = await call("GET", "/api/v1/campaigns/open/customers", undefined, s.t.auth);
    expect(customers.json.data.map((c: any) => c.loan_id)).toEqual(["LN-000001"]);
    expect(customers.json.data[0]).toMatchObject({ first_name: "Asha", phone_number: "+919810000001" });
    const calls = await callsOf("open", s.t.auth);
    expect(calls.filter((c) => c.phone_number === "")).toHaveLength(2);
    expect(calls.find((c) => c.loan_id === "LN-000001")).toMatchObject({ phone_number: "+919810000001" });
  });

  it("drops stored Idempotency-Key answers that list the customer; a replay then points at the import", {
    timeout: SCAN_TIMEOUT_MS,
  }, async () => {
    const s = await personEverywhere();
    const other = await addCustomersInBulk(s.deps, {
      organizationId: s.t.orgId,
      campaignId: "open",
      records: [loanRecord(5)],
      initiateCall: false,
      useWorkflow: false,
      idempotency: { key: "unrelated-file", bodyHash: "hash-2" },
    });
    await call("DELETE", `/api/v1/campaigns/open/customers/${KEY}`, undefined, s.t.auth);
    await expect(
      addCustomersInBulk(s.deps, {
        organizationId: s.t.orgId,
        campaignId: "open",
        records: [],
        initiateCall: false,
        useWorkflow: false,
        idempotency: { key: "file-with-person", bodyHash: "hash-1" },
      }),
    ).rejects.toMatchObject({ code: "conflict" });
    const replay = await addCustomersInBulk(s.deps, {
      organizationId: s.t.orgId,
      campaignId: "open",
      records: [],
      initiateCall: false,
      useWorkflow: false,
      idempotency: { key: "unrelated-file", bodyHash: "hash-2" },
    });
    expect(replay).toMatchObject({ replayed: true, body: other.body });
  });

  it("cancels the customer's waiting calls, suppresses the number with suppress=true, and frees the key", {
    timeout: SCAN_TIMEOUT_MS,
  }, async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [PERSON, loanRecord(1)]);
    // 01:00 in India: the window is closed, both calls wait.
    const worker = workerWith({
      clock: pinnedClock("2026-11-23T01:00:00+05:30"),
      dialer: createLogDialer(() => {}),
    });
    await deliver(worker, "bulkcall-calls", seeded.messages);

    const r = await call("DELETE", `/api/v1/campaigns/ist/customers/${KEY}?suppress=true`, undefined, t.auth);
    expect(r.status).toBe(204);
    const calls = await callsOf("ist", t.auth);
    expect(calls.map((c) => [c.loan_id, c.status, c.reason])).toEqual([
      [null, "cancelled", "erased"],
      ["LN-000001", "delayed", "outside_calling_window"],
    ]);
    expect((await progressOf(seeded.importId, t.auth)).calls).toMatchObject({
      requested: 2,
      delayed: 1,
      cancelled: 1,
    });
    const suppressions = await call("GET", "/api/v1/suppressions", undefined, t.auth);
    expect(suppressions.json.data).toMatchObject([{ phone_number: E164, reason: "erasure request" }]);
    // Only the suppression list keeps the number, on purpose.
    expect(await whereNeedlesAre()).toEqual([
      "suppressions.phone_number ~ +919123487650",
      "suppressions.phone_number ~ 23487650",
    ]);

    // The key is free: the same loan sent again is a new customer (erased again, for the scans).
    const again = await call("POST", "/api/v1/customers/add", { campaignId: "ist", data: PERSON }, t.auth);
    expect(again.status).toBe(201);
    expect((await call("DELETE", `/api/v1/campaigns/ist/customers/${KEY}`, undefined, t.auth)).status).toBe(
      204,
    );
  });

  it("a batch handed over before the erasure makes its call already cancelled", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [PERSON]);
    await call("DELETE", `/api/v1/campaigns/ist/customers/${KEY}`, undefined, t.auth);
    const worker = workerWith({
      clock: pinnedClock("2026-11-23T10:00:00+05:30"),
      dialer: createLogDialer(() => {}),
    });
    await deliver(worker, "bulkcall-calls", seeded.messages);
    expect((await callsOf("ist", t.auth)).map((c) => [c.status, c.reason, c.phone_number])).toEqual([
      ["cancelled", "erased", ""],
    ]);
    expect((await progressOf(seeded.importId, t.auth)).calls).toMatchObject({
      requested: 1,
      cancelled: 1,
      queued: 0,
    });
  });

  it("ends the customer's running workflow run at its next step (outcome erased)", async () => {
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "wf",
      ...windowOpenNow(),
      workflow: { steps: [{ type: "wait", duration: "1d" }, { type: "call" }] },
    });
    const seeded = await seedCallImport(t.orgId, "wf", [PERSON], { useWorkflow: true });
    const [customerId] = seeded.customerIds as [number];
    const deps = createDeps(env, { dialer: createLogDialer(() => {}) });
    await deps.workflowRuns.ensureRuns(seeded.importId, 0, [customerId], Date.now());
    const steps: Steps = {
      do: (_name, fn) => fn(),
      sleepUntil: async () => {
        await call("DELETE", `/api/v1/campaigns/wf/customers/${KEY}`, undefined, t.auth);
      },
    };
    const instanceId = workflowInstanceId(seeded.importId, customerId);
    expect(
      await runCustomerWorkflow(deps, steps, instanceId, { importId: seeded.importId, customerId }),
    ).toEqual({
      outcome: "erased",
    });
    expect(await deps.workflowRuns.find(instanceId)).toMatchObject({
      status: "completed",
      outcome: "erased",
    });
    expect(await callsOf("wf", t.auth)).toEqual([]);
  });
});

describe("DELETE /api/v1/campaigns/{campaignId}/customers/{key} — errors", () => {
  it("an unknown key, an already erased customer and an unknown campaign are 404", async () => {
    const t = await newTenant();
    await call("POST", "/api/v1/customers/add", { campaignId: "emi", data: loanRecord(1) }, t.auth);
    const unknown = await call("DELETE", "/api/v1/campaigns/emi/customers/LN-404", undefined, t.auth);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("customer_not_found");
    expect(
      (await call("DELETE", "/api/v1/campaigns/emi/customers/LN-000001", undefined, t.auth)).status,
    ).toBe(204);
    const twice = await call("DELETE", "/api/v1/campaigns/emi/customers/LN-000001", undefined, t.auth);
    expect(twice.status).toBe(404);
    const noCampaign = await call("DELETE", "/api/v1/campaigns/nope/customers/LN-000001", undefined, t.auth);
    expect(noCampaign.status).toBe(404);
    expect(noCampaign.json.error.code).toBe("campaign_not_found");
    const badFlag = await call(
      "DELETE",
      "/api/v1/campaigns/emi/customers/LN-1?suppress=yes",
      undefined,
      t.auth,
    );
    expect(badFlag.status).toBe(400);
  });
});

describe("DELETE /api/v1/campaigns/{campaignId}/customers/{key} — security", () => {
  it("another organization's campaign is 404 and nothing is erased or suppressed", async () => {
    const a = await newTenant();
    await call("POST", "/api/v1/customers/add", { campaignId: "emi", data: PERSON }, a.auth);
    const b = await newTenant();
    const r = await call("DELETE", `/api/v1/campaigns/emi/customers/${KEY}?suppress=true`, undefined, b.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("customer_not_found");
    const list = await call("GET", "/api/v1/campaigns/emi/customers", undefined, a.auth);
    expect(list.json.data).toMatchObject([{ loan_id: KEY, first_name: "Zorawarx", phone_number: E164 }]);
    expect((await call("GET", "/api/v1/suppressions", undefined, b.auth)).json.data).toEqual([]);
    expect((await call("GET", "/api/v1/suppressions", undefined, a.auth)).json.data).toEqual([]);
    // Cleans up what this test stored, for the table-wide scans of the other tests.
    await call("DELETE", `/api/v1/campaigns/emi/customers/${KEY}`, undefined, a.auth);
  });
});
