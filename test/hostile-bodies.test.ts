// Hostile JSON bodies on every route that reads one. For each POST, PUT and PATCH operation the
// served /openapi.json lists, the route is reached as its owner would reach it (the fixtures of the
// security test, and below those of the admin API and the dialer's signed events), with:
//   - JSON nested 10,000 levels deep ([[[…]]]) in place of each field of a body it accepts, and as
//     the whole body;
//   - a body whose one key is 2,000,000 characters long.
// Each must be refused with a 4xx and the contract's structured error, small (nothing of the input
// echoed back), never a 5xx. Every request carries an Idempotency-Key, so the routes that take one
// fingerprint the body too.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../src/domain/calls/signature";
import { utf8Length } from "../src/domain/intake/judge-records";
import type { AppEnv } from "../src/env";
import { MAX_JSON_CONTAINERS } from "../src/http/middleware/json-body";
import { ADMIN, call, loanRecord, newTenant } from "./helpers";
import { FIXTURES, type OwnerRequest, type Tenant } from "./operation-fixtures";

const DEPTH = 10_000;
const DEEP = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
const HUGE_KEY_BODY = `{${JSON.stringify("k".repeat(2_000_000))}:1}`;
/** An answer this small cannot be repeating either input. */
const SMALL_ANSWER = 64 * 1024;

interface Reach {
  request(t: Tenant): Promise<OwnerRequest>;
  /** Headers the request needs besides the tenant's API key (the admin token, a signature). */
  headers?(raw: string): Promise<Record<string, string>>;
}

const dialerSecret = (env as unknown as AppEnv).DIALER_SECRET as string;

/** The operations outside /api/v1's API-key fixtures: the admin API and the dialer's events. */
const OTHER_REACHES: Record<string, Reach> = {
  "POST /admin/v1/organizations": {
    request: async () => ({ path: "/admin/v1/organizations", body: { name: "Hostile" } }),
    headers: async () => ADMIN,
  },
  "POST /admin/v1/organizations/{id}/api-keys": {
    request: async () => {
      const org = await call("POST", "/admin/v1/organizations", { name: "Hostile" }, ADMIN);
      return { path: `/admin/v1/organizations/${org.json.id}/api-keys`, body: { name: "k" } };
    },
    headers: async () => ADMIN,
  },
  "POST /api/v1/calls/events": {
    request: async () => ({
      path: "/api/v1/calls/events",
      body: { events: [{ id: "e-1", callId: "call_missing", status: "completed" }] },
    }),
    headers: async (raw) => ({
      "X-Bulkcall-Signature": await signatureHeader(dialerSecret, Math.floor(Date.now() / 1000), raw),
    }),
  },
};

/** Every POST, PUT and PATCH operation of the served document, as "METHOD /path/template". */
async function operationsWithBodies(): Promise<string[]> {
  const doc = (await call("GET", "/openapi.json")).json as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((m) => m === "post" || m === "put" || m === "patch")
      .map((m) => `${m.toUpperCase()} ${template}`),
  );
}

/** The body with `field`'s value replaced by the deep nesting, as text (no serializer recurses into it). */
function withDeepField(body: Record<string, unknown>, field: string): string {
  const marker = `__deep_${crypto.randomUUID()}__`;
  return JSON.stringify({ ...body, [field]: marker }).replace(JSON.stringify(marker), DEEP);
}

/** Why an answer falls short of a clean refusal, or undefined when it is one. */
function problemWith(r: { status: number; json: any; text: string }): string | undefined {
  if (r.status < 400 || r.status >= 500) return `status ${r.status}`;
  const bytes = utf8Length(r.text);
  if (bytes >= SMALL_ANSWER) return `an answer of ${bytes} bytes`;
  if (typeof r.json?.error?.code === "string") return undefined;
  // The bulk endpoint's and the suppressions' 400 when nothing was added carries their results
  // (the documented shape): every entry refused, each with its index and why.
  const errors = r.json?.results?.errors;
  if (
    Array.isArray(errors) &&
    errors.length === r.json.results.total &&
    errors.every((e) => Number.isInteger(e.index) && typeof e.message === "string")
  ) {
    return undefined;
  }
  return "no structured error";
}

