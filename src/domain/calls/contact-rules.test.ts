import { describe, expect, it } from "vitest";
import { DEFAULT_CONTACT_LIMITS } from "../model/policy";
import type { ContactAttempt } from "../ports/calls-repository";
import { type ContactCandidate, judgeContacts } from "./contact-rules";

const at = (iso: string) => Date.parse(iso);
const IST = "Asia/Kolkata";
const NOW = at("2026-11-23T15:00:00+05:30"); // Monday afternoon in India
const HOUR = 60 * 60 * 1000;
const input = { limits: DEFAULT_CONTACT_LIMITS, timezone: IST, now: NOW, unreportedHoldMs: HOUR };

let pk = 1000;
function attempt(
  phoneNumber: string,
  startedAt: number,
  endedAt: number | null,
  loanId: string | null = null,
) {
  return { callPk: pk++, attempt: 1, phoneNumber, loanId, startedAt, endedAt } satisfies ContactAttempt;
}
function candidate(phoneNumber: string, loanId: string | null = null, pkOf = pk++): ContactCandidate {
  return { pk: pkOf, attempts: 0, phoneNumber, loanId };
}
const P = "+919810000001";
const Q = "+919810000002";

describe("judgeContacts", () => {
  it("allows a number and a loan with no attempts", () => {
    const c = candidate(P, "LN-1");
    expect(judgeContacts([c], [], input).get(c.pk)).toEqual({ kind: "allowed" });
  });

  it("holds a number at its daily cap until local midnight, counting every campaign's attempts", () => {
    const history = [
      attempt(P, at("2026-11-23T08:05:00+05:30"), at("2026-11-23T08:06:00+05:30")),
      attempt(P, at("2026-11-23T10:00:00+05:30"), at("2026-11-23T10:01:00+05:30")),
      attempt(P, at("2026-11-23T12:00:00+05:30"), at("2026-11-23T12:02:00+05:30")),
    ];
    const c = candidate(P);
    expect(judgeContacts([c], history, input).get(c.pk)).toEqual({
      kind: "wait",
      reason: "phone_daily_cap",
      until: at("2026-11-24T00:00:00+05:30"),
    });
    // Yesterday's attempts do not count against today (local day of the campaign's zone).
    const yesterday = history.map((a) => ({ ...a, startedAt: a.startedAt - 24 * HOUR, endedAt: null }));
    expect(judgeContacts([c], yesterday, input).get(c.pk)).toEqual({ kind: "allowed" });
  });

  it("holds a loan at its daily cap whatever number it is called on", () => {
    const history = [9, 11, 13].map((h) =>
      attempt(
        `+91981000010${h % 10}`,
        at(`2026-11-23T${String(h).padStart(2, "0")}:00:00+05:30`),
        at(`2026-11-23T${String(h).padStart(2, "0")}:01:00+05:30`),
        "LN-7",
      ),
    );
    const c = candidate(Q, "LN-7");
    expect(judgeContacts([c], history, input).get(c.pk)).toEqual({
      kind: "wait",
      reason: "loan_daily_cap",
      until: at("2026-11-24T00:00:00+05:30"),
    });
  });

  it("holds a number at its 7-day cap until the oldest attempt that must drop out has", () => {
    // One attempt a day from Tuesday the 17th to Monday the 23rd: 7 in the window (17th..23rd).
    const history = [17, 18, 19, 20, 21, 22, 23].map((d) =>
      attempt(P, at(`2026-11-${d}T09:00:00+05:30`), at(`2026-11-${d}T09:01:00+05:30`)),
    );
    const c = candidate(P);
    // The 17th leaves the window at midnight starting the 24th.
    expect(judgeContacts([c], history, input).get(c.pk)).toEqual({
      kind: "wait",
      reason: "phone_weekly_cap",
      until: at("2026-11-24T00:00:00+05:30"),
    });
    // A tighter cap of 5: three must drop out, the third oldest (the 19th) leaves on the 26th.
    const tight = { ...input, limits: { ...DEFAULT_CONTACT_LIMITS, maxPer7Days: 5 } };
    expect(judgeContacts([c], history, tight).get(c.pk)).toMatchObject({
      reason: "phone_weekly_cap",
      until: at("2026-11-26T00:00:00+05:30"),
    });
    // Attempts before the window (the 16th) are history and cost nothing.
    const older = [attempt(P, at("2026-11-16T09:00:00+05:30"), at("2026-11-16T09:01:00+05:30"))];
    expect(judgeContacts([c], older, input).get(c.pk)).toEqual({ kind: "allowed" });
  });

  it("keeps the gap after an attempt's end, and treats an unreported attempt as on the line", () => {
    const ended = [attempt(P, NOW - 20 * 60_000, NOW - 10 * 60_000)];
    const c = candidate(P);
    expect(judgeContacts([c], ended, input).get(c.pk)).toEqual({
      kind: "wait",
      reason: "phone_line_gap",
      until: NOW + 20 * 60_000, // ended 10 minutes ago, 30-minute gap
    });
    const unreported = [attempt(P, NOW - 20 * 60_000, null)];
    expect(judgeContacts([c], unreported, input).get(c.pk)).toEqual({
      kind: "wait",
      reason: "phone_line_gap",
      until: NOW + 40 * 60_000, // dispatched 20 minutes ago, held for the hour
    });
    const longAgo = [attempt(P, NOW - 3 * HOUR, NOW - 2 * HOUR)];
    expect(judgeContacts([c], longAgo, input).get(c.pk)).toEqual({ kind: "allowed" });
  });

  it("gives a number to one call of a judgement; co-borrowers on it wait out the gap", () => {
    const first = candidate(P, "LN-1");
    const coBorrower = candidate(P, "LN-2");
    const other = candidate(Q, "LN-3");
    const verdicts = judgeContacts([first, coBorrower, other], [], input);
    expect(verdicts.get(first.pk)).toEqual({ kind: "allowed" });
    expect(verdicts.get(coBorrower.pk)).toEqual({
      kind: "wait",
      reason: "phone_line_gap",
      until: NOW + HOUR,
    });
    expect(verdicts.get(other.pk)).toEqual({ kind: "allowed" });
  });

  it("defers a second call of the same loan on another number to the next pass", () => {
    const a = candidate(P, "LN-1");
    const b = candidate(Q, "LN-1");
    const verdicts = judgeContacts([a, b], [], input);
    expect(verdicts.get(a.pk)).toEqual({ kind: "allowed" });
    expect(verdicts.get(b.pk)).toEqual({ kind: "defer" });
  });

  it("lets a hand-off whose answer was lost go again: it is the same attempt, not a new contact", () => {
    const c: ContactCandidate = { pk: 77, attempts: 1, phoneNumber: P, loanId: "LN-1" };
    const history = [
      { callPk: 77, attempt: 1, phoneNumber: P, loanId: "LN-1", startedAt: NOW - 6 * 60_000, endedAt: null },
      attempt(P, at("2026-11-23T09:00:00+05:30"), at("2026-11-23T09:01:00+05:30")),
      attempt(P, at("2026-11-23T10:00:00+05:30"), at("2026-11-23T10:01:00+05:30")),
    ];
    expect(judgeContacts([c], history, input).get(c.pk)).toEqual({ kind: "allowed" });
  });

  it("reports the rule that holds longest", () => {
    const history = [
      attempt(P, at("2026-11-23T09:00:00+05:30"), at("2026-11-23T09:01:00+05:30")),
      attempt(P, at("2026-11-23T10:00:00+05:30"), at("2026-11-23T10:01:00+05:30")),
      attempt(P, NOW - 5 * 60_000, null),
    ];
    const c = candidate(P);
    expect(judgeContacts([c], history, input).get(c.pk)).toMatchObject({ reason: "phone_daily_cap" });
  });
});
