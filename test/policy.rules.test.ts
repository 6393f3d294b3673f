// The dialing policy through the Worker, on a pinned clock: the test plays the queue (the messages
// the code sends, at the moment they are due), the dialer (the log dialer, counted) and the dialer's
// signed outcome events. Every expectation reads back what is stored, through the API.
import { describe, expect, it } from "vitest";
import type { Deps } from "../src/deps";
import { callsOf, callTenant, createCampaign, progressOf, seedCallImport } from "./calls-fixtures";
import { call, loanRecord } from "./helpers";
import { type PinnedWorld, pinnedWorld } from "./policy-fixtures";

const MONDAY_10_IST = "2026-11-23T10:00:00+05:30";
const IST_WEEKDAYS = {
  timezone: "Asia/Kolkata",
  callingWindow: { start: "08:00", end: "19:00", days: ["mon", "tue", "wed", "thu", "fri", "sat"] },
};
const iso = (s: string) => new Date(Date.parse(s)).toISOString();

async function detail(world: PinnedWorld, auth: Record<string, string>, callId: string) {
  const r = await world.api("GET", `/api/v1/calls/${callId}`, auth);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/** The decision log as [decision, reason, at, notBefore] rows, times in ISO. */
function log(d: any) {
  return d.decisions.map((x: any) => [x.decision, x.reason, x.at, x.notBefore]);
}

describe("retries of unanswered calls", () => {
  it("no_answer is tried again after each interval, inside the window, with the same callId and a higher attempt, up to maxAttempts", async () => {
    const t = await callTenant(); // "ist": default retry policy, 3 attempts after 60 then 240 minutes
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.deliver(seeded.messages);
    const [c] = await callsOf("ist", t.auth);

    world.clock.set("2026-11-23T10:02:00+05:30");
    await world.report([{ id: "e1", callId: c.callId, attempt: 1, status: "failed", reason: "no_answer" }]);
    let d = await detail(world, t.auth, c.callId);
    expect(d).toMatchObject({
      status: "delayed",
      reason: "retry_after_no_answer",
      notBefore: iso("2026-11-23T11:02:00+05:30"),
    });
    // One message for the retry, due at the end of the interval.
    expect(world.queue.sent.map((m) => [m.body, m.delaySeconds])).toEqual([
      [{ kind: "due", importId: seeded.importId, callIds: [c.callId] }, 3600],
    ]);
    // A copy of the message that arrives early dials nobody: the interval is a floor.
    await world.deliver(world.queue.sent.map((m) => m.body));
    expect(world.dialer.requests).toHaveLength(1);

    await world.at("2026-11-23T11:02:00+05:30");
    world.clock.set("2026-11-23T11:03:00+05:30");
    await world.report([{ id: "e2", callId: c.callId, attempt: 2, status: "failed", reason: "no_answer" }]);
    // The second interval is 240 minutes: 15:03.
    expect(await detail(world, t.auth, c.callId)).toMatchObject({
      notBefore: iso("2026-11-23T15:03:00+05:30"),
    });
    await world.at("2026-11-23T15:03:00+05:30");
    world.clock.set("2026-11-23T15:04:00+05:30");
    await world.report([{ id: "e3", callId: c.callId, attempt: 3, status: "failed", reason: "no_answer" }]);

    // Three attempts, then failed for good.
    expect(world.dialer.requests.map((r) => r.calls.map((x) => [x.callId, x.attempt]))).toEqual([
      [[c.callId, 1]],
      [[c.callId, 2]],
      [[c.callId, 3]],
    ]);
    d = await detail(world, t.auth, c.callId);
    expect(d).toMatchObject({ status: "failed", reason: "no_answer", notBefore: null });
    expect(d.attempts).toEqual([
      {
        attempt: 1,
        startedAt: iso(MONDAY_10_IST),
        endedAt: iso("2026-11-23T10:02:00+05:30"),
        outcome: "failed",
        reason: "no_answer",
        disposition: null,
      },
      {
        attempt: 2,
        startedAt: iso("2026-11-23T11:02:00+05:30"),
        endedAt: iso("2026-11-23T11:03:00+05:30"),
        outcome: "failed",
        reason: "no_answer",
        disposition: null,
      },
      {
        attempt: 3,
        startedAt: iso("2026-11-23T15:03:00+05:30"),
        endedAt: iso("2026-11-23T15:04:00+05:30"),
        outcome: "failed",
        reason: "no_answer",
        disposition: null,
      },
    ]);
    expect(log(d).map((r: any[]) => r.slice(0, 2))).toEqual([
      ["dispatched", null],
      ["retry_scheduled", "retry_after_no_answer"],
      ["dispatched", null],
      ["retry_scheduled", "retry_after_no_answer"],
      ["dispatched", null],
      ["failed", "no_answer"],
    ]);
    expect((await progressOf(seeded.importId, t.auth)).calls).toMatchObject({ failed: 1, dispatched: 0 });
  });

  it("a retry due after the window closes waits for the next opening; answered, busy-when-not-listed and invalid numbers are never retried", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, {
      id: "busy-off",
      ...IST_WEEKDAYS,
      retry: { maxAttempts: 2, intervalsMinutes: [60], on: ["no_answer"] },
    });
    const late = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const other = await seedCallImport(t.orgId, "busy-off", [loanRecord(2), loanRecord(3), loanRecord(4)]);
    const world = pinnedWorld("2026-11-23T18:20:00+05:30");
    await world.deliver([...late.messages, ...other.messages]);
    const [c] = await callsOf("ist", t.auth);
    const [busy, invalid, answered] = await callsOf("busy-off", t.auth);

    world.clock.set("2026-11-23T18:30:00+05:30");
    await world.report([
      { id: "l1", callId: c.callId, status: "failed", reason: "no_answer" },
      { id: "b1", callId: busy.callId, status: "failed", reason: "busy" },
      { id: "i1", callId: invalid.callId, status: "failed", reason: "invalid_number" },
      { id: "a1", callId: answered.callId, status: "completed", disposition: "promise_to_pay" },
    ]);
    // 18:30 + 60 minutes is 19:30, after closing: the next opening is 08:00 on Tuesday.
    expect(await detail(world, t.auth, c.callId)).toMatchObject({
      status: "delayed",
      notBefore: iso("2026-11-24T08:00:00+05:30"),
    });
    expect((await callsOf("busy-off", t.auth)).map((x) => [x.status, x.reason])).toEqual([
      ["failed", "busy"],
      ["failed", "invalid_number"],
      ["completed", null],
    ]);
    // A late event about attempt 1 after the retry began changes nothing.
    await world.at("2026-11-24T08:00:00+05:30");
    await world.report([{ id: "l1-late", callId: c.callId, attempt: 1, status: "completed" }]);
    expect(await detail(world, t.auth, c.callId)).toMatchObject({ status: "dispatched" });
    expect(world.dialer.requests.at(-1)!.calls).toEqual([
      expect.objectContaining({ callId: c.callId, attempt: 2 }),
    ]);
  });
});

