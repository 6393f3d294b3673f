// The product's main documented use case, on the dev server it documents: 10,000 customers with
// initiateCall through `npm run dev` (the local queue, consumer and `log` dialer), after which the
// server must still answer. The `log` dialer once wrote a line per call; the local runtime forwards
// each line over a loopback request, and after about 10,000 of them the process ran out of file
// descriptors and stopped answering.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY, type DevServer, startDevServer } from "./dev-server";

let server: DevServer;
const auth = { Authorization: `Bearer ${DEV_API_KEY}`, "Content-Type": "application/json" };

beforeAll(async () => {
  server = await startDevServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

describe("npm run dev under its main use case", () => {
  it(
    "dials 10,000 customers through the local queue and still answers afterwards",
    async () => {
      // A calling window open at any hour, so the run does not wait for the morning.
      const campaign = await api("POST", "/api/v1/campaigns", {
        id: "load",
        name: "load",
        campaignType: "emi",
        timezone: "UTC",
        callingWindow: { start: "00:00", end: "23:59" },
      });
      expect(campaign.status, campaign.text).toBe(201);
      const records = Array.from({ length: 10_000 }, (_, i) => ({
        loan_id: `LOAD-${i}`,
        first_name: "Asha",
        phone_number: `98${String(10_000_000 + i).slice(-8)}`,
        emi_amount: 1200,
        emi_due_date: "2026-12-05",
      }));
      const bulk = await api("POST", "/api/v1/customers/add/bulk", {
        campaignId: "load",
        records,
        initiateCall: true,
        callConfig: { agentId: "demo-agent", dispositionId: "demo-disposition" },
      });
      expect(bulk.status, bulk.text.slice(0, 300)).toBe(201);

      const deadline = Date.now() + 15 * 60_000;
      let progress: any;
      for (;;) {
        progress = (await api("GET", `/api/v1/imports/${bulk.json.importId}`)).json;
        if (progress.calls.dispatched === 10_000 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 2_000));
      }
      expect(progress.calls).toMatchObject({ requested: 10_000, dispatched: 10_000, queued: 0, failed: 0 });

      // Still serving: a health check and a new request both answer.
      const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(30_000) });
      expect(health.status).toBe(200);
      const again = await api("GET", "/api/v1/campaigns/load");
      expect(again.status).toBe(200);
      // One log line per request to the dialer (up to 100 calls each), not one per call: the lines
      // account for every call, in at most a few hundred lines.
      const dispatched = server
        .output()
        .split("\n")
        .filter((l) => l.includes('"event":"calls_dispatched"'))
        .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { calls: number; campaignId: string })
        .filter((l) => l.campaignId === "load");
      expect(dispatched.reduce((sum, l) => sum + l.calls, 0)).toBe(10_000);
      expect(dispatched.length).toBeGreaterThanOrEqual(100);
      expect(dispatched.length).toBeLessThan(1_000);
    },
    20 * 60_000,
  );
});
