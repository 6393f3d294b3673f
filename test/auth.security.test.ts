// Authentication and tenancy for every endpoint the API documents. The list of endpoints comes from
// the served /openapi.json, and each needs a fixture below that says how its owner calls it: a new
// route without one fails the first test, so no route can be left out of the checks.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { API_KEY_CACHE_TTL_MS } from "../src/domain/auth";
import { CALL_CONFIG, deliver, pinnedClock, seedCallImport, workerWith } from "./calls-fixtures";
import { ADMIN, call, loanRecord, newTenant } from "./helpers";

type Tenant = Awaited<ReturnType<typeof newTenant>>;

interface OwnerRequest {
  path: string;
  body?: unknown;
}

interface Fixture {
  /** Creates what the request needs in the owner's organization, and builds the request. */
  request(t: Tenant): Promise<OwnerRequest>;
  /** Statuses the owner's request may answer. */
  ok?: number[];
  /**
   * Whether the request names the owner's resources (in its path or body): another organization's
   * key must then get 404, exactly like a missing resource, and change nothing.
   */
  foreign?: boolean;
}

const unique = () => crypto.randomUUID().slice(0, 8);

async function campaignOf(t: Tenant): Promise<string> {
  const id = `c-${unique()}`;
  const r = await call("POST", "/api/v1/campaigns", { id, name: id, campaignType: "emi" }, t.auth);
  if (r.status !== 201) throw new Error(`campaign setup failed: ${r.text}`);
  return id;
}

async function importOf(t: Tenant): Promise<string> {
  const campaignId = await campaignOf(t);
  const r = await call(
    "POST",
    "/api/v1/customers/add/bulk",
    { campaignId, records: [loanRecord(1)] },
    t.auth,
  );
  return r.json.importId;
}

/** A campaign of the owner's holding one customer (loan LN-000001). */
async function customerOf(t: Tenant): Promise<{ campaignId: string; key: string }> {
  const campaignId = await campaignOf(t);
  const r = await call(
    "POST",
    "/api/v1/customers/add/bulk",
    { campaignId, records: [loanRecord(1)] },
    t.auth,
  );
  if (r.status !== 201) throw new Error(`customer setup failed: ${r.text}`);
  return { campaignId, key: "LN-000001" };
}

async function initiationOf(t: Tenant): Promise<string> {
  const { campaignId } = await customerOf(t);
  const r = await call(
    "POST",
    `/api/v1/initiate/${campaignId}/calls`,
    { agentId: "agent-1", dispositionId: "disp-1" },
    t.auth,
  );
  if (r.status !== 200) throw new Error(`initiation setup failed: ${r.text}`);
  return r.json.initiationId;
}

async function webhookOf(t: Tenant, events: string[] = []): Promise<string> {
  const r = await call("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook", events }, t.auth);
  if (r.status !== 201) throw new Error(`webhook setup failed: ${r.text}`);
  return r.json.id;
}

/** An import whose call is not final (queued, delayed or dispatched: never reported), so it can be controlled. */
async function importWithCallsOf(t: Tenant): Promise<string> {
  const campaignId = await campaignOf(t);
  const r = await call(
    "POST",
    "/api/v1/customers/add/bulk",
    { campaignId, records: [loanRecord(1)], initiateCall: true, callConfig: CALL_CONFIG },
    t.auth,
  );
  if (r.status !== 201) throw new Error(`import setup failed: ${r.text}`);
  return r.json.importId;
}

