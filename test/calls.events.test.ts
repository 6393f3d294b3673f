// POST /api/v1/calls/events: outcomes from the dialer, authenticated by their HMAC signature.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createApp } from "../src/app";
import { createDeps } from "../src/deps";
import { signatureHeader } from "../src/domain/calls/signature";
import type { Dialer } from "../src/domain/ports/dialer";
import type { AppEnv } from "../src/env";
import {
  callsOf,
  callTenant,
  countingDialer,
  deliver,
  pinnedClock,
  progressOf,
  seedCallImport,
  workerWith,
} from "./calls-fixtures";
import { call, loanRecord } from "./helpers";

const secret = (env as unknown as AppEnv).DIALER_SECRET as string;

async function postEvents(
  body: unknown,
  options: { secret?: string; at?: number; headers?: Record<string, string> } = {},
) {
  const raw = JSON.stringify(body);
  const t = Math.floor((options.at ?? Date.now()) / 1000);
  return call("POST", "/api/v1/calls/events", raw, {
    "X-Bulkcall-Signature": await signatureHeader(options.secret ?? secret, t, raw),
    ...options.headers,
  });
}

/** A tenant with three dispatched calls. */
async function dispatchedCalls() {
  const t = await callTenant();
  const seeded = await seedCallImport(
    t.orgId,
    "ist",
    Array.from({ length: 3 }, (_, i) => loanRecord(i)),
  );
  const worker = workerWith({
    clock: pinnedClock("2026-11-23T10:00:00+05:30"),
    dialer: createLogDialer(() => {}),
  });
  await deliver(worker, "bulkcall-calls", seeded.messages);
  const calls = await callsOf("ist", t.auth);
  return { t, importId: seeded.importId, callIds: calls.map((c) => c.callId as string) };
}

