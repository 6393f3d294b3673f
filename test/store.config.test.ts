// Store selection as the Worker sees it: a LIBSQL_URL the Worker cannot use fails the request with
// the contract's JSON error and a log line naming the setting, and never falls back to the D1
// binding (where the API key used below is valid).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import type { AppEnv } from "../src/env";
import { newTenant } from "./helpers";

const app = createApp();
let auth: Record<string, string>;

beforeAll(async () => {
  ({ auth } = await newTenant());
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function listCampaigns(settings: Partial<AppEnv>) {
  const errors: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    errors.push(String(line));
  });
  const res = await app.fetch(
    new Request("http://bulkcall.test/api/v1/campaigns", { headers: auth }),
    { ...env, ...settings } as AppEnv,
    createExecutionContext(),
  );
  return { status: res.status, body: (await res.json()) as any, logs: errors.join("\n") };
}

describe("store selection", () => {
  it("uses the D1 binding when no libSQL setting is present", async () => {
    const r = await listCampaigns({});
    expect(r.status).toBe(200);
    expect(r.body.data.map((c: { id: string }) => c.id)).toEqual(["edi", "emi", "lead"]);
  });

  it.each([
    ["a file: URL", { LIBSQL_URL: "file:local.db" }, /LIBSQL_URL is a local database \(file:\).*cannot open/],
    ["a :memory: URL", { LIBSQL_URL: ":memory:" }, /LIBSQL_URL is a local database \(:memory:\)/],
    ["an unsupported scheme", { LIBSQL_URL: "wss://db.example.com" }, /LIBSQL_URL uses wss:/],
    ["a value that is not a URL", { LIBSQL_URL: "db.example.com" }, /LIBSQL_URL is not a valid URL/],
    ["an empty value", { LIBSQL_URL: " " }, /LIBSQL_URL is set but empty/],
    [
      "a token without a URL",
      { LIBSQL_AUTH_TOKEN: "t0k3n" },
      /LIBSQL_AUTH_TOKEN is set but LIBSQL_URL is not/,
    ],
  ])("refuses %s with a 500 and a log line naming the setting", async (_, settings, message) => {
    const r = await listCampaigns(settings);
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ success: false, error: { code: "internal_error" } });
    expect(JSON.stringify(r.body)).not.toMatch(/stack|at Object|LIBSQL/);
    expect(r.logs).toMatch(/StoreConfigError/);
    expect(r.logs).toMatch(message);
  });

  it("fails fast with a 503 and a log line naming LIBSQL_URL when the server cannot be reached", async () => {
    const started = Date.now();
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    const r = await listCampaigns({ LIBSQL_URL: "http://127.0.0.1:9", LIBSQL_AUTH_TOKEN: "t0k3n" });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ success: false, error: { code: "service_unavailable" } });
    expect(r.logs).toMatch(/"event":"store_unavailable","setting":"LIBSQL_URL"/);
    expect(r.logs).toMatch(/libSQL server at LIBSQL_URL \(http:\/\/127\.0\.0\.1:9\) could not be reached/);
    expect(r.logs).not.toMatch(/t0k3n/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
