// POST /api/v1/customers/add: one record through the bulk endpoint's rules, write and Idempotency-Key
// handling, answered in the single-customer shape.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/deps";
import { addCustomer } from "../src/domain/intake/add-customer";
import { CALL_CONFIG, capturingQueue, failingQueue } from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

const ADD = "/api/v1/customers/add";

async function stored(auth: Record<string, string>, campaignId = "emi") {
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  expect(r.status).toBe(200);
  return r.json.data as any[];
}

async function importRows(orgId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, kind, total, successful, initiate_call, agent_id FROM imports WHERE organization_id = ? ORDER BY created_at",
  )
    .bind(orgId)
    .all<{
      id: string;
      kind: string;
      total: number;
      successful: number;
      initiate_call: number;
      agent_id: string;
    }>();
  return results;
}

describe("POST /api/v1/customers/add — success", () => {
  it("adds one customer, answers the documented shape, and stores it normalized", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      ADD,
      {
        campaignId: "emi",
        data: loanRecord(7, { phone_number: "+91 98765-43210", language: "HI", dpd: 12 }),
      },
      t.auth,
    );
    expect(r.status, r.text).toBe(201);
    const { importId, ...documented } = r.json;
    expect(documented).toEqual({
      success: true,
      message: "Customer added to campaign successfully",
      data: { id: "LN-000007", campaignId: "emi" },
    });
    expect(await stored(t.auth)).toMatchObject([
      {
        loan_id: "LN-000007",
        phone_number: "+919876543210",
        language: "hindi",
        variables: { dpd: 12 },
        importId,
      },
    ]);
    expect(await importRows(t.orgId)).toMatchObject([
      { id: importId, kind: "single", total: 1, successful: 1 },
    ]);
    const progress = await call("GET", `/api/v1/imports/${importId}`, undefined, t.auth);
    expect(progress.json).toMatchObject({ kind: "single", results: { total: 1, successful: 1 } });
  });

  it("a lead campaign answers the lead_id as the id", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      ADD,
      { campaignId: "lead", data: { lead_id: "LD-9", first_name: "Ravi", phone_number: "9876543210" } },
      t.auth,
    );
    expect(r.status).toBe(201);
    expect(r.json.data).toEqual({ id: "LD-9", campaignId: "lead" });
  });

  it("with initiateCall hands the customer to the call queue in its own write", async () => {
    const t = await newTenant();
    const queue = capturingQueue();
    const deps = createDeps(env, { callsQueue: queue });
    const outcome = await addCustomer(deps, {
      organizationId: t.orgId,
      campaignId: "emi",
      data: loanRecord(1),
      initiateCall: true,
      callConfig: CALL_CONFIG,
    });
    expect(outcome.status).toBe(201);
    expect(outcome.body).toMatchObject({ success: true, callInitiated: true });
    expect(outcome.body).not.toHaveProperty("callError");
    const importId = (outcome.body as { importId: string }).importId;
    expect(queue.sent.map((m) => m.body)).toEqual([{ kind: "call", importId, batchNo: 0 }]);
    const batches = await deps.outbox.listForImport(importId);
    expect(batches).toMatchObject([{ kind: "call", size: 1, state: "sent" }]);
  });

  it("a hand-off that has to wait is reported in callError, and the customer stays added", async () => {
    const t = await newTenant();
    const deps = createDeps(env, { callsQueue: failingQueue });
    const outcome = await addCustomer(deps, {
      organizationId: t.orgId,
      campaignId: "emi",
      data: loanRecord(1),
      initiateCall: true,
      callConfig: CALL_CONFIG,
    });
    expect(outcome.status).toBe(201);
    expect(outcome.body).toMatchObject({
      callInitiated: false,
      callError: expect.stringMatching(/automatically/),
    });
    const batches = await deps.outbox.listForImport((outcome.body as { importId: string }).importId);
    expect(batches).toMatchObject([{ state: "pending" }]);
  });

  it("callConfig may be left out when the campaign has a default agent and disposition", async () => {
    const t = await newTenant();
    await call("PATCH", "/api/v1/campaigns/emi", { agentId: "agent-1", dispositionId: "disp-1" }, t.auth);
    const r = await call("POST", ADD, { campaignId: "emi", data: loanRecord(1), initiateCall: true }, t.auth);
    expect(r.status, r.text).toBe(201);
    expect(r.json.callInitiated).toBe(true);
    expect(await importRows(t.orgId)).toMatchObject([{ initiate_call: 1, agent_id: "agent-1" }]);
  });

  it("replays the stored answer for the same Idempotency-Key and body, and writes nothing more", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "single-1" };
    const body = { campaignId: "emi", data: loanRecord(1) };
    const first = await call("POST", ADD, body, headers);
    const again = await call("POST", ADD, body, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(await importRows(t.orgId)).toHaveLength(1);
    const reused = await call("POST", ADD, { ...body, data: loanRecord(2) }, headers);
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("idempotency_key_reused");
    expect(await stored(t.auth)).toHaveLength(1);
  });
});

