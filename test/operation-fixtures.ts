// What each documented /api/v1 operation needs from its owner to succeed, keyed by the operation as
// /openapi.json names it ("METHOD /path/template"). The security test checks every operation has
// one; the hostile-body test reuses them to reach each route with a body it would otherwise accept.
import { CALL_CONFIG, deliver, pinnedClock, seedCallImport, workerWith } from "./calls-fixtures";
import { call, loanRecord, type newTenant } from "./helpers";

export type Tenant = Awaited<ReturnType<typeof newTenant>>;

export interface OwnerRequest {
  path: string;
  body?: unknown;
}

export interface Fixture {
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
export const FIXTURES: Record<string, Fixture> = {
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
