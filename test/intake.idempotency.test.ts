import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createD1Db } from "../src/db/client";
import { createImportsRepository } from "../src/db/imports-repository";
import { createDeps } from "../src/deps";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import { requestFingerprint } from "../src/domain/intake/idempotency";
import type { LookedUp } from "../src/domain/ports/imports-repository";
import { validateRecord } from "../src/domain/records/validate-record";
import { IDEMPOTENCY_RETENTION_MS } from "../src/domain/scheduled-maintenance";
import { createWorker } from "../src/index";
import { createCampaign } from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";
import { insertChunk } from "./support/chunks";

const BULK = "/api/v1/customers/add/bulk";

async function counts(orgId: string) {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM imports WHERE organization_id = ?1) AS imports,
            (SELECT count(*) FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk WHERE p.organization_id = ?1) AS customers,
            (SELECT count(*) FROM outbox_batches d JOIN imports i ON i.id = d.import_id WHERE i.organization_id = ?1) AS batches`,
  )
    .bind(orgId)
    .first<{ imports: number; customers: number; batches: number }>();
  return row;
}

/** An import row that holds `key` in state `processing`, as a first request that has not finished. */
async function claimKey(
  orgId: string,
  importId: string,
  key: string,
  body: string,
  createdAt: number,
  leaseExpiresAt?: number,
) {
  const campaignPk = await env.DB.prepare("SELECT pk FROM campaigns WHERE organization_id = ? AND id = 'emi'")
    .bind(orgId)
    .first<number>("pk");
  await createImportsRepository(createD1Db(env.DB)).begin({
    id: importId,
    organizationId: orgId,
    campaignPk: campaignPk as number,
    idempotencyKey: key,
    bodyHash: await requestFingerprint(JSON.parse(body)),
    state: "processing",
    total: (JSON.parse(body) as { records: unknown[] }).records.length,
    createdAt,
    leaseExpiresAt,
  });
}

describe("Idempotency-Key", () => {
  it("replays the first answer, with Idempotent-Replayed, and writes nothing", async () => {
    const t = await newTenant();
    const body = JSON.stringify({
      campaignId: "emi",
      records: [loanRecord(1), loanRecord(2, { phone_number: "1" })],
      initiateCall: true,
      callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
    });
    const headers = { ...t.auth, "Idempotency-Key": "daily-file-2026-11-27" };
    const first = await call("POST", BULK, body, headers);
    expect(first.status).toBe(207);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const before = await counts(t.orgId);

    const again = await call("POST", BULK, body, headers);
    expect(again.status).toBe(207);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(await counts(t.orgId)).toEqual(before);
  });

  it("the same key with a different body → 422, nothing written", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-1" };
    await call("POST", BULK, { campaignId: "emi", records: [loanRecord(1)] }, headers);
    const before = await counts(t.orgId);
    const r = await call("POST", BULK, { campaignId: "emi", records: [loanRecord(2)] }, headers);
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("idempotency_key_reused");
    expect(await counts(t.orgId)).toEqual(before);
  });

  it("the same JSON value re-serialized with its keys in another order is the same request: replayed", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "reordered" };
    const record = loanRecord(1);
    const first = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [record], initiateCall: false },
      headers,
    );
    expect(first.status).toBe(201);
    const before = await counts(t.orgId);
    // The way a retry library that rebuilds the body writes it: every object's keys reversed.
    const reversed = Object.fromEntries(Object.entries(record).reverse());
    const again = await call(
      "POST",
      BULK,
      `{"initiateCall":false,"records":[${JSON.stringify(reversed)}],   "campaignId":"emi"}`,
      headers,
    );
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(await counts(t.orgId)).toEqual(before);
  });

  it("array order is part of the request: the same records in another order → 422 naming the first import", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "ordered" };
    const first = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2)] },
      headers,
    );
    const r = await call(
      "POST",
      BULK,
      { campaignId: "emi", records: [loanRecord(2), loanRecord(1)] },
      headers,
    );
    expect(r.status).toBe(422);
    expect(r.json.message).toContain(first.json.importId);
    expect(r.json.error.details).toEqual([
      { path: "Idempotency-Key", message: `already used for import ${first.json.importId}` },
    ]);
  });

  it("while the first request is still running → 409", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1)] });
    await claimKey(t.orgId, "imp_in_flight", "k-busy", body, Date.now());
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-busy" });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("idempotency_request_in_flight");
    expect((await counts(t.orgId))?.customers).toBe(0);
  });

  it("a request abandoned mid-way (its Worker died) can be retried with the same key", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1)] });
    await claimKey(t.orgId, "imp_abandoned", "k-dead", body, Date.now() - 60 * 60 * 1000);
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-dead" });
    expect(r.status).toBe(201);
    const replay = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-dead" });
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json.importId).toBe(r.json.importId);
  });

  it("a running attempt's 409 says when to retry (Retry-After, its lease) and which import holds the key", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1)] });
    await claimKey(t.orgId, "imp_leased", "k-leased", body, Date.now(), Date.now() + 45_000);
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-leased" });
    expect(r.status).toBe(409);
    const retryAfter = Number(r.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(30);
    expect(retryAfter).toBeLessThanOrEqual(45);
    expect(r.json.message).toContain("imp_leased");
    expect(r.json.error.details).toEqual([{ path: "Idempotency-Key", message: "held by import imp_leased" }]);
    // Meanwhile the import shows its state, and counts that add up.
    const progress = await call("GET", "/api/v1/imports/imp_leased", undefined, t.auth);
    expect(progress.json.state).toBe("processing");
    expect(progress.json.results).toEqual({
      total: 1,
      valid: 0,
      invalid: 0,
      successful: 0,
      failed: 0,
      batchesProcessed: 0,
      pending: 1,
    });
    expect(Date.parse(progress.json.attempt.leaseExpiresAt)).toBeGreaterThan(Date.now());
  });

  it("an attempt that died is taken over by a retry as soon as its lease has lapsed, not ten minutes later", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1), loanRecord(2)] });
    // Started two seconds ago, lease lapsed a second ago: its Worker stopped renewing it.
    await claimKey(t.orgId, "imp_dead", "k-lapsed", body, Date.now() - 2_000, Date.now() - 1_000);
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-lapsed" });
    expect(r.status).toBe(201);
    expect(r.json.importId).toBe("imp_dead");
    const progress = await call("GET", "/api/v1/imports/imp_dead", undefined, t.auth);
    expect(progress.json).toMatchObject({ state: "completed", attempt: { number: 2, leaseExpiresAt: null } });
    expect(progress.json.results).toMatchObject({ total: 2, successful: 2, failed: 0, pending: 0 });
  });

  it("a request in flight reports every record pending, so the counts add up at every moment", async () => {
    const t = await newTenant();
    const body = JSON.stringify({
      campaignId: "emi",
      records: [loanRecord(1), loanRecord(2), loanRecord(3)],
    });
    const campaignPk = await env.DB.prepare(
      "SELECT pk FROM campaigns WHERE organization_id = ? AND id = 'emi'",
    )
      .bind(t.orgId)
      .first<number>("pk");
    await createImportsRepository(createD1Db(env.DB)).begin({
      id: "imp_counting",
      organizationId: t.orgId,
      campaignPk: campaignPk as number,
      idempotencyKey: "k-counting",
      bodyHash: await requestFingerprint(JSON.parse(body)),
      state: "processing",
      total: 3,
      createdAt: Date.now(),
      leaseExpiresAt: Date.now() + 60_000,
    });
    const { results } = (await call("GET", "/api/v1/imports/imp_counting", undefined, t.auth)).json;
    expect(results.valid + results.invalid + results.pending).toBe(results.total);
    expect(results.successful + results.failed + results.pending).toBe(results.total);
    expect(results).toMatchObject({ total: 3, pending: 3 });
  });

  it("keys are per organization", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const body = { campaignId: "emi", records: [loanRecord(1)] };
    await call("POST", BULK, body, { ...a.auth, "Idempotency-Key": "shared" });
    const r = await call("POST", BULK, body, { ...b.auth, "Idempotency-Key": "shared" });
    expect(r.status).toBe(201);
    expect(r.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("replays a large all-invalid answer intact", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 10_000 }, (_, i) =>
      loanRecord(i, { phone_number: "0", note: "x".repeat(50) }),
    );
    const headers = { ...t.auth, "Idempotency-Key": "big" };
    const body = JSON.stringify({ campaignId: "emi", records });
    const first = await call("POST", BULK, body, headers);
    expect(first.status).toBe(400);
    expect(first.json.results.errors).toHaveLength(10_000);
    const again = await call("POST", BULK, body, headers);
    expect(again.status).toBe(400);
    expect(again.json).toEqual(first.json);
  });
});

describe("abandoned imports", () => {
  it("are resolved by the cron: failed, counting what they stored, the key no longer held, and a retry still resumes them", async () => {
    const t = await newTenant();
    const records = [loanRecord(1), loanRecord(2), loanRecord(3)];
    const body = JSON.stringify({ campaignId: "emi", records });
    const createdAt = Date.now() - 5 * 60_000;
    await claimKey(t.orgId, "imp_abandoned_cron", "k-never-retried", body, createdAt, createdAt + 60_000);
    // The dead attempt had stored two of the three records.
    const deps = createDeps(env);
    const campaign = await deps.campaigns.findCampaign(t.orgId, "emi");
    const [r1, r2] = await Promise.all(
      [records[0], records[1]].map(async (record) => {
        const verdict = validateRecord(record, "emi", "IN");
        if (!verdict.ok) throw new Error("fixture record is invalid");
        return deps.customers.encodeRow({
          dedupeKey: verdict.record.loan_id as string,
          record: verdict.record,
        });
      }),
    );
    await insertChunk(deps.customers, campaign!.pk, "imp_abandoned_cron", createdAt, [r1!, r2!]);

    await createWorker().scheduled(createScheduledController({ cron: "*/5 * * * *" }), env);

    const progress = (await call("GET", "/api/v1/imports/imp_abandoned_cron", undefined, t.auth)).json;
    expect(progress.state).toBe("failed");
    // Its judgement died with it: none is counted invalid, the record it never stored failed.
    expect(progress.results).toEqual({
      total: 3,
      valid: 3,
      invalid: 0,
      successful: 2,
      failed: 1,
      batchesProcessed: 0,
      pending: 0,
    });

    // The key is no longer held: a retry resumes the import, the two stored customers are its own.
    const retry = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-never-retried" });
    expect(retry.status).toBe(201);
    expect(retry.json.importId).toBe("imp_abandoned_cron");
    expect(retry.json.results).toMatchObject({ total: 3, successful: 3, failed: 0 });
    expect((await counts(t.orgId))?.customers).toBe(3);
  });
});

describe("Idempotency-Key retention", () => {
  it("keys older than the retention are forgotten by the cron; younger ones are kept", async () => {
    const t = await newTenant();
    const body = (i: number) => ({ campaignId: "emi", records: [loanRecord(i)] });
    await call("POST", BULK, body(1), { ...t.auth, "Idempotency-Key": "old" });
    await call("POST", BULK, body(2), { ...t.auth, "Idempotency-Key": "recent" });
    // Age the first import past the retention window.
    await env.DB.prepare(
      "UPDATE imports SET created_at = created_at - ? WHERE idempotency_key = 'old' AND organization_id = ?",
    )
      .bind(IDEMPOTENCY_RETENTION_MS + 60_000, t.orgId)
      .run();

    await createWorker().scheduled(createScheduledController({ cron: "*/5 * * * *" }), env);

    // The old key is free again: a new body is accepted instead of refused with 422.
    const reused = await call("POST", BULK, body(3), { ...t.auth, "Idempotency-Key": "old" });
    expect(reused.status).toBe(201);
    const kept = await call("POST", BULK, body(4), { ...t.auth, "Idempotency-Key": "recent" });
    expect(kept.status).toBe(422);
  });
});

/**
 * A real failure inside D1 after the customers are stored: completing the import with this key
 * aborts. Drop it with `DROP TRIGGER crash_on_complete`.
 */
function crashOnComplete(key: string): string {
  return `CREATE TRIGGER crash_on_complete BEFORE UPDATE OF state ON imports WHEN NEW.state = 'completed' AND OLD.idempotency_key = '${key}' BEGIN SELECT RAISE(ABORT, 'simulated outage'); END`;
}

/**
 * 2,000 valid records (two chunks of 1,000) and one invalid. A request whose every record is new
 * completes its import in its last chunk's write (ChunkCompletion), so crashOnComplete takes that
 * chunk down with the completion: the first chunk to commit is what the failed attempt stored.
 */
const twoChunks = () => [
  ...Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)),
  loanRecord(3_000, { phone_number: "1" }),
];

describe("an attempt that fails after storing", () => {
  it("answers 500, keeps what it stored with its outbox rows, and the retry with the key resumes it", async () => {
    const t = await newTenant();
    const body = JSON.stringify({
      campaignId: "emi",
      records: twoChunks(),
      initiateCall: true,
      callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
    });
    const headers = { ...t.auth, "Idempotency-Key": "k-crash" };
    await env.DB.exec(crashOnComplete("k-crash"));
    let first: Awaited<ReturnType<typeof call>>;
    try {
      first = await call("POST", BULK, body, headers);
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS crash_on_complete");
    }
    expect(first.status).toBe(500);
    expect(first.json.error.code).toBe("internal_error");
    const imp = await env.DB.prepare(
      "SELECT id, state FROM imports WHERE idempotency_key = 'k-crash' AND organization_id = ?",
    )
      .bind(t.orgId)
      .first<{ id: string; state: string }>();
    expect(imp?.state).toBe("failed");
    expect(await counts(t.orgId)).toMatchObject({ imports: 1, customers: 1_000, batches: 2 });

    // The retry resumes the same import: the stored customers are its own, not duplicates, and it
    // stores the chunk the failure took down.
    const retry = await call("POST", BULK, body, headers);
    expect(retry.status).toBe(207);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(retry.json.importId).toBe(imp?.id);
    expect(retry.json.results).toMatchObject({
      total: 2_001,
      valid: 2_000,
      invalid: 1,
      successful: 2_000,
      failed: 1,
    });
    expect(retry.json.results.errors.map((e: any) => e.code)).toEqual(["invalid_record"]);
    expect(retry.json.callResults).toEqual({
      requested: 2_000,
      queued: 2_000,
      batches: 4,
      failed: 0,
      errors: [],
    });
    expect(await counts(t.orgId)).toEqual({ imports: 1, customers: 2_000, batches: 4 });

    const replay = await call("POST", BULK, body, headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(retry.json);
  });

  it("a retry after its campaign was deleted and created again is refused (409), not resumed on the new campaign", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1), loanRecord(2)] });
    const headers = { ...t.auth, "Idempotency-Key": "k-recreated" };
    await env.DB.exec(crashOnComplete("k-recreated"));
    try {
      expect((await call("POST", BULK, body, headers)).status).toBe(500);
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS crash_on_complete");
    }
    expect((await call("DELETE", "/api/v1/campaigns/emi?force=true", undefined, t.auth)).status).toBe(204);
    await createCampaign(t.auth, { id: "emi", name: "EMI again" });
    const retried = await call("POST", BULK, body, headers);
    expect(retried.status).toBe(409);
    expect(retried.json.error.code).toBe("conflict");
    // Nothing went to the new campaign, and the import stays on the old one.
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk
       WHERE p.organization_id = ? AND p.deleted_at IS NULL`,
    )
      .bind(t.orgId)
      .first<number>("n");
    expect(stored).toBe(0);
    // A new key adds them to the new campaign.
    const fresh = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-recreated-2" });
    expect(fresh.status).toBe(201);
  });

  it("customers stored before a failure are handed to the queue by the cron even if no retry comes", async () => {
    const t = await newTenant();
    const body = JSON.stringify({
      campaignId: "emi",
      records: twoChunks(),
      initiateCall: true,
      callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
    });
    await env.DB.exec(crashOnComplete("k-lost"));
    try {
      // The queue is down too: nothing was sent when the request failed.
      const deps = createDeps(env, {
        callsQueue: { sendBatch: () => Promise.reject(new Error("queue down")) },
      });
      await expect(
        addCustomersInBulk(deps, {
          organizationId: t.orgId,
          campaignId: "emi",
          records: JSON.parse(body).records,
          initiateCall: true,
          useWorkflow: false,
          callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
          idempotency: { key: "k-lost", bodyHash: await requestFingerprint(JSON.parse(body)) },
        }),
      ).rejects.toThrow();
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS crash_on_complete");
    }
    const { results } = await env.DB.prepare(
      "SELECT d.state, d.size FROM outbox_batches d JOIN imports i ON i.id = d.import_id WHERE i.organization_id = ?",
    )
      .bind(t.orgId)
      .all<{ state: string; size: number }>();
    expect(results).toEqual([
      { state: "pending", size: 500 },
      { state: "pending", size: 500 },
    ]);

    const sent: unknown[] = [];
    const later = { now: () => Date.now() + 10 * 60_000 };
    await createWorker({
      deps: (e) =>
        createDeps(e, {
          clock: later,
          callsQueue: { sendBatch: async (messages) => void sent.push(...messages) },
          workflowsQueue: { sendBatch: async () => undefined },
        }),
    }).scheduled(createScheduledController({ cron: "*/5 * * * *" }), env);
    expect(sent).toContainEqual({ body: expect.objectContaining({ kind: "call", batchNo: 0 }) });
  });
});

