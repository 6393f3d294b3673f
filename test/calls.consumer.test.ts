// The CALLS consumer driven directly: the test plays the queue (createMessageBatch / getQueueResult),
// pins the clock, and counts what the dialer accepted.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer, maskPhone } from "../src/adapters/dialers/log-dialer";
import { createDeps } from "../src/deps";
import type { Dialer } from "../src/domain/ports/dialer";
import {
  callsOf,
  callTenant,
  capturingQueue,
  countingDialer,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord } from "./helpers";

const CALLS = "bulkcall-calls";
const quietLogDialer = () => createLogDialer(() => {});
const MONDAY_10_IST = "2026-11-23T10:00:00+05:30";

/** Calls fail to arrive at the dialer: it throws on its nth request, before the dialer sees it. */
function crashingOn(n: number, inner: Dialer, afterHandOff = false): Dialer {
  let requests = 0;
  return {
    name: "crashing",
    async dispatch(batch) {
      requests++;
      if (requests === n && !afterHandOff) throw new Error("worker evicted");
      const outcome = await inner.dispatch(batch);
      if (requests === n) throw new Error("worker evicted after the dialer answered");
      return outcome;
    },
  };
}

function expectAddsUp(calls: any) {
  const skipped = Object.values(calls.skipped as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(
    calls.queued +
      calls.delayed +
      calls.dispatched +
      skipped +
      calls.failed +
      calls.completed +
      calls.cancelled,
  ).toBe(calls.requested);
}

describe("CALLS consumer", () => {
  it("dispatches the eligible customers, skips paid and suppressed ones with reasons, and acks", async () => {
    const t = await callTenant();
    const records = Array.from({ length: 10 }, (_, i) =>
      loanRecord(i, i === 2 ? { payment_status: "paid" } : i === 5 ? { payment_status: "Received" } : {}),
    );
    await call("POST", "/api/v1/suppressions", { phone_numbers: [records[7]!.phone_number] }, t.auth);
    const seeded = await seedCallImport(t.orgId, "ist", records);
    const counting = countingDialer(quietLogDialer());
    const worker = workerWith({ clock: pinnedClock(MONDAY_10_IST), dialer: counting.dialer });

    const result = await deliver(worker, CALLS, seeded.messages);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);

    expect(counting.accepted.size).toBe(7);
    expect([...counting.accepted.values()].every((n) => n === 1)).toBe(true);
    const request = counting.requests[0]!;
    expect(request).toMatchObject({ campaign: { id: "ist" }, agentId: "agent-1", dispositionId: "disp-1" });
    expect(request.calls[0]!.customer).toMatchObject({ first_name: "Asha", phone_number: "+919810000000" });

    const calls = await callsOf("ist", t.auth);
    const byLoan = Object.fromEntries(calls.map((c) => [c.loan_id, c]));
    expect(byLoan["LN-000002"]).toMatchObject({ status: "skipped", reason: "paid" });
    expect(byLoan["LN-000005"]).toMatchObject({ status: "skipped", reason: "paid" });
    expect(byLoan["LN-000007"]).toMatchObject({ status: "skipped", reason: "suppressed" });
    expect(calls.filter((c) => c.status === "dispatched")).toHaveLength(7);

    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({
      requested: 10,
      dispatched: 7,
      skipped: { paid: 2, suppressed: 1 },
    });
    expectAddsUp(progress.calls);
  });

  it("a redelivered message dials nobody again, whether it arrives later or at the same time", async () => {
    const t = await callTenant();
    const counting = countingDialer(quietLogDialer());
    const worker = workerWith({ clock: pinnedClock(MONDAY_10_IST), dialer: counting.dialer });

    const later = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 30 }, (_, i) => loanRecord(i)),
    );
    await deliver(worker, CALLS, later.messages);
    const again = await deliver(worker, CALLS, later.messages, 2);
    expect(again.explicitAcks).toHaveLength(1);

    // Two deliveries of one message racing each other: the atomic claim lets one of them dial.
    const racing = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 730 }, (_, i) => loanRecord(100 + i)),
    );
    await Promise.all([deliver(worker, CALLS, racing.messages), deliver(worker, CALLS, racing.messages)]);

    expect(counting.accepted.size).toBe(30 + 730);
    expect([...counting.accepted.values()].every((n) => n === 1)).toBe(true);
    const calls = await callsOf("ist", t.auth);
    expect(calls.filter((c) => c.status === "dispatched")).toHaveLength(760);
    expect(calls.every((c) => c.attempts === 1)).toBe(true);
  });

  it("after a crash half-way, the retry dials only those not dialled yet, each once", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 250 }, (_, i) => loanRecord(i)),
    );
    const counting = countingDialer(quietLogDialer());
    const clock = pinnedClock(MONDAY_10_IST);
    // Requests go out 100 calls at a time; the worker dies while handing over the second hundred.
    const crashing = workerWith({ clock, dialer: crashingOn(2, counting.dialer) });

    const first = await deliver(crashing, CALLS, seeded.messages);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 30 }]);
    expect(counting.accepted.size).toBe(100);
    let progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 250, dispatched: 100, queued: 150 });

    // The retry comes while the dead attempt's claim is still fresh: it dials the untouched 50 and
    // asks to be retried once the claim has expired, without touching the claimed hundred.
    const healthy = workerWith({ clock, dialer: counting.dialer });
    const second = await deliver(healthy, CALLS, seeded.messages, 2);
    expect(second.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 300 }]);
    expect(counting.accepted.size).toBe(150);

    clock.advance(6 * 60 * 1000);
    const third = await deliver(healthy, CALLS, seeded.messages, 3);
    expect(third.explicitAcks).toHaveLength(1);
    expect(counting.accepted.size).toBe(250);
    expect([...counting.accepted.values()].every((n) => n === 1)).toBe(true);

    progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 250, dispatched: 250, queued: 0 });
    // The hundred taken over were handed over as the attempt they were on: still their first.
    const attempts = (await callsOf("ist", t.auth)).map((c) => c.attempts);
    expect(attempts.every((a) => a === 1)).toBe(true);
  });

  it("a hand-off whose answer was lost is repeated with the same callIds and attempt, for the dialer to de-duplicate", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 20 }, (_, i) => loanRecord(i)),
    );
    const counting = countingDialer(quietLogDialer());
    const clock = pinnedClock(MONDAY_10_IST);

    const first = await deliver(
      workerWith({ clock, dialer: crashingOn(1, counting.dialer, true) }),
      CALLS,
      seeded.messages,
    );
    expect(first.retryMessages).toHaveLength(1);
    clock.advance(6 * 60 * 1000);
    await deliver(workerWith({ clock, dialer: counting.dialer }), CALLS, seeded.messages, 2);

    const [sent, resent] = counting.requests;
    expect(resent!.calls.map((c) => c.callId)).toEqual(sent!.calls.map((c) => c.callId));
    // (callId, attempt) is the dialer's idempotency key: a repeated hand-off keeps both.
    expect(resent!.calls.map((c) => [c.callId, c.attempt])).toEqual(sent!.calls.map((c) => [c.callId, 1]));
    const calls = await callsOf("ist", t.auth);
    expect(calls.every((c) => c.status === "dispatched")).toBe(true);
  });

  it("outside the calling window the batch is delayed to the next opening, re-delayed up to 12 h at a time, never dropped", async () => {
    const t = await callTenant(); // "ist": 08:00-19:00 Asia/Kolkata, Monday to Saturday
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 5 }, (_, i) => loanRecord(i)),
    );
    const counting = countingDialer(quietLogDialer());
    const clock = pinnedClock("2026-11-28T19:30:00+05:30"); // Saturday evening; Sunday is not allowed
    const queue = capturingQueue();
    const worker = workerWith({ clock, dialer: counting.dialer, callsQueue: queue });

    const steps: [string, number][] = [];
    let message = seeded.messages[0]!;
    for (let i = 0; i < 5 && counting.accepted.size === 0; i++) {
      const result = await deliver(worker, CALLS, [message], 1);
      expect(result.explicitAcks).toHaveLength(1);
      expect(result.retryMessages).toEqual([]);
      if (counting.accepted.size > 0) break;
      const next = queue.sent.at(-1)!;
      expect(next.body).toEqual(message);
      steps.push([new Date(clock.now()).toISOString(), next.delaySeconds!]);
      message = next.body;
      clock.advance(next.delaySeconds! * 1000);
    }
    // Saturday 19:30 -> Monday 08:00 is 36.5 h: two full 12 h delays, then the remaining 12.5 h is
    // capped once more, and the last 30 minutes land exactly on the opening.
    expect(steps).toEqual([
      ["2026-11-28T14:00:00.000Z", 43200],
      ["2026-11-29T02:00:00.000Z", 43200],
      ["2026-11-29T14:00:00.000Z", 43200],
      ["2026-11-30T02:00:00.000Z", 1800],
    ]);
    expect(new Date(clock.now()).toISOString()).toBe("2026-11-30T02:30:00.000Z"); // Monday 08:00 IST
    expect(counting.accepted.size).toBe(5);
  });

  it("a batch that runs into the closing time stops there: the rest waits for the next opening", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 250 }, (_, i) => loanRecord(i)),
    );
    const clock = pinnedClock("2026-11-23T18:45:00+05:30");
    const counting = countingDialer(quietLogDialer());
    // Each request to the dialer takes ten minutes.
    const slow: Dialer = {
      name: "slow",
      async dispatch(batch) {
        clock.advance(10 * 60 * 1000);
        return counting.dialer.dispatch(batch);
      },
    };
    const queue = capturingQueue();
    await deliver(workerWith({ clock, dialer: slow, callsQueue: queue }), CALLS, seeded.messages);
    expect(counting.accepted.size).toBe(200);
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ dispatched: 200, delayed: 50 });
    // Stopped at 19:05; the window opens at 08:00 the next morning, 12 h 55 min later, so the
    // message comes back after the 12 h maximum and is delayed once more then.
    const delayed = await callsOf("ist", t.auth, "delayed");
    expect(delayed[0].notBefore).toBe("2026-11-24T02:30:00.000Z");
    expect(queue.sent).toEqual([{ body: seeded.messages[0], delaySeconds: 43200 }]);
  });

  it("a delayed call shows when it will be made, and is re-judged at the opening", async () => {
    const t = await callTenant();
    const records = Array.from({ length: 4 }, (_, i) => loanRecord(i));
    const seeded = await seedCallImport(t.orgId, "ist", records);
    const clock = pinnedClock("2026-11-23T06:00:00+05:30"); // Monday, before 08:00
    const queue = capturingQueue();
    const counting = countingDialer(quietLogDialer());
    const worker = workerWith({ clock, dialer: counting.dialer, callsQueue: queue });

    await deliver(worker, CALLS, seeded.messages);
    expect(queue.sent).toEqual([{ body: seeded.messages[0], delaySeconds: 7200 }]);
    const delayed = await callsOf("ist", t.auth, "delayed");
    expect(delayed).toHaveLength(4);
    expect(delayed[0]).toMatchObject({
      reason: "outside_calling_window",
      notBefore: "2026-11-23T02:30:00.000Z",
    });
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 4, delayed: 4, queued: 0, dispatched: 0 });
    expectAddsUp(progress.calls);

    // Meanwhile one customer asks not to be called.
    await call("POST", "/api/v1/suppressions", { phone_numbers: [records[1]!.phone_number] }, t.auth);
    clock.advance(7200 * 1000);
    await deliver(worker, CALLS, [queue.sent[0]!.body]);
    const calls = await callsOf("ist", t.auth);
    expect(calls.map((c) => [c.loan_id, c.status, c.reason])).toEqual([
      ["LN-000000", "dispatched", null],
      ["LN-000001", "skipped", "suppressed"],
      ["LN-000002", "dispatched", null],
      ["LN-000003", "dispatched", null],
    ]);
  });

  it("a dead-lettered batch fails its waiting calls with the last error, visible in the import's progress", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 520 }, (_, i) => loanRecord(i)),
    );
    const clock = pinnedClock(MONDAY_10_IST);
    // Batch 0 goes through; batch 1 meets a dialer that never takes anything.
    await deliver(workerWith({ clock, dialer: quietLogDialer() }), CALLS, [seeded.messages[0]!]);
    const down = createDeps(env, { clock, dialer: unavailable() });
    const retried = await deliver(workerWith({ clock, dialer: down.dialer }), CALLS, [seeded.messages[1]!]);
    expect(retried.retryMessages).toHaveLength(1);

    const dlq = await deliver(workerWith({ clock }), "bulkcall-calls-dlq", [seeded.messages[1]!], 1);
    expect(dlq.explicitAcks).toHaveLength(1);

    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 520, dispatched: 500, failed: 20, queued: 0 });
    expect(progress.calls.errors).toEqual([
      { batch: 1, customers: 20, message: "dead_lettered: dialer answered HTTP 503: maintenance" },
    ]);
    expectAddsUp(progress.calls);
    const failed = await callsOf("ist", t.auth, "failed");
    expect(failed).toHaveLength(20);
    expect(failed[0].reason).toBe("dead_lettered: dialer answered HTTP 503: maintenance");

    // A late copy of the message finds the batch finished and dials nobody.
    const counting = countingDialer(quietLogDialer());
    await deliver(workerWith({ clock, dialer: counting.dialer }), CALLS, [seeded.messages[1]!], 2);
    expect(counting.requests).toHaveLength(0);
  });

  it("the log dialer writes one line per dialer request, with counts and a few masked numbers", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 250 }, (_, i) => loanRecord(i)),
    );
    const lines: { event: string; fields: Record<string, any> }[] = [];
    const dialer = createLogDialer((event, fields) => lines.push({ event, fields }));
    await deliver(workerWith({ clock: pinnedClock(MONDAY_10_IST), dialer }), CALLS, seeded.messages);

    // 250 calls go out 100 at a time: three lines, not 250.
    expect(lines.map((l) => [l.event, l.fields.calls])).toEqual([
      ["calls_dispatched", 100],
      ["calls_dispatched", 100],
      ["calls_dispatched", 50],
    ]);
    expect(lines[0]!.fields).toMatchObject({
      dialer: "log",
      importId: seeded.importId,
      campaignId: "ist",
      agentId: "agent-1",
      firstAttempts: 100,
      retries: 0,
      phones: ["+919810000000", "+919810000001", "+919810000002"].map(maskPhone),
    });
    const logged = lines.flatMap((l) => l.fields.callIds as string[]);
    expect(new Set(logged)).toEqual(new Set((await callsOf("ist", t.auth)).map((c) => c.callId)));
  });

  it("a message that is not a dispatch reference is acknowledged and changes nothing", async () => {
    const counting = countingDialer(quietLogDialer());
    const worker = workerWith({ clock: pinnedClock(MONDAY_10_IST), dialer: counting.dialer });
    const result = await deliver(worker, CALLS, [{ hello: "world" } as any]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(counting.requests).toHaveLength(0);
  });
});

function unavailable(): Dialer {
  return {
    name: "down",
    dispatch: async () => ({ kind: "retry", reason: "dialer answered HTTP 503: maintenance" }),
  };
}
