import { exports } from "cloudflare:workers";

export const ADMIN = { Authorization: "Bearer test-admin-token" };

export async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(`http://bulkcall.test${path}`, init),
  );
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

let counter = 0;
/** A fresh organization with an API key, a campaign of each type, an agent and a disposition. */
export async function newTenant() {
  counter++;
  const org = await call("POST", "/admin/v1/organizations", { name: `Lender ${counter}` }, ADMIN);
  const key = await call("POST", `/admin/v1/organizations/${org.json.id}/api-keys`, { name: "test" }, ADMIN);
  const auth = { Authorization: `Bearer ${key.json.key}` };
  for (const [id, campaignType] of [
    ["emi", "emi"],
    ["edi", "edi"],
    ["lead", "lead"],
  ] as const) {
    const r = await call("POST", "/api/v1/campaigns", { id, name: id, campaignType }, auth);
    if (r.status !== 201) throw new Error(`campaign setup failed: ${r.text}`);
  }
  await call("POST", "/api/v1/agents", { id: "agent-1", name: "Priya" }, auth);
  await call("POST", "/api/v1/dispositions", { id: "disp-1", name: "Collections" }, auth);
  return { orgId: org.json.id as string, keyId: key.json.id as string, auth };
}

export function loanRecord(i: number, overrides: Record<string, unknown> = {}) {
  return {
    loan_id: `LN-${String(i).padStart(6, "0")}`,
    first_name: "Asha",
    last_name: "Rao",
    phone_number: `98${String(10_000_000 + i).slice(-8)}`,
    loan_amount: 250000,
    emi_amount: 12500,
    loan_period: 24,
    current_emi: 5,
    emi_due_date: "2026-12-05",
    payment_status: "pending",
    language: "hindi",
    ...overrides,
  };
}