describe("POST /api/v1/customers/add — errors", () => {
  it("a record that breaks a rule is 400 invalid_record naming every field, and nothing is stored", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      ADD,
      { campaignId: "emi", data: loanRecord(1, { phone_number: "12345", emi_due_date: "2026-02-30" }) },
      t.auth,
    );
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      success: false,
      message: "Record failed validation: phone_number, emi_due_date",
      error: {
        code: "invalid_record",
        details: [
          { path: "data.phone_number", message: expect.any(String) },
          {
            path: "data.emi_due_date",
            message: "must be a calendar date in the form YYYY-MM-DD, in the years 1900 to 2100",
          },
        ],
      },
    });
    expect(await stored(t.auth)).toEqual([]);
  });

  it("the same messages as the bulk endpoint", async () => {
    const t = await newTenant();
    const record = loanRecord(1, { emi_amount: "12,500", current_emi: 30 });
    const single = await call("POST", ADD, { campaignId: "emi", data: record }, t.auth);
    const bulk = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [record] },
      t.auth,
    );
    expect(single.json.error.details).toEqual(
      bulk.json.results.errors[0].fields.map((f: any) => ({ path: `data.${f.field}`, message: f.message })),
    );
  });

  it("a key the campaign holds is 409 duplicate_existing, and the stored customer is unchanged", async () => {
    const t = await newTenant();
    await call("POST", ADD, { campaignId: "emi", data: loanRecord(1) }, t.auth);
    const r = await call(
      "POST",
      ADD,
      { campaignId: "emi", data: loanRecord(1, { first_name: "Other" }) },
      t.auth,
    );
    expect(r.status).toBe(409);
    expect(r.json.error).toMatchObject({ code: "duplicate_existing", details: [{ path: "data.loan_id" }] });
    expect((await stored(t.auth))[0].first_name).toBe("Asha");
  });

  it("initiateCall without callConfig on a campaign without defaults is 400, before anything is stored", async () => {
    const t = await newTenant();
    const r = await call("POST", ADD, { campaignId: "emi", data: loanRecord(1), initiateCall: true }, t.auth);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "validation_error", details: [{ path: "callConfig" }] });
    expect(await stored(t.auth)).toEqual([]);
    expect(await importRows(t.orgId)).toEqual([]);
  });

  it("envelope errors: data missing or not an object, unknown campaign, unknown agent", async () => {
    const t = await newTenant();
    const cases: [unknown, number, string][] = [
      [{ campaignId: "emi" }, 400, "validation_error"],
      [{ campaignId: "emi", data: [loanRecord(1)] }, 400, "validation_error"],
      [{ campaignId: "nope", data: loanRecord(1) }, 404, "campaign_not_found"],
      [
        {
          campaignId: "emi",
          data: loanRecord(1),
          initiateCall: true,
          callConfig: { ...CALL_CONFIG, agentId: "x" },
        },
        400,
        "unknown_agent",
      ],
    ];
    for (const [body, status, code] of cases) {
      const r = await call("POST", ADD, body, t.auth);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.code).toBe(code);
    }
    expect(await stored(t.auth)).toEqual([]);
  });
});

describe("POST /api/v1/customers/add — security", () => {
  it("another organization's campaign is 404, and nothing is stored in it", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await call("POST", "/api/v1/campaigns", { id: "only-a", name: "A", campaignType: "emi" }, a.auth);
    const r = await call("POST", ADD, { campaignId: "only-a", data: loanRecord(1) }, b.auth);
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("campaign_not_found");
    expect(await stored(a.auth, "only-a")).toEqual([]);
    expect(await importRows(b.orgId)).toEqual([]);
  });

  it("another organization's Idempotency-Key is its own: the same key never replays across tenants", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const body = { campaignId: "emi", data: loanRecord(1) };
    await call("POST", ADD, body, { ...a.auth, "Idempotency-Key": "shared" });
    const r = await call("POST", ADD, body, { ...b.auth, "Idempotency-Key": "shared" });
    expect(r.status).toBe(201);
    expect(r.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await stored(b.auth)).toHaveLength(1);
  });
});
