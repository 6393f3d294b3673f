// The dialing policy end to end through the runtime: bulk requests hand customers to the real CALLS
// queue, the Worker's own consumer places them through the `log` dialer, outcomes come back as
// signed events, and retries travel as delayed messages on the same queue. The clock is the real
// one, so the campaigns call around the clock (windowOpenNow) and the dialer reports each outcome as having
// happened long enough ago that the retry interval and the gap have passed: the retry is due at once.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signatureHeader } from "../src/domain/calls/signature";
import type { AppEnv } from "../src/env";
import { CALL_CONFIG, callsOf, createCampaign, progressOf, until, windowOpenNow } from "./calls-fixtures";
import { call, loanRecord, newTenant } from "./helpers";

const secret = (env as unknown as AppEnv).DIALER_SECRET as string;
const MINUTE = 60_000;

/** callId -> the attempts the log dialer logged for it (the consumer runs in this isolate). */
function watchLogDialer() {
  const dialled = new Map<string, number>();
  const original = console.log;
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    const line = String(args[0]);
    if (line.startsWith('{"event":"calls_dispatched"')) {
      for (const id of (JSON.parse(line) as { callIds: string[] }).callIds) {
        dialled.set(id, (dialled.get(id) ?? 0) + 1);
      }
      return;
    }
    original(...args);
  });
  return dialled;
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function report(events: Record<string, unknown>[]) {
  const raw = JSON.stringify({ events });
  const r = await call("POST", "/api/v1/calls/events", raw, {
    "X-Bulkcall-Signature": await signatureHeader(secret, Math.floor(Date.now() / 1000), raw),
  });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

async function bulk(auth: Record<string, string>, campaignId: string, records: unknown[]) {
  const r = await call(
    "POST",
    "/api/v1/customers/add/bulk",
    { campaignId, records, initiateCall: true, callConfig: CALL_CONFIG },
    auth,
  );
  expect(r.status, r.text).toBe(201);
  return r.json.importId as string;
}

async function detail(auth: Record<string, string>, callId: string) {
  const r = await call("GET", `/api/v1/calls/${callId}`, undefined, auth);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** Waits for the import's calls to leave `queued` (consumed, whatever the verdict). */
function settled(importId: string, auth: Record<string, string>) {
  return until(
    "the import's calls to be judged",
    () => progressOf(importId, auth),
    (p) => p.calls.queued === 0 && p.calls.requested > 0,
  );
}

describe("the dialing policy through the real queue", () => {
  it("no_answer is retried through a delayed message, after the interval, up to maxAttempts, and each attempt is logged", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "retry",
      ...windowOpenNow(),
      retry: { maxAttempts: 3, intervalsMinutes: [5], on: ["no_answer"] },
    });
    const importId = await bulk(t.auth, "retry", [loanRecord(1)]);
    await settled(importId, t.auth);
    const [c] = await callsOf("retry", t.auth);

    for (const attempt of [1, 2, 3]) {
      await until(
        `attempt ${attempt} to be dispatched`,
        () => detail(t.auth, c.callId),
        (d) => d.status === "dispatched" && d.attempts.length === attempt,
      );
      // Ended 40 minutes ago: the 5-minute interval and the 30-minute gap are behind us.
      await report([
        {
          id: `na-${attempt}`,
          callId: c.callId,
          attempt,
          status: "failed",
          reason: "no_answer",
          occurredAt: ago(40 * MINUTE),
        },
      ]);
    }
    const d = await until(
      "the call to fail for good",
      () => detail(t.auth, c.callId),
      (x) => x.status === "failed",
    );
    expect(d.reason).toBe("no_answer");
    expect(dialled.get(c.callId)).toBe(3);
    expect(d.attempts.map((a: any) => [a.attempt, a.outcome, a.reason])).toEqual([
      [1, "failed", "no_answer"],
      [2, "failed", "no_answer"],
      [3, "failed", "no_answer"],
    ]);
    // Each retry was scheduled for the end of the previous attempt plus the interval, and began then or later.
    const scheduled = d.decisions.filter((x: any) => x.decision === "retry_scheduled");
    expect(scheduled).toHaveLength(2);
    for (const [i, s] of scheduled.entries()) {
      const ended = Date.parse(d.attempts[i].endedAt);
      expect(Date.parse(s.notBefore)).toBe(ended + 5 * MINUTE);
      expect(Date.parse(d.attempts[i + 1].startedAt)).toBeGreaterThanOrEqual(Date.parse(s.notBefore));
    }
    expect(d.decisions.map((x: any) => x.decision)).toEqual([
      "dispatched",
      "retry_scheduled",
      "dispatched",
      "retry_scheduled",
      "dispatched",
      "failed",
    ]);
  }, 60_000);

  it("a cap of 3 a day holds across two campaigns, for one phone and for one loan", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await createCampaign(t.auth, {
      id: "a",
      ...windowOpenNow(),
      retry: { maxAttempts: 5, intervalsMinutes: [5], on: ["no_answer"] },
    });
    await createCampaign(t.auth, { id: "b", ...windowOpenNow() });

    // One phone: four borrowers on it, alternating campaigns, each answered.
    const phone = "9810000501";
    const byPhone: string[] = [];
    for (const [i, campaign] of ["a", "b", "a", "b"].entries()) {
      const importId = await bulk(t.auth, campaign, [loanRecord(100 + i, { phone_number: phone })]);
      await settled(importId, t.auth);
      const c = (await callsOf(campaign, t.auth)).at(-1);
      byPhone.push(c.callId);
      if (c.status === "dispatched") {
        await report([{ id: `p-${i}`, callId: c.callId, status: "completed", occurredAt: ago(40 * MINUTE) }]);
      }
    }
    const fourth = await detail(t.auth, byPhone[3]!);
    expect(fourth).toMatchObject({ status: "delayed", reason: "phone_daily_cap" });
    expect(byPhone.slice(0, 3).map((id) => dialled.get(id))).toEqual([1, 1, 1]);
    expect(dialled.has(byPhone[3]!)).toBe(false);

    // One loan on three numbers: two attempts in "a" (a retry), one in "b"; the next retry waits.
    const loan = { loan_id: "LN-E2E-SHARED" };
    const inA = await bulk(t.auth, "a", [loanRecord(200, { ...loan, phone_number: "9810000601" })]);
    await settled(inA, t.auth);
    const a = (await callsOf("a", t.auth)).find((x) => x.loan_id === loan.loan_id);
    await report([
      { id: "l-1", callId: a.callId, status: "failed", reason: "no_answer", occurredAt: ago(40 * MINUTE) },
    ]);
    await until(
      "the retry",
      () => detail(t.auth, a.callId),
      (d) => d.attempts.length === 2 && d.status === "dispatched",
    );
    const inB = await bulk(t.auth, "b", [loanRecord(201, { ...loan, phone_number: "9810000602" })]);
    await settled(inB, t.auth);
    const b = (await callsOf("b", t.auth)).find((x) => x.loan_id === loan.loan_id);
    expect(b.status).toBe("dispatched");
    await report([
      {
        id: "l-2",
        callId: a.callId,
        attempt: 2,
        status: "failed",
        reason: "no_answer",
        occurredAt: ago(40 * MINUTE),
      },
    ]);
    const held = await until(
      "the third retry to be judged",
      () => detail(t.auth, a.callId),
      (d) => d.reason === "loan_daily_cap",
    );
    expect(held).toMatchObject({ status: "delayed", reason: "loan_daily_cap" });
    expect(dialled.get(a.callId)).toBe(2);
  }, 60_000);

  it("two bulk requests for one number at once: the cap lets exactly one call through", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await call("PATCH", "/api/v1/organization", { contactPolicy: { maxPerDay: 1 } }, t.auth);
    await createCampaign(t.auth, { id: "x", ...windowOpenNow() });
    await createCampaign(t.auth, { id: "y", ...windowOpenNow() });
    const phone = "9810000701";
    const [ix, iy] = await Promise.all([
      bulk(t.auth, "x", [loanRecord(1, { phone_number: phone })]),
      bulk(t.auth, "y", [loanRecord(2, { phone_number: phone })]),
    ]);
    await Promise.all([settled(ix, t.auth), settled(iy, t.auth)]);
    const rows = [...(await callsOf("x", t.auth)), ...(await callsOf("y", t.auth))];
    expect(rows.map((r) => r.status).sort()).toEqual(["delayed", "dispatched"]);
    expect(rows.find((r) => r.status === "delayed").reason).toBe("phone_daily_cap");
    expect(dialled.size).toBe(1);
  }, 60_000);

  it("co-borrowers sharing a phone are never dialled within the gap", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await createCampaign(t.auth, { id: "home", ...windowOpenNow() });
    const phone = "9810000801";
    const importId = await bulk(t.auth, "home", [
      loanRecord(1, { phone_number: phone }),
      loanRecord(2, { phone_number: phone }),
    ]);
    await settled(importId, t.auth);
    const [first, second] = await callsOf("home", t.auth);
    expect(first.status).toBe("dispatched");
    expect(second).toMatchObject({ status: "delayed", reason: "phone_line_gap" });
    const started = Date.parse((await detail(t.auth, first.callId)).attempts[0].startedAt);
    // Unreported, the first holds the line for an hour.
    expect(Date.parse(second.notBefore)).toBeGreaterThanOrEqual(started + 60 * MINUTE);
    expect([...dialled.keys()]).toEqual([first.callId]);
  }, 60_000);

  it("pausing mid-import stops dispatch, and resuming finishes it, each customer once", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    await createCampaign(t.auth, { id: "big", ...windowOpenNow() });
    const importId = await bulk(
      t.auth,
      "big",
      Array.from({ length: 1050 }, (_, i) => loanRecord(i)),
    );
    const paused = await call("POST", `/api/v1/imports/${importId}/pause`, undefined, t.auth);
    expect(paused.status, paused.text).toBe(200);
    const held = await settled(importId, t.auth);
    const before = dialled.size;
    expect(held.calls.dispatched + (held.calls.delayedBy.paused ?? 0)).toBe(1050);
    await new Promise((r) => setTimeout(r, 1500));
    expect(dialled.size).toBe(before);
    expect((await progressOf(importId, t.auth)).dialing).toMatchObject({
      status: "paused",
      pausedBy: "import",
    });

    const resumed = await call("POST", `/api/v1/imports/${importId}/resume`, undefined, t.auth);
    expect(resumed.status, resumed.text).toBe(200);
    const done = await until(
      "every call dispatched",
      () => progressOf(importId, t.auth),
      (p) => p.calls.dispatched === 1050,
    );
    expect(done.calls).toMatchObject({ delayed: 0, queued: 0 });
    expect(dialled.size).toBe(1050);
    expect([...dialled.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it("cancel ends every waiting call; a blackout date holds calls like a closed window", async () => {
    const dialled = watchLogDialer();
    const t = await newTenant();
    const { timezone, callingWindow } = windowOpenNow();
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
    await createCampaign(t.auth, {
      id: "holiday",
      timezone,
      callingWindow: { ...callingWindow, blackoutDates: [today] },
    });
    const importId = await bulk(t.auth, "holiday", [loanRecord(1), loanRecord(2)]);
    const held = await settled(importId, t.auth);
    expect(held.calls).toMatchObject({ delayed: 2, delayedBy: { blackout_date: 2 } });

    const cancelled = await call("POST", `/api/v1/imports/${importId}/cancel`, undefined, t.auth);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.calls).toMatchObject({ requested: 2, cancelled: 2, delayed: 0 });
    expect((await call("POST", `/api/v1/imports/${importId}/resume`, undefined, t.auth)).status).toBe(409);
    expect(dialled.size).toBe(0);
  }, 60_000);
});
