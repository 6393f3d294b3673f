// Authentication and tenancy for every endpoint the API documents. The list of endpoints comes from
// the served /openapi.json, and each needs a fixture (test/operation-fixtures.ts) that says how its
// owner calls it: a new route without one fails the first test, so no route escapes the checks.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { API_KEY_CACHE_TTL_MS } from "../src/domain/auth";
import { pinnedClock, workerWith } from "./calls-fixtures";
import { ADMIN, call, loanRecord, newTenant } from "./helpers";
import { FIXTURES, type Fixture } from "./operation-fixtures";

interface Operation {
  method: string;
  template: string;
  /** False for operations that authenticate another way (the dialer's signed events). */
  apiKey: boolean;
}

/** Every /api/v1 operation the served document lists (admin routes have their own tests below). */
async function documentedOperations(): Promise<Operation[]> {
  const r = await call("GET", "/openapi.json");
  const doc = r.json as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!template.startsWith("/api/v1/")) continue;
    for (const [method, op] of Object.entries(item)) {
      ops.push({
        method: method.toUpperCase(),
        template,
        apiKey: !(Array.isArray(op.security) && op.security.length === 0),
      });
    }
  }
  return ops;
}

let operations: Operation[] = [];
beforeAll(async () => {
  operations = await documentedOperations();
});

