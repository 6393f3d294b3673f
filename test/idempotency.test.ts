import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createD1Db } from "../src/db/client";
import { createImportsRepository } from "../src/db/imports-repository";
import { sha256Hex } from "../src/domain/auth";
import { IDEMPOTENCY_RETENTION_MS } from "../src/domain/scheduled-maintenance";
import { createWorker } from "../src/index";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

async function counts(orgId: string) {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM imports WHERE organization_id = ?1) AS imports,
            (SELECT count(*) FROM customers c JOIN campaigns p ON p.pk = c.campaign_pk WHERE p.organization_id = ?1) AS customers,
            (SELECT count(*) FROM dispatch_batches d JOIN imports i ON i.id = d.import_id WHERE i.organization_id = ?1) AS batches`,
  )
    .bind(orgId)
    .first<{ imports: number; customers: number; batches: number }>();
  return row;
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

  it("while the first request is still running → 409", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1)] });
    const pk = await env.DB.prepare("SELECT pk FROM campaigns WHERE organization_id = ? AND id = 'emi'")
      .bind(t.orgId)
      .first<number>("pk");
    // The first request has claimed the key and not finished: its import row is `processing`.
    await createImportsRepository(createD1Db(env.DB)).begin({
      id: "imp_in_flight",
      organizationId: t.orgId,
      campaignPk: pk as number,
      idempotencyKey: "k-busy",
      bodyHash: await sha256Hex(body),
      state: "processing",
      createdAt: Date.now(),
    });
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-busy" });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("idempotency_request_in_flight");
    expect((await counts(t.orgId))?.customers).toBe(0);
  });

  it("a request abandoned mid-way (its Worker died) can be retried with the same key", async () => {
    const t = await newTenant();
    const body = JSON.stringify({ campaignId: "emi", records: [loanRecord(1)] });
    const pk = await env.DB.prepare("SELECT pk FROM campaigns WHERE organization_id = ? AND id = 'emi'")
      .bind(t.orgId)
      .first<number>("pk");
    await createImportsRepository(createD1Db(env.DB)).begin({
      id: "imp_abandoned",
      organizationId: t.orgId,
      campaignPk: pk as number,
      idempotencyKey: "k-dead",
      bodyHash: await sha256Hex(body),
      state: "processing",
      createdAt: Date.now() - 60 * 60 * 1000,
    });
    const r = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-dead" });
    expect(r.status).toBe(201);
    const replay = await call("POST", BULK, body, { ...t.auth, "Idempotency-Key": "k-dead" });
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json.importId).toBe(r.json.importId);
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