describe("contact limits per number and per loan, across campaigns", () => {
  it("a cap of 3 a day holds for one phone across two campaigns; the 4th waits for the next day's window", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, { id: "second", ...IST_WEEKDAYS });
    const phone = "9810000001";
    const world = pinnedWorld(MONDAY_10_IST);
    const ids: string[] = [];
    for (const [i, campaign] of ["ist", "second", "ist", "second"].entries()) {
      const seeded = await seedCallImport(t.orgId, campaign, [loanRecord(10 + i, { phone_number: phone })]);
      await world.deliver(seeded.messages);
      const rows = await callsOf(campaign, t.auth);
      const id = rows.at(-1).callId;
      ids.push(id);
      // Each answered within a minute; the next one comes after the 30-minute gap.
      world.clock.advance(60_000);
      if (rows.at(-1).status === "dispatched")
        await world.report([{ id: `e${i}`, callId: id, status: "completed" }]);
      world.clock.advance(31 * 60_000);
    }
    expect(world.dialer.requests).toHaveLength(3);
    const fourth = await detail(world, t.auth, ids[3]!);
    expect(fourth).toMatchObject({
      status: "delayed",
      reason: "phone_daily_cap",
      notBefore: iso("2026-11-24T08:00:00+05:30"),
    });
    // Tuesday morning it goes.
    await world.at("2026-11-24T08:00:00+05:30");
    expect(world.dialer.requests).toHaveLength(4);
    expect((await detail(world, t.auth, ids[3]!)).status).toBe("dispatched");
  });

  it("a cap of 3 a day holds for one loan across two campaigns, whatever number it is called on", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, {
      id: "retrying",
      ...IST_WEEKDAYS,
      retry: { maxAttempts: 5, intervalsMinutes: [5], on: ["no_answer"] },
    });
    const shared = { loan_id: "LN-SHARED" };
    const a = await seedCallImport(t.orgId, "retrying", [
      loanRecord(1, { ...shared, phone_number: "9810000011" }),
    ]);
    const b = await seedCallImport(t.orgId, "ist", [
      loanRecord(2, { ...shared, phone_number: "9810000012" }),
    ]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.deliver(a.messages); // 10:00, loan attempt 1
    const [ca] = await callsOf("retrying", t.auth);
    world.clock.set("2026-11-23T10:01:00+05:30");
    await world.report([{ id: "a1", callId: ca.callId, status: "failed", reason: "no_answer" }]);
    world.clock.set("2026-11-23T10:02:00+05:30");
    await world.deliver(b.messages); // 10:02, loan attempt 2, another number
    const [cb] = await callsOf("ist", t.auth);
    await world.report([{ id: "b1", callId: cb.callId, status: "completed" }]);
    // The retry's 5 minutes are up at 10:06, but the number's gap holds it until 10:31.
    await world.at("2026-11-23T10:06:00+05:30");
    expect(await detail(world, t.auth, ca.callId)).toMatchObject({
      status: "delayed",
      reason: "phone_line_gap",
      notBefore: iso("2026-11-23T10:31:00+05:30"),
    });
    await world.at("2026-11-23T10:31:00+05:30"); // loan attempt 3
    world.clock.set("2026-11-23T10:32:00+05:30");
    await world.report([{ id: "a2", callId: ca.callId, attempt: 2, status: "failed", reason: "no_answer" }]);
    await world.at("2026-11-23T11:02:00+05:30");
    // The number has had 2 attempts today, the loan 3: the loan's cap holds it until Tuesday.
    expect(await detail(world, t.auth, ca.callId)).toMatchObject({
      status: "delayed",
      reason: "loan_daily_cap",
      notBefore: iso("2026-11-24T08:00:00+05:30"),
    });
    expect(world.dialer.requests.map((r) => r.calls[0]!.customer.loan_id)).toEqual([
      "LN-SHARED",
      "LN-SHARED",
      "LN-SHARED",
    ]);
  });

  it("two consumers claiming one number at the same moment cannot both pass the cap", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, { id: "second", ...IST_WEEKDAYS });
    const org = await call("PATCH", "/api/v1/organization", { contactPolicy: { maxPerDay: 1 } }, t.auth);
    expect(org.status, org.text).toBe(200);
    const phone = "9810000021";
    const first = await seedCallImport(t.orgId, "ist", [loanRecord(1, { phone_number: phone })]);
    const second = await seedCallImport(t.orgId, "second", [loanRecord(2, { phone_number: phone })]);

    // Both consumers judge the number free (no attempt yet) and only then claim: the claims are
    // held until both have arrived, so only the claim statement itself can tell them apart.
    let arrived = 0;
    let release: () => void = () => {};
    const bothThere = new Promise<void>((resolve) => {
      release = resolve;
    });
    const world = pinnedWorld(MONDAY_10_IST, {
      wrap: (deps: Deps) => ({
        ...deps,
        calls: {
          ...deps.calls,
          claim: async (...args: Parameters<Deps["calls"]["claim"]>) => {
            if (arrived < 2) {
              arrived++;
              if (arrived === 2) release();
              await bothThere;
            }
            return deps.calls.claim(...args);
          },
        },
      }),
    });
    await Promise.all([world.deliver(first.messages), world.deliver(second.messages)]);

    expect(arrived).toBe(2);
    expect(world.dialer.accepted.size).toBe(1);
    const rows = [...(await callsOf("ist", t.auth)), ...(await callsOf("second", t.auth))];
    expect(rows.map((r) => r.status).sort()).toEqual(["delayed", "dispatched"]);
    expect(rows.find((r) => r.status === "delayed")).toMatchObject({
      reason: "phone_daily_cap",
      notBefore: iso("2026-11-24T08:00:00+05:30"),
    });
  });
});

