// The contact limits, judged before a claim: how many attempts a phone number and a loan_id have had
// today and in the last 7 days (local days of the campaign's zone, across every campaign of the
// organization), and whether the number is still on the line or inside its gap. A call that may not
// be made now is given the moment it becomes allowed; nothing is dropped. The claim re-checks the
// same rules atomically (CallsRepository.claim), so this judgement only decides what to try and what
// to delay, never what passes.

import type { DelayReason } from "../model/call";
import type { ContactLimits } from "../model/policy";
import type { ContactAttempt } from "../ports/calls-repository";
import { localMidnight } from "./calling-window";

export interface ContactCandidate {
  pk: number;
  /** The attempt the call is on (0 before the first). */
  attempts: number;
  phoneNumber: string;
  loanId: string | null;
}

export type ContactVerdict =
  /** May be claimed now. */
  | { kind: "allowed" }
  /** Not before `until` (unix ms), because of `reason`. */
  | { kind: "wait"; reason: DelayReason; until: number }
  /** Another call of the same loan goes first in this pass; judge this one again after it. */
  | { kind: "defer" };

export interface ContactRulesInput {
  limits: ContactLimits;
  timezone: string;
  /** Unix ms. */
  now: number;
  unreportedHoldMs: number;
}

/** The start of today and of the 7-day window (today and the 6 days before), local to the zone. */
export function contactWindow(timezone: string, now: number): { dayStart: number; weekStart: number } {
  return { dayStart: localMidnight(now, timezone), weekStart: localMidnight(now, timezone, -6) };
}

/**
 * Judges the candidates in order against the attempts on their numbers and loans (`history`, which
 * must hold every attempt since the start of the 7-day window). Rules, each giving the moment it
 * stops holding: the daily cap (local midnight), the 7-day cap (local midnight 7 days after the day
 * of the attempt that must drop out), and the gap (the end of the last attempt on the number plus
 * `minGapMinutes`; an attempt with no reported outcome counts as on the line until its start plus
 * the longer of the gap and `unreportedHoldMs`). A call repeating an attempt whose hand-off was lost
 * is not a new contact: it is allowed. Within one judgement a number is given to one call only, the
 * others wait for the gap; a second call of the same loan is deferred.
 */
export function judgeContacts(
  candidates: readonly ContactCandidate[],
  history: readonly ContactAttempt[],
  input: ContactRulesInput,
): Map<number, ContactVerdict> {
  const { limits, timezone, now } = input;
  const { dayStart, weekStart } = contactWindow(timezone, now);
  const gapMs = limits.minGapMinutes * 60_000;
  const holdMs = Math.max(gapMs, input.unreportedHoldMs);
  const byPhone = groupBy(history, (a) => a.phoneNumber);
  const byLoan = groupBy(
    history.filter((a) => a.loanId !== null),
    (a) => a.loanId as string,
  );
  const phonesTaken = new Set<string>();
  const loansTaken = new Set<string>();
  const verdicts = new Map<number, ContactVerdict>();

  for (const c of candidates) {
    const repeat = history.some((a) => a.callPk === c.pk && a.attempt === c.attempts && a.endedAt === null);
    if (repeat) {
      verdicts.set(c.pk, { kind: "allowed" });
      continue;
    }
    const waits: { reason: DelayReason; until: number }[] = [];
    const phoneAttempts = (byPhone.get(c.phoneNumber) ?? []).filter((a) => a.startedAt >= weekStart);
    waits.push(...capWaits(phoneAttempts, "phone", limits, timezone, dayStart, now));
    const lineFree = Math.max(
      ...phoneAttempts.map((a) => (a.endedAt === null ? a.startedAt + holdMs : a.endedAt + gapMs)),
      0,
    );
    if (lineFree > now) waits.push({ reason: "phone_line_gap", until: lineFree });
    if (phonesTaken.has(c.phoneNumber)) waits.push({ reason: "phone_line_gap", until: now + holdMs });
    if (c.loanId !== null) {
      const loanAttempts = (byLoan.get(c.loanId) ?? []).filter((a) => a.startedAt >= weekStart);
      waits.push(...capWaits(loanAttempts, "loan", limits, timezone, dayStart, now));
    }

    if (waits.length > 0) {
      // The rule that holds longest decides the moment and is the one reported.
      const latest = waits.reduce((a, b) => (b.until > a.until ? b : a));
      verdicts.set(c.pk, { kind: "wait", ...latest });
      continue;
    }
    if (c.loanId !== null && loansTaken.has(c.loanId)) {
      verdicts.set(c.pk, { kind: "defer" });
      continue;
    }
    verdicts.set(c.pk, { kind: "allowed" });
    phonesTaken.add(c.phoneNumber);
    if (c.loanId !== null) loansTaken.add(c.loanId);
  }
  return verdicts;
}

function capWaits(
  attempts: readonly ContactAttempt[],
  subject: "phone" | "loan",
  limits: ContactLimits,
  timezone: string,
  dayStart: number,
  now: number,
): { reason: DelayReason; until: number }[] {
  const waits: { reason: DelayReason; until: number }[] = [];
  const today = attempts.filter((a) => a.startedAt >= dayStart).length;
  if (today >= limits.maxPerDay) {
    waits.push({ reason: `${subject}_daily_cap`, until: localMidnight(now, timezone, 1) });
  }
  if (attempts.length >= limits.maxPer7Days) {
    // With n attempts in the window and a cap of m, the (n - m + 1)th oldest must drop out: it does
    // at the local midnight 7 days after its own day.
    const starts = attempts.map((a) => a.startedAt).sort((a, b) => a - b);
    const leaving = starts[attempts.length - limits.maxPer7Days] as number;
    waits.push({ reason: `${subject}_weekly_cap`, until: localMidnight(leaving, timezone, 7) });
  }
  return waits;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
