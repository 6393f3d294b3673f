import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { ADMIN, call, loanRecord, newTenant } from "./helpers";

/** Stores customer LN-000001 in the tenant's campaign "emi". */
async function withCustomer(auth: Record<string, string>) {
  await call("POST", "/api/v1/customers/add", { campaignId: "emi", data: loanRecord(1) }, auth);
}

// Every /api/v1 endpoint, with a request that would succeed for its owner (after the set-up, if any).
const ENDPOINTS: [string, string, unknown?, ((auth: Record<string, string>) => Promise<void>)?][] = [
  ["POST", "/api/v1/customers/add/bulk", { campaignId: "emi", records: [loanRecord(1)] }],
  ["GET", "/api/v1/campaigns"],
  ["POST", "/api/v1/campaigns", { name: "x", campaignType: "emi" }],
  ["GET", "/api/v1/campaigns/emi"],
  ["GET", "/api/v1/campaigns/emi/customers"],
  ["GET", "/api/v1/agents"],
  ["POST", "/api/v1/agents", { name: "x" }],
  ["GET", "/api/v1/agents/agent-1"],
  ["GET", "/api/v1/dispositions"],
  ["POST", "/api/v1/dispositions", { name: "x" }],
  ["GET", "/api/v1/dispositions/disp-1"],
  ["POST", "/api/v1/customers/add", { campaignId: "emi", data: loanRecord(1) }],
  ["PUT", "/api/v1/customers/update", { campaignId: "emi", loan_id: "LN-000001", data: {} }, withCustomer],
  ["PATCH", "/api/v1/campaigns/emi", { name: "x" }],
  ["DELETE", "/api/v1/campaigns/edi"],
  ["DELETE", "/api/v1/campaigns/emi/customers/LN-000001", undefined, withCustomer],
  [
    "POST",
    "/api/v1/initiate/emi/calls",
    { agentId: "agent-1", dispositionId: "disp-1", filters: { ids: ["LN-000001"] } },
    withCustomer,
  ],
];

describe("every /api/v1 endpoint requires a live API key", () => {
  for (const [method, path, body, setUp] of ENDPOINTS) {
    it(`${method} ${path}`, async () => {
      const t = await newTenant();
      await setUp?.(t.auth);
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer nope" },
        { Authorization: "Basic abc" },
      ];
      for (const headers of attempts) {
        const r = await call(method, path, body, headers);
        expect(r.status).toBe(401);
        expect(r.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
        expect(r.json.error.code).toBe("unauthorized");
      }
      const ok = await call(method, path, body, t.auth);
      expect(ok.status).toBeLessThan(300);
    });
  }
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