describe("every documented /api/v1 operation", () => {
  it("has a fixture here, so none escapes the checks below", () => {
    expect(operations.length).toBeGreaterThan(20);
    const missing = operations
      .filter((o) => o.apiKey)
      .map((o) => `${o.method} ${o.template}`)
      .filter((k) => !FIXTURES[k]);
    expect(missing, "add a fixture for each new route").toEqual([]);
    // And no fixture is left over for a route that is gone.
    const documented = new Set(operations.map((o) => `${o.method} ${o.template}`));
    expect(Object.keys(FIXTURES).filter((k) => !documented.has(k))).toEqual([]);
  });

  it("requires a live API key (401 with WWW-Authenticate), then works for its owner", async () => {
    for (const op of operations.filter((o) => o.apiKey)) {
      const fixture = FIXTURES[`${op.method} ${op.template}`] as Fixture;
      const t = await newTenant();
      const owner = await fixture.request(t);
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer nope" },
        { Authorization: "Basic abc" },
      ];
      for (const headers of attempts) {
        const r = await call(op.method, owner.path, owner.body, headers);
        expect(r.status, `${op.method} ${op.template} with ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
        expect(r.json.error.code).toBe("unauthorized");
      }
      const ok = await call(op.method, owner.path, owner.body, t.auth);
      expect(fixture.ok ?? [200, 201, 204], `${op.method} ${op.template}: ${ok.text}`).toContain(ok.status);
    }
  }, 120_000);

  it("answers another organization's key 404 for the owner's resources, and changes nothing", async () => {
    for (const op of operations.filter((o) => o.apiKey)) {
      const fixture = FIXTURES[`${op.method} ${op.template}`] as Fixture;
      if (!fixture.foreign) continue;
      const owner = await newTenant();
      const stranger = await newTenant();
      const request = await fixture.request(owner);
      const r = await call(op.method, request.path, request.body, stranger.auth);
      expect(r.status, `${op.method} ${op.template} as another organization: ${r.text}`).toBe(404);
      // The owner's resource is as it was: its own request still does what it did.
      const ok = await call(op.method, request.path, request.body, owner.auth);
      expect(fixture.ok ?? [200, 201, 204], `${op.method} ${op.template} afterwards: ${ok.text}`).toContain(
        ok.status,
      );
    }
  }, 120_000);
});

describe("tenancy", () => {
  it("another organization's campaign answers 404, exactly like a missing one", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/campaigns", { id: "only-a", name: "A", campaignType: "emi" }, a.auth);
    await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "only-a", records: [loanRecord(1)] },
      a.auth,
    );

    const foreign = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "only-a", records: [loanRecord(2)] },
      b.auth,
    );
    const missing = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "nowhere", records: [loanRecord(2)] },
      b.auth,
    );
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.json.error.code).toBe(missing.json.error.code);
    expect((await call("GET", "/api/v1/campaigns/only-a", undefined, b.auth)).status).toBe(404);
    expect((await call("GET", "/api/v1/campaigns/only-a/customers", undefined, b.auth)).status).toBe(404);
    const listed = await call("GET", "/api/v1/campaigns", undefined, b.auth);
    expect(listed.json.data.map((c: any) => c.id)).not.toContain("only-a");
  });

  it("the same campaign id in two organizations are two campaigns", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/customers/add/bulk", { campaignId: "emi", records: [loanRecord(1)] }, a.auth);
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [loanRecord(1)] },
      b.auth,
    );
    expect(r.status).toBe(201);
  });

  it("another organization's agent cannot be used in callConfig", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/agents", { id: "a-only", name: "A" }, a.auth);
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      {
        campaignId: "emi",
        records: [loanRecord(1)],
        initiateCall: true,
        callConfig: { agentId: "a-only", dispositionId: "disp-1" },
      },
      b.auth,
    );
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("unknown_agent");
  });
});

describe("API keys", () => {
  it("are random, shown once, stored only as a hash, and stop working when revoked", async () => {
    const t = await newTenant();
    const key = t.auth.Authorization.slice("Bearer ".length);
    expect(key).toMatch(/^bc_[A-Za-z0-9_-]{43}$/);
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(t.keyId)
      .first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(key);
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);

    expect((await call("DELETE", `/admin/v1/api-keys/${t.keyId}`, undefined, ADMIN)).status).toBe(204);
    expect((await call("GET", "/api/v1/campaigns", undefined, t.auth)).status).toBe(401);
    expect((await call("DELETE", `/admin/v1/api-keys/${t.keyId}`, undefined, ADMIN)).status).toBe(404);
  });
});

describe("the isolate's API key cache", () => {
  it("a key revoked elsewhere keeps working in this isolate for at most API_KEY_CACHE_TTL_MS", async () => {
    const t = await newTenant();
    const clock = pinnedClock(new Date().toISOString());
    const worker = workerWith({ clock });
    const get = async () =>
      (
        await worker.fetch(
          new Request("http://bulkcall.test/api/v1/campaigns", { headers: t.auth }),
          env,
          createExecutionContext(),
        )
      ).status;
    expect(await get()).toBe(200);
    // Revoked by another isolate (straight in the database): this one does not hear of it.
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), t.keyId).run();
    clock.advance(API_KEY_CACHE_TTL_MS - 1_000);
    expect(await get()).toBe(200);
    clock.advance(1_000);
    expect(await get()).toBe(401);
  });
});

describe("/admin/v1", () => {
  it("refuses a wrong or missing admin token", async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }];
    for (const headers of attempts) {
      const r = await call("POST", "/admin/v1/organizations", { name: "x" }, headers);
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe("unauthorized");
    }
  });

  it("an API key is not an admin token", async () => {
    const t = await newTenant();
    expect((await call("POST", "/admin/v1/organizations", { name: "x" }, t.auth)).status).toBe(401);
  });

  it("is off (404) when ADMIN_TOKEN is unset", async () => {
    const app = createApp();
    const res = await app.fetch(
      new Request("http://bulkcall.test/admin/v1/organizations", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer anything" },
        body: JSON.stringify({ name: "x" }),
      }),
      { ...env, ADMIN_TOKEN: undefined },
    );
    expect(res.status).toBe(404);
  });

  it("api keys for an unknown organization → 404", async () => {
    const r = await call("POST", "/admin/v1/organizations/org_missing/api-keys", { name: "x" }, ADMIN);
    expect(r.status).toBe(404);
  });
});

describe("no stack traces", () => {
  it("unknown routes answer the JSON error shape", async () => {
    const r = await call("GET", "/nowhere");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("not_found");
  });

  it("a bad cursor is a 400, not a 500", async () => {
    const t = await newTenant();
    const r = await call("GET", "/api/v1/campaigns/emi/customers?cursor=%%%", undefined, t.auth);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("validation_error");
  });
});