/** A call row of the owner's, placed by the consumer on a pinned clock inside the window. */
async function callOf(t: Tenant): Promise<string> {
  const campaignId = await campaignOf(t);
  const seeded = await seedCallImport(t.orgId, campaignId, [loanRecord(1)]);
  await deliver(
    workerWith({ clock: pinnedClock("2026-11-23T10:00:00+05:30") }),
    "bulkcall-calls",
    seeded.messages,
  );
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/calls`, undefined, t.auth);
  const callId = r.json.data[0]?.callId;
  if (!callId) throw new Error(`no call placed: ${r.text}`);
  return callId;
}

/** Keyed "METHOD /path/template" as /openapi.json names the operation. */
const FIXTURES: Record<string, Fixture> = {
  "POST /api/v1/customers/add/bulk": {
    request: async (t) => ({
      path: "/api/v1/customers/add/bulk",
      body: { campaignId: await campaignOf(t), records: [loanRecord(1)] },
    }),
    foreign: true,
  },
  "POST /api/v1/campaigns": {
    request: async () => ({ path: "/api/v1/campaigns", body: { name: "x", campaignType: "emi" } }),
  },
  "GET /api/v1/campaigns": { request: async () => ({ path: "/api/v1/campaigns" }) },
  "PATCH /api/v1/campaigns/{campaignId}": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}`, body: { name: "renamed" } }),
    foreign: true,
  },
  "DELETE /api/v1/campaigns/{campaignId}": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}` }),
    foreign: true,
  },
  "DELETE /api/v1/campaigns/{campaignId}/customers/{key}": {
    request: async (t) => {
      const { campaignId, key } = await customerOf(t);
      return { path: `/api/v1/campaigns/${campaignId}/customers/${key}` };
    },
    foreign: true,
  },
  "POST /api/v1/customers/add": {
    request: async (t) => ({
      path: "/api/v1/customers/add",
      body: { campaignId: await campaignOf(t), data: loanRecord(1) },
    }),
    foreign: true,
  },
  "PUT /api/v1/customers/update": {
    request: async (t) => {
      const { campaignId, key } = await customerOf(t);
      return {
        path: "/api/v1/customers/update",
        body: { campaignId, loan_id: key, data: { first_name: "Ravi" } },
      };
    },
    foreign: true,
  },
  "POST /api/v1/initiate/{campaignId}/calls": {
    request: async (t) => {
      const { campaignId } = await customerOf(t);
      return {
        path: `/api/v1/initiate/${campaignId}/calls`,
        body: { agentId: "agent-1", dispositionId: "disp-1" },
      };
    },
    foreign: true,
  },
  "GET /api/v1/initiations/{initiationId}": {
    request: async (t) => ({ path: `/api/v1/initiations/${await initiationOf(t)}` }),
    foreign: true,
  },
  "GET /api/v1/campaigns/{campaignId}": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}` }),
    foreign: true,
  },
  "GET /api/v1/campaigns/{campaignId}/customers": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}/customers` }),
    foreign: true,
  },
  "GET /api/v1/campaigns/{campaignId}/calls": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}/calls` }),
    foreign: true,
  },
  "GET /api/v1/imports/{importId}": {
    request: async (t) => ({ path: `/api/v1/imports/${await importOf(t)}` }),
    foreign: true,
  },
  "POST /api/v1/imports/{importId}/pause": {
    request: async (t) => ({ path: `/api/v1/imports/${await importWithCallsOf(t)}/pause` }),
    foreign: true,
  },
  "POST /api/v1/imports/{importId}/resume": {
    request: async (t) => ({ path: `/api/v1/imports/${await importWithCallsOf(t)}/resume` }),
    foreign: true,
  },
  "POST /api/v1/imports/{importId}/cancel": {
    request: async (t) => ({ path: `/api/v1/imports/${await importWithCallsOf(t)}/cancel` }),
    foreign: true,
  },
  "POST /api/v1/campaigns/{campaignId}/pause": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}/pause` }),
    foreign: true,
  },
  "POST /api/v1/campaigns/{campaignId}/resume": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}/resume` }),
    foreign: true,
  },
  "POST /api/v1/campaigns/{campaignId}/cancel": {
    request: async (t) => ({ path: `/api/v1/campaigns/${await campaignOf(t)}/cancel` }),
    foreign: true,
  },
  "GET /api/v1/calls/{callId}": {
    request: async (t) => ({ path: `/api/v1/calls/${await callOf(t)}` }),
    foreign: true,
  },
  "GET /api/v1/organization": { request: async () => ({ path: "/api/v1/organization" }) },
  "PATCH /api/v1/organization": {
    request: async () => ({ path: "/api/v1/organization", body: { contactPolicy: { maxPerDay: 3 } } }),
  },
  "POST /api/v1/suppressions": {
    request: async () => ({ path: "/api/v1/suppressions", body: { phone_numbers: ["9876543210"] } }),
  },
  "GET /api/v1/suppressions": { request: async () => ({ path: "/api/v1/suppressions" }) },
  "DELETE /api/v1/suppressions/{phone}": {
    request: async (t) => {
      const phone = `98${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
      await call("POST", "/api/v1/suppressions", { phone_numbers: [phone] }, t.auth);
      return { path: `/api/v1/suppressions/${phone}` };
    },
    foreign: true,
  },
  "POST /api/v1/webhooks": {
    request: async () => ({ path: "/api/v1/webhooks", body: { url: "http://127.0.0.1:9/hook", events: [] } }),
  },
  "GET /api/v1/webhooks": { request: async () => ({ path: "/api/v1/webhooks" }) },
  "GET /api/v1/webhooks/{webhookId}": {
    request: async (t) => ({ path: `/api/v1/webhooks/${await webhookOf(t)}` }),
    foreign: true,
  },
  "DELETE /api/v1/webhooks/{webhookId}": {
    request: async (t) => ({ path: `/api/v1/webhooks/${await webhookOf(t)}` }),
    foreign: true,
  },
  "POST /api/v1/webhooks/{webhookId}/rotate-secret": {
    request: async (t) => ({ path: `/api/v1/webhooks/${await webhookOf(t)}/rotate-secret` }),
    foreign: true,
  },
  "GET /api/v1/webhooks/{webhookId}/deliveries": {
    request: async (t) => ({ path: `/api/v1/webhooks/${await webhookOf(t)}/deliveries` }),
    foreign: true,
  },
  "POST /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver": {
    request: async (t) => {
      const webhookId = await webhookOf(t, ["import.completed"]);
      await importOf(t);
      const deliveries = await call("GET", `/api/v1/webhooks/${webhookId}/deliveries`, undefined, t.auth);
      const deliveryId = deliveries.json.data[0]?.id;
      if (!deliveryId) throw new Error(`no delivery to redeliver: ${deliveries.text}`);
      return { path: `/api/v1/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver` };
    },
    // 409 while the first delivery is still pending.
    ok: [202, 409],
    foreign: true,
  },
  "POST /api/v1/agents": { request: async () => ({ path: "/api/v1/agents", body: { name: "x" } }) },
  "GET /api/v1/agents": { request: async () => ({ path: "/api/v1/agents" }) },
  "GET /api/v1/agents/{id}": {
    request: async (t) => {
      const id = `a-${unique()}`;
      await call("POST", "/api/v1/agents", { id, name: "A" }, t.auth);
      return { path: `/api/v1/agents/${id}` };
    },
    foreign: true,
  },
  "POST /api/v1/dispositions": {
    request: async () => ({ path: "/api/v1/dispositions", body: { name: "x" } }),
  },
  "GET /api/v1/dispositions": { request: async () => ({ path: "/api/v1/dispositions" }) },
  "GET /api/v1/dispositions/{id}": {
    request: async (t) => {
      const id = `d-${unique()}`;
      await call("POST", "/api/v1/dispositions", { id, name: "D" }, t.auth);
      return { path: `/api/v1/dispositions/${id}` };
    },
    foreign: true,
  },
};

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