describe("one line at a time per number", () => {
  it("co-borrowers sharing a phone are never rung together, and the second waits the gap after the first ends", async () => {
    const t = await callTenant();
    const phone = "9810000031";
    const seeded = await seedCallImport(t.orgId, "ist", [
      loanRecord(1, { phone_number: phone }),
      loanRecord(2, { phone_number: phone }),
    ]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.deliver(seeded.messages);
    const [first, second] = await callsOf("ist", t.auth);
    expect(world.dialer.accepted.size).toBe(1);
    // Unreported, the first is treated as on the line for an hour.
    expect(second).toMatchObject({
      status: "delayed",
      reason: "phone_line_gap",
      notBefore: iso("2026-11-23T11:00:00+05:30"),
    });

    // A third borrower on the number, in another import, after the first ended at 10:10: the gap
    // runs from that end.
    world.clock.set("2026-11-23T10:10:00+05:30");
    await world.report([{ id: "f1", callId: first.callId, status: "completed" }]);
    world.clock.set("2026-11-23T10:20:00+05:30");
    const later = await seedCallImport(t.orgId, "ist", [loanRecord(3, { phone_number: phone })]);
    await world.deliver(later.messages);
    const third = (await callsOf("ist", t.auth)).at(-1);
    expect(third).toMatchObject({ status: "delayed", notBefore: iso("2026-11-23T10:40:00+05:30") });

    await world.at("2026-11-23T10:40:00+05:30");
    expect((await detail(world, t.auth, third.callId)).status).toBe("dispatched");
    // At 11:00 the second's moment comes, but the third (unreported since 10:40) now holds the line.
    await world.at("2026-11-23T11:00:00+05:30");
    expect(await detail(world, t.auth, second.callId)).toMatchObject({
      status: "delayed",
      reason: "phone_line_gap",
      notBefore: iso("2026-11-23T11:40:00+05:30"),
    });
    await world.at("2026-11-23T11:40:00+05:30");
    const starts = await Promise.all(
      [first, third, second].map(async (c) => (await detail(world, t.auth, c.callId)).attempts[0].startedAt),
    );
    expect(starts).toEqual([
      iso(MONDAY_10_IST),
      iso("2026-11-23T10:40:00+05:30"),
      iso("2026-11-23T11:40:00+05:30"),
    ]);
    expect(world.dialer.requests.map((r) => r.calls.length)).toEqual([1, 1, 1]);
  });
});

describe("pause, resume, cancel", () => {
  it("pausing mid-import stops the hand-off at once; resuming finishes it, each customer once", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 250 }, (_, i) => loanRecord(i)),
    );
    let world: PinnedWorld | undefined;
    let paused: number | undefined;
    // The pause arrives while the first hundred are with the dialer.
    const world_ = pinnedWorld(MONDAY_10_IST, {
      dialer: {
        name: "pausing",
        async dispatch() {
          if (paused === undefined) {
            const r = await world!.api("POST", `/api/v1/imports/${seeded.importId}/pause`, t.auth);
            paused = r.status;
          }
          return { kind: "accepted", providerCallIds: new Map(), rejected: new Map() };
        },
      },
    });
    world = world_;
    await world.deliver(seeded.messages);
    expect(paused).toBe(200);
    // The hundred in flight went (live calls are not hung up); nothing was claimed after the pause.
    expect(world.dialer.requests.map((r) => r.calls.length)).toEqual([100]);
    // The rest are held where they are, and no message waits for them: resuming sends them.
    let progress = await progressOf(seeded.importId, t.auth);
    expect(progress.dialing).toMatchObject({ status: "paused", pausedBy: "import" });
    expect(progress.calls).toMatchObject({ dispatched: 100, delayed: 150, delayedBy: { paused: 150 } });
    expect(world.queue.sent).toEqual([]);
    // A message that comes while paused (a redelivery) changes nothing.
    await world.deliver(seeded.messages, 2);
    expect(world.dialer.requests).toHaveLength(1);
    expect(world.queue.sent).toEqual([]);
    // Pausing again is harmless.
    expect((await world.api("POST", `/api/v1/imports/${seeded.importId}/pause`, t.auth)).status).toBe(200);

    const resumed = await world.api("POST", `/api/v1/imports/${seeded.importId}/resume`, t.auth);
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.json.dialing.status).toBe("active");
    await world.deliverDue();
    expect(world.dialer.accepted.size).toBe(250);
    expect([...world.dialer.accepted.values()].every((n) => n === 1)).toBe(true);
    progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 250, dispatched: 250, delayed: 0, queued: 0 });
  });

  it("resume continues inside the window: paused calls resumed at night wait for the morning", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(t.orgId, "ist", [loanRecord(1), loanRecord(2)]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.api("POST", `/api/v1/campaigns/ist/pause`, t.auth);
    await world.deliver(seeded.messages);
    expect((await progressOf(seeded.importId, t.auth)).dialing).toMatchObject({
      status: "paused",
      pausedBy: "campaign",
    });
    world.clock.set("2026-11-23T20:00:00+05:30");
    const campaign = await world.api("POST", `/api/v1/campaigns/ist/resume`, t.auth);
    expect(campaign.json.dialing).toMatchObject({ state: "active", pausedAt: null });
    await world.deliverDue();
    expect(world.dialer.requests).toHaveLength(0);
    expect((await callsOf("ist", t.auth)).map((c) => [c.status, c.reason, c.notBefore])).toEqual([
      ["delayed", "outside_calling_window", iso("2026-11-24T08:00:00+05:30")],
      ["delayed", "outside_calling_window", iso("2026-11-24T08:00:00+05:30")],
    ]);
    await world.at("2026-11-24T08:00:00+05:30");
    expect(world.dialer.accepted.size).toBe(2);
  });

  it("cancel: every waiting call becomes cancelled and counted, runs end, and the import can no longer be resumed", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 520 }, (_, i) => loanRecord(i)),
    );
    const world = pinnedWorld("2026-11-22T10:00:00+05:30"); // Sunday: not a calling day for "ist"
    await world.deliver([seeded.messages[0]!]); // batch 0 waits for Monday; batch 1 was never consumed
    const cancelled = await world.api("POST", `/api/v1/imports/${seeded.importId}/cancel`, t.auth);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.dialing).toMatchObject({
      status: "cancelled",
      cancelledAt: iso("2026-11-22T10:00:00+05:30"),
    });
    expect(cancelled.json.calls).toMatchObject({ requested: 520, cancelled: 520, delayed: 0, queued: 0 });

    await world.at("2026-11-23T08:00:00+05:30");
    await world.deliver(seeded.messages);
    expect(world.dialer.requests).toHaveLength(0);
    expect((await callsOf("ist", t.auth, "cancelled")).length).toBe(520);

    for (const action of ["resume", "pause", "cancel"]) {
      const r = await world.api("POST", `/api/v1/imports/${seeded.importId}/${action}`, t.auth);
      expect([action, r.status, r.json.error.code]).toEqual([action, 409, "conflict"]);
    }
    const stranger = await callTenant();
    for (const action of ["pause", "resume", "cancel"]) {
      const r = await world.api("POST", `/api/v1/imports/${seeded.importId}/${action}`, stranger.auth);
      expect(r.status).toBe(404);
    }
  });

  it("a finished import is 409; cancelling a campaign cancels its unfinished imports and ends their workflow runs", async () => {
    const t = await callTenant();
    const done = await seedCallImport(t.orgId, "ist", [loanRecord(1)]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.deliver(done.messages);
    const [c] = await callsOf("ist", t.auth);
    await world.report([{ id: "d1", callId: c.callId, status: "completed" }]);
    const finished = await world.api("POST", `/api/v1/imports/${done.importId}/pause`, t.auth);
    expect([finished.status, finished.json.error.code]).toEqual([409, "conflict"]);
    expect((await progressOf(done.importId, t.auth)).dialing.status).toBe("finished");

    world.clock.set("2026-11-23T20:00:00+05:30");
    const waiting = await seedCallImport(t.orgId, "ist", [loanRecord(2), loanRecord(3)]);
    await world.deliver(waiting.messages);
    const runs = await seedCallImport(t.orgId, "ist", [loanRecord(4), loanRecord(5)], { useWorkflow: true });
    const r = await world.api("POST", "/api/v1/campaigns/ist/cancel", t.auth);
    expect(r.status, r.text).toBe(200);
    expect(r.json.cancelled).toEqual({ imports: 2, calls: 2, runs: 2 });
    expect(r.json.dialing).toMatchObject({
      state: "active",
      calls: { queued: 0, delayed: 0, dispatching: 0 },
    });
    expect((await progressOf(waiting.importId, t.auth)).calls).toMatchObject({ cancelled: 2 });
    const wf = await progressOf(runs.importId, t.auth);
    expect(wf.dialing.status).toBe("cancelled");
    expect(wf.workflows).toMatchObject({ requested: 2, completed: 2, running: 0 });
    // The finished import was left alone, and the campaign still takes new work.
    expect((await progressOf(done.importId, t.auth)).dialing.status).toBe("finished");
    const next = await seedCallImport(t.orgId, "ist", [loanRecord(6)]);
    await world.at("2026-11-24T08:00:00+05:30");
    await world.deliver(next.messages);
    expect((await progressOf(next.importId, t.auth)).calls).toMatchObject({ dispatched: 1 });
  });
});