describe("large error answers", () => {
  it("cap the fields reported per record, and are stored and replayed whole", async () => {
    const t = await newTenant();
    const junk = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`extra_${"x".repeat(40)}_${i}`, { nested: i }]),
    );
    const records = Array.from({ length: 2_000 }, (_, i) => loanRecord(i, junk));
    const body = JSON.stringify({ campaignId: "emi", records });
    const headers = { ...t.auth, "Idempotency-Key": "k-big-errors" };
    const first = await call("POST", BULK, body, headers);
    expect(first.status).toBe(400);
    const error = first.json.results.errors[0];
    expect(error.fields).toHaveLength(10);
    expect(error.message).toMatch(/ and 40 more$/);
    const again = await call("POST", BULK, body, headers);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
  });
});

describe("retrying a failed import", () => {
  async function failOnce(t: Awaited<ReturnType<typeof newTenant>>, key: string, body: string) {
    await env.DB.exec(crashOnComplete(key));
    try {
      const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": key });
      expect(r.status).toBe(500);
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS crash_on_complete");
    }
  }

  it("a retry refused by a check leaves the key free for the next one", async () => {
    const t = await newTenant();
    const body = JSON.stringify({
      campaignId: "emi",
      records: [loanRecord(1)],
      initiateCall: true,
      callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
    });
    await failOnce(t, "k-check", body);
    await env.DB.prepare("UPDATE agents SET id = 'agent-away' WHERE organization_id = ? AND id = 'agent-1'")
      .bind(t.orgId)
      .run();
    const refused = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-check" });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe("unknown_agent");
    await env.DB.prepare("UPDATE agents SET id = 'agent-1' WHERE organization_id = ? AND id = 'agent-away'")
      .bind(t.orgId)
      .run();
    const retried = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-check" });
    expect(retried.status).toBe(201);
  });

  // The claim is written in the look-ups' own batch (one snapshot), so the code's checks and the
  // claim's statement read the same rows; these tests make the two disagree, or the answer get lost,
  // by wrapping the repository.
  const claimAnd = (
    deps: ReturnType<typeof createDeps>,
    then: (found: LookedUp) => LookedUp,
  ): ReturnType<typeof createDeps>["imports"] => {
    const real = deps.imports;
    return {
      ...real,
      lookUpAndBegin: async (lookUp, claim) => then(await real.lookUpAndBegin(lookUp, claim)),
    };
  };
  const oneRecordWithCalls = JSON.stringify({
    campaignId: "emi",
    records: [loanRecord(1)],
    initiateCall: true,
    callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
  });
  const bulkInput = async (orgId: string, key: string) => ({
    ...JSON.parse(oneRecordWithCalls),
    organizationId: orgId,
    useWorkflow: false,
    idempotency: { key, bodyHash: await requestFingerprint(JSON.parse(oneRecordWithCalls)) },
  });

  it("a claim the code's checks refuse after all is released, and the key is free", async () => {
    const t = await newTenant();
    const deps = createDeps(env);
    deps.imports = claimAnd(deps, (found) => ({ ...found, agentFound: false }));
    await expect(addCustomersInBulk(deps, await bulkInput(t.orgId, "k-refused"))).rejects.toMatchObject({
      code: "unknown_agent",
    });
    expect(await counts(t.orgId)).toEqual({ imports: 0, customers: 0, batches: 0 });
    const retried = await call("POST", BULK, oneRecordWithCalls, {
      ...t.auth,
      "Idempotency-Key": "k-refused",
    });
    expect(retried.status).toBe(201);
    expect(await counts(t.orgId)).toEqual({ imports: 1, customers: 1, batches: 1 });
  });

  it("a claim whose answer is lost after it was written is released: the retry after the 500 runs at once", async () => {
    const t = await newTenant();
    const deps = createDeps(env);
    deps.imports = claimAnd(deps, () => {
      throw new Error("D1_ERROR: network connection lost");
    });
    await expect(addCustomersInBulk(deps, await bulkInput(t.orgId, "k-lost"))).rejects.toThrow(
      /network connection lost/,
    );
    expect(await counts(t.orgId)).toEqual({ imports: 0, customers: 0, batches: 0 });
    const retried = await call("POST", BULK, oneRecordWithCalls, { ...t.auth, "Idempotency-Key": "k-lost" });
    expect(retried.status).toBe(201);
    expect(await counts(t.orgId)).toEqual({ imports: 1, customers: 1, batches: 1 });
  });

  it("a release that fails does not hide the request's own answer", async () => {
    const t = await newTenant();
    const deps = createDeps(env);
    deps.imports = {
      ...claimAnd(deps, (found) => ({ ...found, agentFound: false })),
      release: async () => {
        throw new Error("D1_ERROR: release lost");
      },
    };
    await expect(addCustomersInBulk(deps, await bulkInput(t.orgId, "k-release"))).rejects.toMatchObject({
      code: "unknown_agent",
    });
    // The claim stays, as an attempt that died would: processing, with a lease the retry waits out.
    const row = await env.DB.prepare(
      "SELECT state, lease_expires_at AS lease FROM imports WHERE organization_id = ?",
    )
      .bind(t.orgId)
      .first<{ state: string; lease: number }>();
    expect(row?.state).toBe("processing");
    expect(row?.lease).toBeGreaterThan(Date.now());
  });

  it("counts what the failed attempt stored even when the retry's chunk holding it fails", async () => {
    const t = await newTenant();
    const records = Array.from({ length: 1_500 }, (_, i) => loanRecord(i));
    const body = JSON.stringify({ campaignId: "emi", records });
    await failOnce(t, "k-chunk", body);
    // The retry's second chunk fails on a record the first attempt already stored.
    await env.DB.exec(
      `CREATE TRIGGER fail_marked_chunk BEFORE INSERT ON customers WHEN NEW.loan_id = '${loanRecord(1_200).loan_id}' BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`,
    );
    try {
      const retried = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-chunk" });
      expect(retried.status).toBe(201);
      expect(retried.json.results).toMatchObject({ total: 1_500, successful: 1_500, failed: 0, errors: [] });
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS fail_marked_chunk");
    }
  });

  it("a request that loses the race for the key to a failed attempt resumes it", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1), loanRecord(2)] });
    await failOnce(t, "k-race", body);
    const deps = createDeps(env);
    // The race: this request's look-ups ran before the failed attempt's row existed (so its claim,
    // made later, found the key held).
    deps.imports = claimAnd(deps, (found) => ({ ...found, earlier: undefined }));
    const outcome = await addCustomersInBulk(deps, {
      organizationId: t.orgId,
      campaignId: "emi",
      records: JSON.parse(body).records,
      initiateCall: false,
      useWorkflow: false,
      idempotency: { key: "k-race", bodyHash: await requestFingerprint(JSON.parse(body)) },
    });
    expect(outcome.status).toBe(201);
    expect(outcome.body.results.successful).toBe(2);
    const row = await env.DB.prepare(
      "SELECT state, attempt FROM imports WHERE idempotency_key = 'k-race' AND organization_id = ?",
    )
      .bind(t.orgId)
      .first();
    expect(row).toEqual({ state: "completed", attempt: 2 });
  });
});
