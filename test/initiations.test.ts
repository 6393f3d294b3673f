// POST /api/v1/initiate/{campaignId}/calls and GET /api/v1/initiations/{id}: calls to a campaign's
// stored customers chosen by filters, through the same outbox, queue, claim, window and suppression
// path as initiateCall.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createDeps } from "../src/deps";
import { type InitiateCallsInput, initiateCalls } from "../src/domain/calls/initiate-calls";
import {
  CALL_CONFIG,
  callsOf,
  callTenant,
  capturingQueue,
  createCampaign,
  deliver,
  drainCallsQueue,
  failingQueue,
  pinnedClock,
  progressOf,
  until,
  windowOpenNow,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A book of eight loans with assorted statuses, languages and variables, in campaign "book". */
async function book(campaign: Record<string, unknown> = windowOpenNow()) {
  const t = await newTenant();
  await createCampaign(t.auth, { id: "book", ...campaign });
  const records = [
    loanRecord(1, { payment_status: "bounced", language: "hindi", branch: "Pune", dpd: 30 }),
    loanRecord(2, { payment_status: "bounced", language: "tamil", branch: "Pune", dpd: 45 }),
    loanRecord(3, { payment_status: "pending", language: "hi-IN", branch: "Kochi", vip: true }),
    loanRecord(4, { payment_status: "paid", language: "hindi", branch: "Pune" }),
    loanRecord(5, { payment_status: "bounced", language: "hindi", branch: "Kochi", vip: false }),
    loanRecord(6, { payment_status: null, language: null, branch: null }),
    loanRecord(7, { payment_status: "received", language: "english" }),
    loanRecord(8, { payment_status: "partial", language: "hindi", dpd: "30" }),
  ];
  const r = await call("POST", "/api/v1/customers/add/bulk", { campaignId: "book", records }, t.auth);
  expect(r.status, r.text).toBe(201);
  const list = await call("GET", "/api/v1/campaigns/book/customers?limit=500", undefined, t.auth);
  const ids = Object.fromEntries((list.json.data as any[]).map((c) => [c.loan_id, c.id as number]));
  return { t, ids };
}

/** Runs an initiation with the call queue captured; returns its answer and the keys it handed over. */
async function initiate(orgId: string, input: Partial<InitiateCallsInput> = {}) {
  const queue = capturingQueue();
  const deps = createDeps(env, { callsQueue: queue });
  const outcome = await initiateCalls(deps, {
    organizationId: orgId,
    campaignId: "book",
    ...CALL_CONFIG,
    ...input,
  });
  const batches = await deps.outbox.listForImport(outcome.body.initiationId);
  const customers = await deps.customers.findByIds(batches.flatMap((b) => b.customerIds));
  return {
    outcome,
    messages: queue.sent.map((m) => m.body),
    batches,
    keys: customers.map((c) => c.loanId).sort(),
  };
}

const keys = (...n: number[]) => n.map((i) => `LN-${String(i).padStart(6, "0")}`).sort();

describe("initiation filters — each one, and together", () => {
  const cases: [string, InitiateCallsInput["filters"] | undefined, string[]][] = [
    ["no filter: everyone but the paid and received", undefined, keys(1, 2, 3, 5, 6, 8)],
    ["ids, normalized like record keys", { ids: ["LN-000002", " LN-000003\u200B"] }, keys(2, 3)],
    ["ids of paid customers are not selected either", { ids: ["LN-000002", "LN-000004"] }, keys(2)],
    ["exclude_ids", { exclude_ids: ["LN-000001", "LN-000002"] }, keys(3, 5, 6, 8)],
    ["payment_status (case-insensitive)", { payment_status: ["BOUNCED"] }, keys(1, 2, 5)],
    [
      "payment_status naming paid selects paid customers",
      { payment_status: ["paid", "received"] },
      keys(4, 7),
    ],
    ["language, in any spelling a record may use", { language: ["hi"] }, keys(1, 3, 5, 8)],
    ["custom: a string variable", { custom: { branch: "Pune" } }, keys(1, 2)],
    ["custom: a number is not the same as its text", { custom: { dpd: 30 } }, keys(1)],
    ["custom: a boolean", { custom: { vip: false } }, keys(5)],
    [
      "bounced, Hindi-speaking, in Kochi (filters are AND-ed)",
      { payment_status: ["bounced"], language: ["Hindi"], custom: { branch: "Kochi" } },
      keys(5),
    ],
  ];
  for (const [name, filters, expected] of cases) {
    it(name, async () => {
      const { t } = await book();
      const r = await initiate(t.orgId, { filters });
      expect(r.keys).toEqual(expected);
      expect(r.outcome.status).toBe(200);
      expect(r.outcome.body).toMatchObject({
        success: true,
        message: `Calls initiated for ${expected.length} customers`,
        results: {
          totalMatched: expected.length,
          customersSelected: expected.length,
          initiated: expected.length,
          failed: 0,
          batchesProcessed: 1,
        },
      });
    });
  }

  it("ids the campaign does not hold are reported; the known ones are still called", async () => {
    const { t } = await book();
    const r = await initiate(t.orgId, { filters: { ids: ["LN-000001", "LN-404"] } });
    expect(r.keys).toEqual(keys(1));
    expect(r.outcome.body.results.errors).toEqual([
      { code: "unknown_id", key: "LN-404", message: "The campaign holds no customer with this loan_id." },
    ]);
  });

  it("limit takes the oldest matching customers; a selection of thousands goes out in batches of 500", async () => {
    const { t, ids } = await book();
    const limited = await initiate(t.orgId, { limit: 2, filters: { language: ["hindi"] } });
    expect(limited.keys).toEqual(keys(1, 3));
    expect(limited.outcome.body.results).toMatchObject({
      totalMatched: 4,
      customersSelected: 2,
      initiated: 2,
    });
    expect(limited.batches.flatMap((b) => b.customerIds)).toEqual([ids["LN-000001"], ids["LN-000003"]]);

    const more = Array.from({ length: 1_100 }, (_, i) => loanRecord(100 + i, { branch: "Lucknow" }));
    await call("POST", "/api/v1/customers/add/bulk", { campaignId: "book", records: more }, t.auth);
    const large = await initiate(t.orgId, { limit: 1_001, filters: { custom: { branch: "Lucknow" } } });
    expect(large.outcome.body.results).toMatchObject({
      totalMatched: 1_100,
      customersSelected: 1_001,
      initiated: 1_001,
      batchesProcessed: 3,
    });
    expect(large.batches.map((b) => b.size)).toEqual([500, 500, 1]);
    const handed = large.batches.flatMap((b) => b.customerIds);
    expect(handed).toEqual([...handed].sort((a, b) => a - b));
    expect(new Set(handed).size).toBe(1_001);
  });

  it("a hand-off that has to wait → 400 with the batches in errors; they stay pending for the cron", async () => {
    const { t } = await book();
    const deps = createDeps(env, { callsQueue: failingQueue });
    const outcome = await initiateCalls(deps, {
      organizationId: t.orgId,
      campaignId: "book",
      ...CALL_CONFIG,
      filters: { payment_status: ["bounced"] },
    });
    expect(outcome.status).toBe(400);
    expect(outcome.body.results).toMatchObject({
      totalMatched: 3,
      customersSelected: 3,
      initiated: 0,
      failed: 3,
      batchesProcessed: 1,
      errors: [
        { code: "not_queued", batch: 0, customers: 3, message: expect.stringMatching(/automatically/) },
      ],
    });
    const batches = await deps.outbox.listForImport(outcome.body.initiationId);
    expect(batches).toMatchObject([{ state: "pending", size: 3, sendAttempts: 1 }]);
  });

  it("a hand-off that reaches the queue only in part → 207: the sent batches initiated, the rest pending", async () => {
    // 101 batches of 500: the queue takes 100 messages per send, so the hand-off makes two sends;
    // the first is taken, the second fails.
    const t = await newTenant();
    await createCampaign(t.auth, { id: "book", ...windowOpenNow() });
    const customers = 100 * 500 + 1;
    for (let from = 0; from < customers; from += 10_000) {
      const records = Array.from({ length: Math.min(10_000, customers - from) }, (_, i) =>
        loanRecord(from + i, { branch: "Nagpur" }),
      );
      const r = await call("POST", "/api/v1/customers/add/bulk", { campaignId: "book", records }, t.auth);
      expect(r.status).toBe(201);
    }
    let sends = 0;
    const sent: unknown[] = [];
    const deps = createDeps(env, {
      callsQueue: {
        async sendBatch(messages) {
          if (++sends > 1) throw new Error("queue unavailable");
          sent.push(...messages);
        },
      },
    });
    const outcome = await initiateCalls(deps, {
      organizationId: t.orgId,
      campaignId: "book",
      ...CALL_CONFIG,
      filters: { custom: { branch: "Nagpur" } },
    });
    expect(outcome.status).toBe(207);
    expect(outcome.body).toMatchObject({
      success: false,
      results: {
        totalMatched: customers,
        customersSelected: customers,
        initiated: 100 * 500,
        failed: 1,
        batchesProcessed: 101,
        errors: [{ code: "not_queued", batch: 100, customers: 1 }],
      },
    });
    expect(sent).toHaveLength(100);
    // What is stored says the same: 100 batches sent, the last one pending for the cron.
    const batches = await deps.outbox.listForImport(outcome.body.initiationId);
    expect(batches.filter((b) => b.state === "sent")).toHaveLength(100);
    expect(batches.filter((b) => b.state === "pending").map((b) => [b.batchNo, b.size])).toEqual([[100, 1]]);
    const progress = await progressOf(outcome.body.initiationId, t.auth);
    expect(progress.calls.requested).toBe(customers);
  }, 120_000);

  it("nothing matched → 400 with the full results", async () => {
    const { t } = await book();
    const r = await initiate(t.orgId, { filters: { custom: { branch: "Atlantis" } } });
    expect(r.outcome.status).toBe(400);
    expect(r.outcome.body).toMatchObject({
      success: false,
      message: "Calls initiated for 0 customers",
      results: {
        totalMatched: 0,
        customersSelected: 0,
        initiated: 0,
        failed: 0,
        batchesProcessed: 0,
        errors: [],
      },
    });
  });
});

describe("initiation runs", () => {
  it("goes through the consumer: paid are skipped, suppressed numbers skipped, the rest dialled once", async () => {
    const { t } = await book();
    await call("POST", "/api/v1/suppressions", { phone_numbers: [loanRecord(2).phone_number] }, t.auth);
    const r = await initiate(t.orgId, {
      filters: { ids: keys(1, 2, 4), payment_status: ["bounced", "paid"] },
    });
    const worker = workerWith({ dialer: createLogDialer(() => {}) });
    await deliver(worker, "bulkcall-calls", [...r.messages, ...r.messages]);
    const progress = await call(
      "GET",
      `/api/v1/initiations/${r.outcome.body.initiationId}`,
      undefined,
      t.auth,
    );
    expect(progress.status).toBe(200);
    expect(progress.json).toMatchObject({
      initiationId: r.outcome.body.initiationId,
      campaignId: "book",
      results: { totalMatched: 3, customersSelected: 3, initiated: 3, failed: 0, batchesProcessed: 1 },
      calls: { requested: 3, dispatched: 1, skipped: { paid: 1, suppressed: 1 }, queued: 0, cancelled: 0 },
    });
    const asImport = await progressOf(r.outcome.body.initiationId, t.auth);
    expect(asImport).toMatchObject({ kind: "initiation", results: { total: 3, successful: 3, matched: 3 } });
  });

  it("a re-run does not select customers whose call from an earlier request is still waiting", async () => {
    const t = await callTenant();
    const records = Array.from({ length: 3 }, (_, i) => loanRecord(i));
    await call("POST", "/api/v1/customers/add/bulk", { campaignId: "ist", records }, t.auth);
    const queue = capturingQueue();
    const deps = createDeps(env, { callsQueue: queue });
    const first = await initiateCalls(deps, { organizationId: t.orgId, campaignId: "ist", ...CALL_CONFIG });
    expect(first.body.results.initiated).toBe(3);
    // 01:00 in India: the window is closed, the calls wait.
    const night = workerWith({
      clock: pinnedClock("2026-11-23T01:00:00+05:30"),
      dialer: createLogDialer(() => {}),
    });
    await deliver(
      night,
      "bulkcall-calls",
      queue.sent.map((m) => m.body),
    );
    expect((await callsOf("ist", t.auth)).map((c) => c.status)).toEqual(["delayed", "delayed", "delayed"]);

    const rerun = await initiateCalls(deps, { organizationId: t.orgId, campaignId: "ist", ...CALL_CONFIG });
    expect(rerun.status).toBe(400);
    expect(rerun.body.results).toMatchObject({ totalMatched: 0, customersSelected: 0 });
    expect(rerun.body.initiationId).not.toBe(first.body.initiationId);
    expect(await callsOf("ist", t.auth)).toHaveLength(3);
  });

  it("a re-run right away does not select the customers an earlier request handed over moments ago", async () => {
    const { t } = await book();
    const first = await initiate(t.orgId, { filters: { payment_status: ["bounced"] } });
    expect(first.outcome.body.results.initiated).toBe(3);
    // No consumer has reached the first initiation's batch yet: its customers have no call row.
    const rerun = await initiate(t.orgId);
    expect(rerun.keys).toEqual(keys(3, 6, 8));
    expect(rerun.outcome.body.results).toMatchObject({ totalMatched: 3, customersSelected: 3 });
  });

  it("the same Idempotency-Key replays the first answer and selects nothing new", async () => {
    const { t } = await book();
    const headers = { ...t.auth, "Idempotency-Key": "recall-bounced-2026-11-27" };
    const body = { ...CALL_CONFIG, filters: { payment_status: ["bounced"] } };
    const first = await call("POST", "/api/v1/initiate/book/calls", body, headers);
    expect(first.status, first.text).toBe(200);
    const again = await call("POST", "/api/v1/initiate/book/calls", body, headers);
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    const initiations = await env.DB.prepare(
      "SELECT count(*) AS n FROM imports WHERE organization_id = ? AND kind = 'initiation'",
    )
      .bind(t.orgId)
      .first<{ n: number }>("n");
    expect(initiations).toBe(1);
    const changed = await call("POST", "/api/v1/initiate/book/calls", { ...body, limit: 1 }, headers);
    expect(changed.status).toBe(422);
    // The same body to another campaign is another request: the key refuses it, and replays nothing.
    await call("POST", "/api/v1/campaigns", { id: "other", name: "Other", campaignType: "emi" }, t.auth);
    const elsewhere = await call("POST", "/api/v1/initiate/other/calls", body, headers);
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.json.error.code).toBe("idempotency_key_reused");
    expect(elsewhere.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("the campaign's defaults stand in for agentId and dispositionId", async () => {
    const { t } = await book();
    const refused = await call(
      "POST",
      "/api/v1/initiate/book/calls",
      { filters: { ids: ["LN-000001"] } },
      t.auth,
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error.details[0].path).toBe("agentId");
    await call("PATCH", "/api/v1/campaigns/book", { agentId: "agent-1", dispositionId: "disp-1" }, t.auth);
    const r = await initiate(t.orgId, {
      agentId: undefined,
      dispositionId: undefined,
      filters: { ids: ["LN-000001"] },
    });
    expect(r.outcome.status).toBe(200);
    const stored = await env.DB.prepare("SELECT agent_id, disposition_id FROM imports WHERE id = ?")
      .bind(r.outcome.body.initiationId)
      .first();
    expect(stored).toEqual({ agent_id: "agent-1", disposition_id: "disp-1" });
  });
});

describe("initiation through the real queue", () => {
  it("dials every selected customer exactly once, despite a duplicate message and a replayed request", async () => {
    const dialled = new Map<string, number>();
    const original = console.log;
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      const line = String(args[0]);
      // The log dialer writes one line per dialer request, with every call id it carried.
      if (line.startsWith('{"event":"calls_dispatched"')) {
        const { callIds } = JSON.parse(line) as { callIds: string[] };
        for (const callId of callIds) dialled.set(callId, (dialled.get(callId) ?? 0) + 1);
        return;
      }
      original(...args);
    });
    const { t } = await book();
    const headers = { ...t.auth, "Idempotency-Key": "e2e-initiation" };
    const body = { ...CALL_CONFIG, filters: { language: ["hindi"] } };
    const r = await call("POST", "/api/v1/initiate/book/calls", body, headers);
    expect(r.status, r.text).toBe(200);
    expect(r.json.results).toMatchObject({ totalMatched: 4, initiated: 4 });
    const id = r.json.initiationId;
    await env.CALLS.sendBatch([{ body: { kind: "call", importId: id, batchNo: 0 } }]);
    const replay = await call("POST", "/api/v1/initiate/book/calls", body, headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");

    const progress = await until(
      "the initiation's calls handled",
      async () => (await call("GET", `/api/v1/initiations/${id}`, undefined, t.auth)).json,
      (p) => p.calls.queued === 0,
    );
    expect(progress.calls).toMatchObject({ requested: 4, dispatched: 4, skipped: {}, failed: 0 });
    const calls = (await callsOf("book", t.auth)).filter((c) => c.importId === id);
    expect(calls.map((c) => c.loan_id).sort()).toEqual(keys(1, 3, 5, 8));
    // Once the duplicate message has been consumed, count what the dialer saw. Other tests' requests
    // may still be dialled in this isolate: only this initiation's calls count.
    await drainCallsQueue(t);
    expect(calls.map((c) => dialled.get(c.callId))).toEqual([1, 1, 1, 1]);
  }, 60_000);
});

describe("initiation — errors", () => {
  const cases: [string, unknown, number, string, string][] = [
    [
      "an unknown payment status",
      { filters: { payment_status: ["unpaid"] } },
      400,
      "validation_error",
      "filters.payment_status.0",
    ],
    [
      "an unknown language",
      { filters: { language: ["klingon"] } },
      400,
      "validation_error",
      "filters.language.0",
    ],
    ["an id that is not a key", { filters: { ids: [42] } }, 400, "validation_error", "filters.ids.0"],
    ["an empty list", { filters: { ids: [] } }, 400, "validation_error", "filters.ids"],
    // An unknown key of a strict body is named itself (src/http/errors.ts validationError).
    ["an unknown filter", { filters: { city: ["Pune"] } }, 400, "validation_error", "filters.city"],
    [
      "a variable name JSON escapes",
      { filters: { custom: { 'a"b': 1 } } },
      400,
      "validation_error",
      'filters.custom.a"b',
    ],
    [
      "a variable value that is not a scalar",
      { filters: { custom: { branch: ["Pune"] } } },
      400,
      "validation_error",
      "filters.custom.branch",
    ],
    ["a limit below 1", { limit: 0 }, 400, "validation_error", "limit"],
    [
      "an agent without a disposition",
      { agentId: "agent-1", dispositionId: undefined },
      400,
      "validation_error",
      "dispositionId",
    ],
    ["an unknown agent", { agentId: "ghost", dispositionId: "disp-1" }, 400, "unknown_agent", "agentId"],
    [
      "an unknown disposition",
      { agentId: "agent-1", dispositionId: "ghost" },
      400,
      "unknown_disposition",
      "dispositionId",
    ],
  ];
  for (const [name, body, status, code, path] of cases) {
    it(`${name} → ${status} ${code}, and nothing is selected`, async () => {
      const { t } = await book();
      const r = await call(
        "POST",
        "/api/v1/initiate/book/calls",
        { ...CALL_CONFIG, ...(body as object) },
        t.auth,
      );
      expect(r.status, r.text).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.details.map((d: any) => d.path)).toContain(path);
      const n = await env.DB.prepare(
        "SELECT count(*) AS n FROM imports WHERE organization_id = ? AND kind = 'initiation'",
      )
        .bind(t.orgId)
        .first<{ n: number }>("n");
      expect(n).toBe(0);
    });
  }

  it("an unknown campaign is 404; an import that is not an initiation is not one", async () => {
    const { t } = await book();
    const r = await call("POST", "/api/v1/initiate/nope/calls", CALL_CONFIG, t.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("campaign_not_found");
    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "book", records: [loanRecord(50)] },
      t.auth,
    );
    expect((await call("GET", `/api/v1/initiations/${bulk.json.importId}`, undefined, t.auth)).status).toBe(
      404,
    );
  });
});

describe("initiation — security", () => {
  it("another organization's campaign is 404, and nothing is selected or queued", async () => {
    const a = await book();
    const b = await newTenant();
    const r = await call("POST", "/api/v1/initiate/book/calls", CALL_CONFIG, b.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("campaign_not_found");
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM imports WHERE organization_id IN (?, ?) AND kind = 'initiation'",
    )
      .bind(a.t.orgId, b.orgId)
      .first<{ n: number }>("n");
    expect(rows).toBe(0);
  });

  it("another organization's initiation is 404", async () => {
    const a = await book();
    const mine = await initiate(a.t.orgId, { filters: { ids: ["LN-000001"] } });
    const b = await newTenant();
    const r = await call("GET", `/api/v1/initiations/${mine.outcome.body.initiationId}`, undefined, b.auth);
    expect(r.status).toBe(404);
    expect(
      (await call("GET", `/api/v1/imports/${mine.outcome.body.initiationId}`, undefined, b.auth)).status,
    ).toBe(404);
  });
});