describe("blackout dates", () => {
  it("calls wait past the campaign's and the organization's blackout dates, like outside the window", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, {
      id: "holidays",
      ...IST_WEEKDAYS,
      callingWindow: { ...IST_WEEKDAYS.callingWindow, blackoutDates: ["2026-11-23"] },
    });
    const seeded = await seedCallImport(t.orgId, "holidays", [loanRecord(1)]);
    const world = pinnedWorld(MONDAY_10_IST);
    await world.deliver(seeded.messages);
    let [c] = await callsOf("holidays", t.auth);
    expect([c.status, c.reason, c.notBefore]).toEqual([
      "delayed",
      "blackout_date",
      iso("2026-11-24T08:00:00+05:30"),
    ]);

    // Meanwhile the organization blacks out Tuesday too: the call waits until Wednesday.
    const org = await world.api("PATCH", "/api/v1/organization", t.auth, {
      callingWindow: { blackoutDates: ["2026-11-24"] },
    });
    expect(org.json.callingWindow).toEqual({ blackoutDates: ["2026-11-24"] });
    await world.at("2026-11-24T08:00:00+05:30");
    [c] = await callsOf("holidays", t.auth);
    expect([c.status, c.reason, c.notBefore]).toEqual([
      "delayed",
      "blackout_date",
      iso("2026-11-25T08:00:00+05:30"),
    ]);
    await world.at("2026-11-25T08:00:00+05:30");
    expect(world.dialer.accepted.size).toBe(1);
  });
});