describe("POST /api/v1/calls/events", () => {
  it("sets each call's final status and disposition, and the import's progress follows", async () => {
    const { t, importId, callIds } = await dispatchedCalls();
    const r = await postEvents({
      events: [
        {
          id: "evt-1",
          callId: callIds[0],
          status: "completed",
          disposition: "promise_to_pay",
          occurredAt: "2026-11-23T10:05:00+05:30",
        },
        { id: "evt-2", callId: callIds[1], status: "failed", reason: "no_answer", providerCallId: "p-2" },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ received: 2, recorded: 2, duplicates: 0, unknownCalls: [] });

    // An unanswered call is not final: the campaign's default retry policy tries it again.
    const calls = await callsOf("ist", t.auth);
    expect(calls.map((c) => [c.status, c.reason, c.disposition])).toEqual([
      ["completed", null, "promise_to_pay"],
      ["delayed", "retry_after_no_answer", null],
      ["dispatched", null, null],
    ]);
    expect(calls[1].providerCallId).toBe("p-2");
    expect((await callsOf("ist", t.auth, "completed")).map((c) => c.callId)).toEqual([callIds[0]]);
    const progress = await progressOf(importId, t.auth);
    expect(progress.calls).toMatchObject({
      requested: 3,
      dispatched: 1,
      completed: 1,
      delayed: 1,
      delayedBy: { retry_after_no_answer: 1 },
    });
  });

  it("is idempotent on the event id, and the first final event of a call wins", async () => {
    const { t, callIds } = await dispatchedCalls();
    const first = { id: "evt-a", callId: callIds[0], status: "completed", disposition: "paid_already" };
    expect((await postEvents({ events: [first] })).json).toMatchObject({ recorded: 1, duplicates: 0 });

    // The same event again (even with other data), a later contradicting event, an unknown call.
    const again = await postEvents({
      events: [
        { ...first, disposition: "changed" },
        { id: "evt-b", callId: callIds[0], status: "failed", reason: "busy" },
        { id: "evt-c", callId: "call_doesnotexist", status: "completed" },
      ],
    });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({
      received: 3,
      recorded: 1,
      duplicates: 1,
      unknownCalls: ["call_doesnotexist"],
    });
    const [call0] = await callsOf("ist", t.auth);
    expect(call0).toMatchObject({ status: "completed", disposition: "paid_already", reason: null });
  });

  it("applies an outcome that arrives before the call is marked dispatched, and never sends that call again", async () => {
    const t = await callTenant();
    const seeded = await seedCallImport(
      t.orgId,
      "ist",
      Array.from({ length: 2 }, (_, i) => loanRecord(i)),
    );
    const clock = pinnedClock("2026-11-23T10:00:00+05:30");
    const counting = countingDialer(createLogDialer(() => {}));
    // The dialer takes the calls, but its answer is lost (a timeout): they go back to waiting.
    const lostAnswer: Dialer = {
      name: "lost-answer",
      async dispatch(batch) {
        await counting.dialer.dispatch(batch);
        return { kind: "retry", reason: "no answer from the dialer: timed out" };
      },
    };
    await deliver(workerWith({ clock, dialer: lostAnswer }), "bulkcall-calls", seeded.messages);
    const [a, b] = await callsOf("ist", t.auth);
    expect([a.status, b.status]).toEqual(["queued", "queued"]);

    // The dialer reports both calls: one answered, one unanswered (retried later, not re-sent now).
    const r = await postEvents({
      events: [
        { id: "early-1", callId: a.callId, status: "completed", disposition: "promise_to_pay" },
        { id: "early-2", callId: b.callId, status: "failed", reason: "no_answer" },
      ],
    });
    expect(r.json).toEqual({ received: 2, recorded: 2, duplicates: 0, unknownCalls: [] });
    const after = await callsOf("ist", t.auth);
    expect(after.map((c) => [c.status, c.reason, c.disposition])).toEqual([
      ["completed", null, "promise_to_pay"],
      ["delayed", "retry_after_no_answer", null],
    ]);

    // The queue's retry sends neither of them again.
    clock.advance(60 * 1000);
    await deliver(workerWith({ clock, dialer: counting.dialer }), "bulkcall-calls", seeded.messages, 2);
    expect(counting.requests).toHaveLength(1);
    expect((await callsOf("ist", t.auth))[0].status).toBe("completed");
  });

  it("counts event ids per organization: the same id for two organizations' calls is two events", async () => {
    const one = await dispatchedCalls();
    const two = await dispatchedCalls();
    const r = await postEvents({
      events: [
        { id: "evt-shared", callId: one.callIds[0], status: "completed" },
        { id: "evt-shared", callId: two.callIds[0], status: "completed" },
      ],
    });
    expect(r.json).toEqual({ received: 2, recorded: 2, duplicates: 0, unknownCalls: [] });
    expect((await callsOf("ist", one.t.auth))[0].status).toBe("completed");
    expect((await callsOf("ist", two.t.auth))[0].status).toBe("completed");
    // Within one organization the id is still a duplicate.
    const again = await postEvents({
      events: [{ id: "evt-shared", callId: one.callIds[1], status: "completed" }],
    });
    expect(again.json).toMatchObject({ recorded: 0, duplicates: 1 });
    expect((await callsOf("ist", one.t.auth))[1].status).toBe("dispatched");
  });

  it("needs a valid signature, not an API key", async () => {
    const { t, callIds } = await dispatchedCalls();
    const body = { events: [{ id: "evt-x", callId: callIds[0], status: "completed" }] };
    const raw = JSON.stringify(body);

    const unsigned = await call("POST", "/api/v1/calls/events", raw, t.auth);
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.error.code).toBe("unauthorized");
    expect((await postEvents(body, { secret: "wrong" })).status).toBe(401);
    expect((await postEvents(body, { at: Date.now() - 10 * 60 * 1000 })).status).toBe(401);
    const tampered = await call("POST", "/api/v1/calls/events", raw.replace("completed", "failed"), {
      "X-Bulkcall-Signature": await signatureHeader(secret, Math.floor(Date.now() / 1000), raw),
    });
    expect(tampered.status).toBe(401);
    expect(tampered.json.message).toMatch(/does not match/);

    const [still] = await callsOf("ist", t.auth);
    expect(still.status).toBe("dispatched");
    expect((await postEvents(body)).status).toBe(200);
  });

  it("checks the signature over the raw bytes before it parses them, and caps the body", async () => {
    const now = Math.floor(Date.now() / 1000);
    const send = (body: string, headers: Record<string, string> = {}) =>
      call("POST", "/api/v1/calls/events", body, headers);

    // Unsigned, or signed with another secret, invalid JSON is refused as unsigned, not as JSON.
    const unsigned = await send("{not json");
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.error.code).toBe("unauthorized");
    expect(unsigned.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    const forged = await send("{not json", {
      "X-Bulkcall-Signature": await signatureHeader("wrong", now, "{not json"),
    });
    expect(forged.status).toBe(401);
    expect(forged.json.message).toMatch(/does not match/);

    // 17.5 MB without a signature: 401 at once, whatever the body holds.
    const huge = `{"events":[${"x".repeat(17_500_000)}`;
    const unsignedHuge = await send(huge);
    expect(unsignedHuge.status).toBe(401);
    expect(unsignedHuge.json.message).toMatch(/missing X-Bulkcall-Signature/);

    // A well-formed header does not buy parsing either: past the cap the body is refused unread.
    const overCap = `{"events":[],"pad":"${"x".repeat(1_048_576)}"}`;
    const signedOverCap = await send(overCap, {
      "X-Bulkcall-Signature": await signatureHeader(secret, now, overCap),
    });
    expect(signedOverCap.status).toBe(413);
    expect(signedOverCap.json.error.code).toBe("payload_too_large");

    // Properly signed, the same invalid JSON is what it is: 400.
    const signedInvalid = await send("{not json", {
      "X-Bulkcall-Signature": await signatureHeader(secret, now, "{not json"),
    });
    expect(signedInvalid.status).toBe(400);
    expect(signedInvalid.json.error.code).toBe("invalid_json");
  });

  it("rejects a malformed body after the signature check, with the contract's error shape", async () => {
    const r = await postEvents({ events: [{ id: "e", callId: "c", status: "ringing" }] });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ success: false, error: { code: "validation_error" } });
    expect(r.json.error.details[0].path).toBe("events.0.status");
  });

  it("is off (404) on a deployment without DIALER_SECRET", async () => {
    const app = createApp({ deps: (e) => ({ ...createDeps(e), dialerSecret: undefined }) });
    const raw = JSON.stringify({ events: [{ id: "e", callId: "c", status: "completed" }] });
    const res = await app.fetch(
      new Request("http://bulkcall.test/api/v1/calls/events", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Bulkcall-Signature": await signatureHeader(secret, Math.floor(Date.now() / 1000), raw),
        },
        body: raw,
      }),
      env,
    );
    expect(res.status).toBe(404);
  });
});
