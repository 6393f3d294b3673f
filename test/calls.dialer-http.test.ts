// The http dialer adapter against a real HTTP server on loopback (test/dialer-server.ts) that
// verifies every request's signature with the shared secret.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createHttpDialer } from "../src/adapters/dialers/http-dialer";
import { createDialer } from "../src/deps";
import { systemClock } from "../src/domain/ports/clock";
import type { DialBatch } from "../src/domain/ports/dialer";
import type { AppEnv } from "../src/env";
import {
  callsOf,
  callTenant,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  workerWith,
} from "./calls-fixtures";
import { loanRecord } from "./helpers";

const appEnv = env as unknown as AppEnv;
const base = appEnv.DIALER_URL as string;
const secret = appEnv.DIALER_SECRET as string;
let keys = 0;
const key = () => `k${Date.now()}-${++keys}`;

async function received(k: string): Promise<{ signatureValid: boolean; status: number; body: any }[]> {
  return (await fetch(`${base}/received/${k}`)).json();
}

function sampleBatch(n = 2): DialBatch {
  return {
    organizationId: "org_1",
    importId: "imp_1",
    campaign: { id: "emi", campaignType: "emi", timezone: "Asia/Kolkata" },
    agentId: "agent-1",
    dispositionId: "disp-1",
    calls: Array.from({ length: n }, (_, i) => ({
      callId: `call_${i}`,
      attempt: 1,
      customer: {
        id: i,
        loan_id: `LN-${i}`,
        lead_id: null,
        first_name: "Asha",
        last_name: null,
        phone_number: "+919810000000",
        loan_amount: null,
        emi_amount: 12500,
        loan_period: null,
        current_emi: null,
        emi_due_date: "2026-12-05",
        payment_status: "pending",
        language: "hindi",
        lead_date: null,
        variables: { branch: "Pune" },
      },
    })),
  };
}

const dialerAt = (path: string, withSecret = secret) =>
  createHttpDialer({ url: `${base}${path}`, secret: withSecret, clock: systemClock });
const MONDAY_10_IST = "2026-11-23T10:00:00+05:30";

describe("http dialer adapter", () => {
  it("POSTs the batch as signed JSON; a 2xx takes it, with the dialer's own call ids", async () => {
    const k = key();
    const outcome = await dialerAt(`/ok/${k}`).dispatch(sampleBatch());
    expect(outcome).toEqual({
      kind: "accepted",
      providerCallIds: new Map([
        ["call_0", "prov-call_0"],
        ["call_1", "prov-call_1"],
      ]),
      rejected: new Map(),
    });
    const [request] = await received(k);
    expect(request).toMatchObject({ signatureValid: true, status: 200 });
    expect(request!.body).toEqual(JSON.parse(JSON.stringify(sampleBatch())));
  });

  it("a signature made with another secret is refused by the dialer, and the calls fail for good", async () => {
    const k = key();
    const outcome = await dialerAt(`/ok/${k}`, "not-the-secret").dispatch(sampleBatch());
    expect(outcome).toEqual({
      kind: "rejected",
      reason: 'dialer answered HTTP 401: {"error":"signature does not verify"}',
    });
    expect(await received(k)).toMatchObject([{ signatureValid: false }]);
  });

  it("429 is retried no sooner than Retry-After; a dialer that does not answer is retried", async () => {
    expect(await dialerAt(`/rate-limited/${key()}`).dispatch(sampleBatch())).toEqual({
      kind: "retry",
      reason: 'dialer answered HTTP 429: {"error":"slow down"}',
      retryAfterSeconds: 120,
    });
    const k = key();
    const silent = createHttpDialer({
      url: `${base}/no-answer/${k}`,
      secret,
      clock: systemClock,
      timeoutMs: 300,
    });
    expect(await silent.dispatch(sampleBatch())).toMatchObject({
      kind: "retry",
      reason: /no answer from the dialer/,
    });
    expect(await received(k)).toMatchObject([{ signatureValid: true }]);
  });

  it("a 2xx may refuse single calls", async () => {
    const outcome = await dialerAt(`/reject-first/${key()}`).dispatch(sampleBatch());
    expect(outcome).toMatchObject({
      kind: "accepted",
      rejected: new Map([["call_0", "dialer rejected the call: invalid_number"]]),
    });
  });

  it("DIALER=http without a URL or secret holds the calls back instead of losing them", async () => {
    const dialer = createDialer({ ...appEnv, DIALER: "http", DIALER_URL: undefined });
    expect(await dialer.dispatch(sampleBatch())).toEqual({
      kind: "retry",
      reason: "DIALER=http needs DIALER_URL and the DIALER_SECRET secret",
    });
  });
});

describe("CALLS consumer with the http dialer", () => {
  const httpDialer = (path: string) =>
    createDialer({ ...appEnv, DIALER: "http", DIALER_URL: `${base}${path}` });

  it("503, then success on the queue's retry: the same calls, each taken once", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 150 }, (_, i) => loanRecord(i)),
    );
    const k = key();
    const worker = workerWith({
      clock: pinnedClock(MONDAY_10_IST),
      dialer: httpDialer(`/fail-once-503/${k}`),
    });

    const first = await deliver(worker, "bulkcall-calls", seeded.messages);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 30 }]);
    let progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 150, queued: 150, dispatched: 0 });

    const second = await deliver(worker, "bulkcall-calls", seeded.messages, 2);
    expect(second.explicitAcks).toHaveLength(1);
    progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 150, queued: 0, dispatched: 150 });

    const requests = await received(k);
    expect(requests.map((r) => [r.status, r.signatureValid, r.body.calls.length])).toEqual([
      [503, true, 100],
      [200, true, 100],
      [200, true, 50],
    ]);
    const ids = (r: (typeof requests)[number]) => r.body.calls.map((c: any) => c.callId);
    expect(ids(requests[1]!)).toEqual(ids(requests[0]!));
    // The same attempt again: the dialer de-duplicates on (callId, attempt).
    expect(requests[1]!.body.calls.map((c: any) => c.attempt)).toEqual(requests[0]!.body.calls.map(() => 1));
    const calls = await callsOf("ist", t.auth);
    expect(calls.every((c) => c.providerCallId === `prov-${c.callId}`)).toBe(true);
  });

  it("429 waits at least as long as the dialer asked", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const worker = workerWith({
      clock: pinnedClock(MONDAY_10_IST),
      dialer: httpDialer(`/rate-limited/${key()}`),
    });
    const result = await deliver(worker, "bulkcall-calls", seeded.messages);
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 120 }]);
  });

  it("400 fails those calls with the dialer's reason and finishes the batch", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 3 }, (_, i) => loanRecord(i)),
    );
    const worker = workerWith({
      clock: pinnedClock(MONDAY_10_IST),
      dialer: httpDialer(`/bad-request/${key()}`),
    });
    const result = await deliver(worker, "bulkcall-calls", seeded.messages);
    expect(result.explicitAcks).toHaveLength(1);
    const calls = await callsOf("ist", t.auth);
    expect(calls.map((c) => [c.status, c.reason])).toEqual(
      Array(3).fill(["failed", 'dialer answered HTTP 400: {"error":"unknown agent"}']),
    );
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 3, failed: 3, queued: 0, errors: [] });
  });
});