describe("the decision log", () => {
  it("tells the whole story of a call: window, pause, resume, dispatch, retries, a cap, the answer", async () => {
    const t = await callTenant();
    await createCampaign(t.auth, {
      id: "story",
      ...IST_WEEKDAYS,
      retry: { maxAttempts: 3, intervalsMinutes: [60], on: ["no_answer", "busy"] },
      contactPolicy: { maxPerDay: 2 },
    });
    const seeded = await seedCallImport(t.orgId, "story", [loanRecord(1)]);
    const world = pinnedWorld("2026-11-22T10:00:00+05:30"); // Sunday
    await world.deliver(seeded.messages);
    world.clock.set("2026-11-22T11:00:00+05:30");
    await world.api("POST", `/api/v1/imports/${seeded.importId}/pause`, t.auth);
    await world.at("2026-11-23T08:00:00+05:30");
    world.clock.set("2026-11-23T09:00:00+05:30");
    await world.api("POST", `/api/v1/imports/${seeded.importId}/resume`, t.auth);
    await world.deliverDue();
    const [c] = await callsOf("story", t.auth);
    world.clock.set("2026-11-23T09:05:00+05:30");
    await world.report([{ id: "s1", callId: c.callId, status: "failed", reason: "no_answer" }]);
    await world.at("2026-11-23T10:05:00+05:30");
    world.clock.set("2026-11-23T10:06:00+05:30");
    await world.report([{ id: "s2", callId: c.callId, status: "failed", reason: "busy" }]);
    await world.at("2026-11-23T11:06:00+05:30"); // two attempts today already: the campaign allows 2
    await world.at("2026-11-24T08:00:00+05:30");
    world.clock.set("2026-11-24T08:03:00+05:30");
    await world.report([{ id: "s3", callId: c.callId, status: "completed", disposition: "promise_to_pay" }]);

    const d = await detail(world, t.auth, c.callId);
    expect(d).toMatchObject({
      callId: c.callId,
      campaignId: "story",
      customerKey: "LN-000001",
      loan_id: "LN-000001",
      phone_number: "+919810000001",
      status: "completed",
      disposition: "promise_to_pay",
      decisionsTruncated: false,
    });
    expect(log(d)).toEqual([
      [
        "delayed",
        "outside_calling_window",
        iso("2026-11-22T10:00:00+05:30"),
        iso("2026-11-23T08:00:00+05:30"),
      ],
      ["paused", "paused", iso("2026-11-23T08:00:00+05:30"), null],
      ["dispatched", null, iso("2026-11-23T09:00:00+05:30"), null],
      [
        "retry_scheduled",
        "retry_after_no_answer",
        iso("2026-11-23T09:05:00+05:30"),
        iso("2026-11-23T10:05:00+05:30"),
      ],
      ["dispatched", null, iso("2026-11-23T10:05:00+05:30"), null],
      [
        "retry_scheduled",
        "retry_after_busy",
        iso("2026-11-23T10:06:00+05:30"),
        iso("2026-11-23T11:06:00+05:30"),
      ],
      ["delayed", "phone_daily_cap", iso("2026-11-23T11:06:00+05:30"), iso("2026-11-24T08:00:00+05:30")],
      ["dispatched", null, iso("2026-11-24T08:00:00+05:30"), null],
      ["completed", null, iso("2026-11-24T08:03:00+05:30"), null],
    ]);
    expect(d.decisions.map((x: any) => x.attempt)).toEqual([0, 0, 1, 1, 2, 2, 2, 3, 3]);
    expect(d.attempts.map((a: any) => [a.attempt, a.outcome, a.reason])).toEqual([
      [1, "failed", "no_answer"],
      [2, "failed", "busy"],
      [3, "completed", null],
    ]);
    // The import's progress counts the same judgements.
    const progress = await progressOf(seeded.importId, t.auth);
    expect(progress.calls.decisions).toEqual(
      expect.arrayContaining([
        { decision: "dispatched", reason: null, count: 3 },
        { decision: "retry_scheduled", reason: "retry_after_no_answer", count: 1 },
        { decision: "delayed", reason: "phone_daily_cap", count: 1 },
        { decision: "paused", reason: "paused", count: 1 },
      ]),
    );
    // Another organization's call is not found.
    const stranger = await callTenant();
    expect((await world.api("GET", `/api/v1/calls/${c.callId}`, stranger.auth)).status).toBe(404);
  });
});
