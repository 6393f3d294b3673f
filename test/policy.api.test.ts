// The dialing policy's settings through the API: the organization's contact limits and blackout
// dates, a campaign's retry policy, limits and blackout dates, their bounds, and what is stored.

import { describe, expect, it } from "vitest";
import { call, newTenant } from "./helpers";

async function campaign(auth: Record<string, string>, body: Record<string, unknown>) {
  return call("POST", "/api/v1/campaigns", { name: "policy", campaignType: "emi", ...body }, auth);
}

describe("GET / PATCH /api/v1/organization", () => {
  it("starts with the documented limits and no blackout dates, and keeps what a PATCH sets", async () => {
    const t = await newTenant();
    const first = await call("GET", "/api/v1/organization", undefined, t.auth);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      id: t.orgId,
      contactPolicy: { maxPerDay: 3, maxPer7Days: 7, minGapMinutes: 30 },
      callingWindow: { blackoutDates: [] },
    });

    const patched = await call(
      "PATCH",
      "/api/v1/organization",
      { contactPolicy: { maxPerDay: 2 }, callingWindow: { blackoutDates: ["2026-12-25", "2026-10-02"] } },
      t.auth,
    );
    expect(patched.status, patched.text).toBe(200);
    const read = await call("GET", "/api/v1/organization", undefined, t.auth);
    expect(read.json).toMatchObject({
      contactPolicy: { maxPerDay: 2, maxPer7Days: 7, minGapMinutes: 30 },
      callingWindow: { blackoutDates: ["2026-10-02", "2026-12-25"] },
    });
    // Another organization is untouched.
    const other = await newTenant();
    expect(
      (await call("GET", "/api/v1/organization", undefined, other.auth)).json.contactPolicy.maxPerDay,
    ).toBe(3);
  });

  it("refuses a limit outside its bounds with a 400 naming the field, and stores nothing", async () => {
    const t = await newTenant();
    const cases: [unknown, string][] = [
      [{ contactPolicy: { maxPerDay: 0 } }, "contactPolicy.maxPerDay"],
      [{ contactPolicy: { maxPerDay: 11 } }, "contactPolicy.maxPerDay"],
      [{ contactPolicy: { maxPer7Days: 51 } }, "contactPolicy.maxPer7Days"],
      [{ contactPolicy: { minGapMinutes: 4 } }, "contactPolicy.minGapMinutes"],
      [{ contactPolicy: { maxPerDay: 2.5 } }, "contactPolicy.maxPerDay"],
      [{ callingWindow: { blackoutDates: ["2026-02-30"] } }, "callingWindow.blackoutDates.0"],
      [{ callingWindow: { blackoutDates: ["2026-12-25", "2026-12-25"] } }, "callingWindow.blackoutDates"],
      [{ maxPerDay: 2 }, "maxPerDay"],
    ];
    for (const [body, path] of cases) {
      const r = await call("PATCH", "/api/v1/organization", body, t.auth);
      expect([r.status, r.json.error.code], JSON.stringify(body)).toEqual([400, "validation_error"]);
      expect(
        r.json.error.details.map((d: any) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const many = Array.from({ length: 101 }, (_, i) => dateAfter("2027-01-01", i));
    const tooMany = await call(
      "PATCH",
      "/api/v1/organization",
      { callingWindow: { blackoutDates: many } },
      t.auth,
    );
    expect(tooMany.status).toBe(400);
    expect((await call("GET", "/api/v1/organization", undefined, t.auth)).json).toMatchObject({
      contactPolicy: { maxPerDay: 3, maxPer7Days: 7, minGapMinutes: 30 },
      callingWindow: { blackoutDates: [] },
    });
  });
});

function dateAfter(start: string, days: number): string {
  return new Date(Date.parse(start) + days * 86_400_000).toISOString().slice(0, 10);
}

describe("a campaign's dialing policy", () => {
  it("is stored and read back: retry policy, own limits (tighter only), blackout dates, dialing state", async () => {
    const t = await newTenant();
    const created = await campaign(t.auth, {
      id: "tight",
      retry: { maxAttempts: 4, intervalsMinutes: [30, 120, 600], on: ["no_answer"] },
      contactPolicy: { maxPerDay: 2, minGapMinutes: 45 },
      callingWindow: { start: "09:00", end: "18:00", blackoutDates: ["2026-12-25"] },
    });
    expect(created.status, created.text).toBe(201);
    const read = await call("GET", "/api/v1/campaigns/tight", undefined, t.auth);
    expect(read.json).toMatchObject({
      retry: { maxAttempts: 4, intervalsMinutes: [30, 120, 600], on: ["no_answer"] },
      contactPolicy: { maxPerDay: 2, minGapMinutes: 45 },
      effectiveContactPolicy: { maxPerDay: 2, maxPer7Days: 7, minGapMinutes: 45 },
      callingWindow: { start: "09:00", end: "18:00", blackoutDates: ["2026-12-25"] },
      dialing: { state: "active", pausedAt: null, calls: { queued: 0, delayed: 0, dispatching: 0 } },
    });
    // The defaults, for a campaign that sets nothing.
    const plain = await call("GET", "/api/v1/campaigns/emi", undefined, t.auth);
    expect(plain.json).toMatchObject({
      retry: { maxAttempts: 3, intervalsMinutes: [60, 240], on: ["no_answer", "busy", "failed"] },
      contactPolicy: null,
      effectiveContactPolicy: { maxPerDay: 3, maxPer7Days: 7, minGapMinutes: 30 },
      callingWindow: { blackoutDates: [] },
    });
    // The organization tightens later: the tighter of the two applies.
    await call(
      "PATCH",
      "/api/v1/organization",
      { contactPolicy: { maxPerDay: 1, minGapMinutes: 60 } },
      t.auth,
    );
    expect(
      (await call("GET", "/api/v1/campaigns/tight", undefined, t.auth)).json.effectiveContactPolicy,
    ).toEqual({
      maxPerDay: 1,
      maxPer7Days: 7,
      minGapMinutes: 60,
    });
  });

  it("refuses a policy outside its bounds, or looser than the organization's, with a 400 naming the field", async () => {
    const t = await newTenant();
    const cases: [Record<string, unknown>, string][] = [
      [{ retry: { maxAttempts: 6 } }, "retry.maxAttempts"],
      [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
      [{ retry: { intervalsMinutes: [] } }, "retry.intervalsMinutes"],
      [{ retry: { intervalsMinutes: [4] } }, "retry.intervalsMinutes.0"],
      [{ retry: { intervalsMinutes: [60, 60, 60, 60, 60] } }, "retry.intervalsMinutes"],
      [{ retry: { on: ["voicemail"] } }, "retry.on.0"],
      [{ retry: { on: ["busy", "busy"] } }, "retry.on"],
      [{ contactPolicy: { maxPerDay: 4 } }, "contactPolicy.maxPerDay"],
      [{ contactPolicy: { maxPer7Days: 8 } }, "contactPolicy.maxPer7Days"],
      [{ contactPolicy: { minGapMinutes: 10 } }, "contactPolicy.minGapMinutes"],
      [{ callingWindow: { blackoutDates: ["25-12-2026"] } }, "callingWindow.blackoutDates.0"],
    ];
    for (const [body, path] of cases) {
      const r = await campaign(t.auth, { id: "bad", ...body });
      expect([r.status, r.json.error.code], JSON.stringify(body)).toEqual([400, "validation_error"]);
      expect(
        r.json.error.details.map((d: any) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    expect((await call("GET", "/api/v1/campaigns/bad", undefined, t.auth)).status).toBe(404);
  });

  it("PATCH of a campaign changes its retry policy, limits and blackout dates, and keeps the organization's floor", async () => {
    const t = await newTenant();
    const patch = (body: Record<string, unknown>, auth = t.auth) =>
      call("PATCH", "/api/v1/campaigns/emi", body, auth);
    const updated = await patch({
      retry: { maxAttempts: 2, intervalsMinutes: [90], on: ["busy"] },
      contactPolicy: { maxPer7Days: 5 },
      callingWindow: { start: "09:00", end: "18:00", blackoutDates: ["2027-01-26"] },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json.effectiveContactPolicy).toEqual({ maxPerDay: 3, maxPer7Days: 5, minGapMinutes: 30 });
    const stored = async () => (await call("GET", "/api/v1/campaigns/emi", undefined, t.auth)).json;
    expect(await stored()).toMatchObject({
      retry: { maxAttempts: 2, intervalsMinutes: [90], on: ["busy"] },
      contactPolicy: { maxPer7Days: 5 },
      callingWindow: { start: "09:00", end: "18:00", blackoutDates: ["2027-01-26"] },
    });

    // A new window without blackout dates keeps the campaign's dates.
    expect((await patch({ callingWindow: { start: "10:00", end: "17:00" } })).status).toBe(200);
    expect((await stored()).callingWindow).toMatchObject({ start: "10:00", blackoutDates: ["2027-01-26"] });

    // Looser than the organization's 3 a day: refused, nothing stored.
    const looser = await patch({ contactPolicy: { maxPerDay: 9 } });
    expect([looser.status, looser.json.error.code]).toEqual([400, "validation_error"]);
    expect(looser.json.error.details).toEqual([
      { path: "contactPolicy.maxPerDay", message: expect.stringMatching(/tighten the organization's 3/) },
    ]);
    expect((await stored()).contactPolicy).toEqual({ maxPer7Days: 5 });

    // null follows the organization again.
    expect((await patch({ contactPolicy: null })).status).toBe(200);
    expect(await stored()).toMatchObject({
      contactPolicy: null,
      effectiveContactPolicy: { maxPerDay: 3, maxPer7Days: 7, minGapMinutes: 30 },
    });

    const stranger = await newTenant();
    const foreign = await call("PATCH", "/api/v1/campaigns/emi-of-nobody", { retry: {} }, stranger.auth);
    expect([foreign.status, foreign.json.error.code]).toEqual([404, "campaign_not_found"]);
  });

  it("pause and resume of a campaign show in its state; another organization's campaign is 404", async () => {
    const t = await newTenant();
    const paused = await call("POST", "/api/v1/campaigns/emi/pause", undefined, t.auth);
    expect(paused.status, paused.text).toBe(200);
    expect(paused.json.dialing).toMatchObject({ state: "paused", pausedAt: expect.any(String) });
    expect((await call("GET", "/api/v1/campaigns/emi", undefined, t.auth)).json.dialing.state).toBe("paused");
    const resumed = await call("POST", "/api/v1/campaigns/emi/resume", undefined, t.auth);
    expect(resumed.json.dialing).toMatchObject({ state: "active", pausedAt: null });
    const stranger = await newTenant();
    for (const action of ["pause", "resume", "cancel"]) {
      const r = await call("POST", `/api/v1/campaigns/emi-of-nobody/${action}`, undefined, stranger.auth);
      expect(r.status).toBe(404);
    }
    const r = await call("POST", "/api/v1/imports/imp_nothing/pause", undefined, t.auth);
    expect([r.status, r.json.error.code]).toEqual([404, "not_found"]);
  });
});