let operations: string[] = [];
beforeAll(async () => {
  operations = await operationsWithBodies();
});

describe("hostile bodies on every route that reads one", () => {
  it("finds every such route a way in", () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const missing = operations.filter((op) => !FIXTURES[op] && !OTHER_REACHES[op]);
    expect(missing).toEqual([]);
  });

  it("refuses JSON nested 10,000 levels deep and a 2,000,000-character key: 4xx, structured, small", async () => {
    const t = await newTenant();
    const failures: string[] = [];
    for (const op of operations) {
      const reach: Reach = OTHER_REACHES[op] ?? (FIXTURES[op] as Reach);
      const owner = await reach.request(t);
      const method = op.split(" ")[0] as string;
      const body = (owner.body ?? {}) as Record<string, unknown>;
      const fields = Object.keys(body).length > 0 ? Object.keys(body) : ["data"];
      const variants: [string, string][] = [
        ...fields.map((f): [string, string] => [`${f} nested ${DEPTH} deep`, withDeepField(body, f)]),
        [`the body nested ${DEPTH} deep`, DEEP],
        ["a 2,000,000-character key", HUGE_KEY_BODY],
      ];
      for (const [what, raw] of variants) {
        const headers = {
          ...(reach.headers ? await reach.headers(raw) : t.auth),
          "Idempotency-Key": `hostile-${crypto.randomUUID()}`,
        };
        const r = await call(method, owner.path, raw, headers);
        const problem = problemWith(r);
        if (problem) failures.push(`${op}, ${what}: ${problem}: ${r.text.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it("judges a record nested almost a million levels deep on its own, fingerprinted for its Idempotency-Key", async () => {
    const t = await newTenant();
    // Just under MAX_JSON_CONTAINERS (the body holds three more objects and arrays).
    const levels = MAX_JSON_CONTAINERS - 10;
    const body = `{"campaignId":"emi","records":[${JSON.stringify(loanRecord(1))},{"loan_id":"LN-2","x":${"[".repeat(levels)}${"]".repeat(levels)}}]}`;
    const headers = { ...t.auth, "Idempotency-Key": `deep-${crypto.randomUUID()}` };
    const first = await call("POST", "/api/v1/customers/add/bulk", body, headers);
    expect(first.status, first.text.slice(0, 300)).toBe(207);
    expect(first.json.results.errors).toEqual([
      {
        index: 1,
        key: "LN-2",
        code: "invalid_record",
        message: expect.stringMatching(/^Record failed validation: /),
        fields: expect.arrayContaining([
          { field: "x", message: "must be a string, number, boolean or null" },
        ]),
      },
    ]);
    const stored = await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth);
    expect(stored.json.data.map((c: { loan_id: string }) => c.loan_id)).toEqual(["LN-000001"]);
    // The same body again is the same request: its answer is replayed.
    const again = await call("POST", "/api/v1/customers/add/bulk", body, headers);
    expect(again.status).toBe(207);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.importId).toBe(first.json.importId);
  });

  it("refuses a body of more than MAX_JSON_CONTAINERS objects and arrays (413, nothing stored), and counts none inside strings", async () => {
    const t = await newTenant();
    const valid = JSON.stringify(loanRecord(1));
    const bombs = {
      "an array of empty objects": `[{}${",{}".repeat(MAX_JSON_CONTAINERS)}]`,
      "nesting past the limit": `${"[".repeat(MAX_JSON_CONTAINERS + 1)}${"]".repeat(MAX_JSON_CONTAINERS + 1)}`,
    };
    for (const [name, value] of Object.entries(bombs)) {
      const body = `{"campaignId":"emi","records":[${valid},{"loan_id":"LN-2","x":${value}}]}`;
      const r = await call("POST", "/api/v1/customers/add/bulk", body, t.auth);
      expect(r.status, name).toBe(413);
      expect(r.json.error.code).toBe("payload_too_large");
      expect(r.json.error.details).toEqual([
        { path: "body", message: `more than ${MAX_JSON_CONTAINERS} objects and arrays` },
      ]);
      expect(r.text.length).toBeLessThan(SMALL_ANSWER);
    }
    const none = await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth);
    expect(none.json.data).toEqual([]);

    // The same characters inside strings are text: 11 records of 100,000 "[" and "{" each (over the
    // limit counted blindly) are judged one by one, and the valid record is stored.
    const texts = Array.from({ length: 11 }, (_, i) =>
      JSON.stringify({ ...loanRecord(100 + i), note: "[{".repeat(50_000) }),
    );
    const body = `{"campaignId":"emi","records":[${valid},${texts.join(",")}]}`;
    const judged = await call("POST", "/api/v1/customers/add/bulk", body, t.auth);
    expect(judged.status, judged.text.slice(0, 300)).toBe(207);
    expect(judged.json.results).toMatchObject({ total: 12, successful: 1, invalid: 11 });
    const stored = await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth);
    expect(stored.json.data.map((c: { loan_id: string }) => c.loan_id)).toEqual(["LN-000001"]);
  }, 120_000);

  it("names the unknown key clipped, and the fields the route takes", async () => {
    const t = await newTenant();
    const r = await call(
      "PATCH",
      "/api/v1/campaigns/emi",
      `{"name":"Renamed",${HUGE_KEY_BODY.slice(1)}`,
      t.auth,
    );
    expect(r.status).toBe(400);
    // The key is named, clipped like every path; the message lists the fields the route takes.
    expect(r.json.error.details).toEqual([
      {
        path: `${"k".repeat(150)}…`,
        message:
          "has a field it does not take; its fields are name, timezone, defaultCountry, callingWindow, workflow, agentId, dispositionId, retry, contactPolicy",
      },
    ]);
    expect(utf8Length(r.text)).toBeLessThan(SMALL_ANSWER);
    // Nothing was changed.
    expect((await call("GET", "/api/v1/campaigns/emi", undefined, t.auth)).json.name).toBe("emi");
  });

  it("clips what a domain error repeats of a key: an initiation filter's variable name", async () => {
    const t = await newTenant();
    const name = "v".repeat(2_000_000);
    const r = await call(
      "POST",
      "/api/v1/initiate/emi/calls",
      { agentId: "agent-1", dispositionId: "disp-1", filters: { custom: { [name]: 1 } } },
      t.auth,
    );
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("validation_error");
    expect(utf8Length(r.text)).toBeLessThan(SMALL_ANSWER);
    expect(r.json.error.details[0].path).toBe(`filters.custom.${"v".repeat(150 - 15)}…`);
  });

  it("refuses a body on a route that takes none, and does nothing", async () => {
    const t = await newTenant();
    const hook = await call(
      "POST",
      "/api/v1/webhooks",
      { url: "http://127.0.0.1:9/hook", events: [] },
      t.auth,
    );
    const secretOf = () =>
      env.DB.prepare("SELECT secret FROM webhooks WHERE id = ?").bind(hook.json.id).first<string>("secret");
    const before = await secretOf();
    const path = `/api/v1/webhooks/${hook.json.id}/rotate-secret`;
    const refused = await call("POST", path, { secret: "mine" }, t.auth);
    expect(refused.status).toBe(400);
    expect(refused.json.error.details).toEqual([{ path: "body", message: "must be empty" }]);
    expect(await secretOf()).toBe(before);
    // No body, or {} as some HTTP clients always send: rotated.
    expect((await call("POST", path, {}, t.auth)).status).toBe(200);
    expect(await secretOf()).not.toBe(before);
  });
});
