import { describe, expect, it } from "vitest";
import {
  classifyOutcome,
  DEFAULT_CONTACT_LIMITS,
  DEFAULT_RETRY_POLICY,
  effectiveLimits,
  retryIntervalMs,
} from "./policy";

describe("the dialing policy's rules", () => {
  it("classifies reported outcomes: no_answer and busy as themselves, invalid_number and answered calls never retried", () => {
    expect(classifyOutcome("failed", "no_answer")).toBe("no_answer");
    expect(classifyOutcome("failed", " BUSY ")).toBe("busy");
    expect(classifyOutcome("failed", "invalid_number")).toBeNull();
    expect(classifyOutcome("failed", "carrier_error")).toBe("failed");
    expect(classifyOutcome("failed", null)).toBe("failed");
    expect(classifyOutcome("completed", "no_answer")).toBeNull();
  });

  it("waits the interval of the attempt that went unanswered; the last interval repeats", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 5 };
    expect([1, 2, 3, 4].map((n) => retryIntervalMs(policy, n) / 60_000)).toEqual([60, 240, 240, 240]);
  });

  it("a campaign tightens the organization's limits and never loosens them", () => {
    expect(effectiveLimits(DEFAULT_CONTACT_LIMITS, null)).toEqual({
      maxPerDay: 3,
      maxPer7Days: 7,
      minGapMinutes: 30,
    });
    expect(effectiveLimits(DEFAULT_CONTACT_LIMITS, { maxPerDay: 2, minGapMinutes: 60 })).toEqual({
      maxPerDay: 2,
      maxPer7Days: 7,
      minGapMinutes: 60,
    });
    // Stored before the organization tightened its own: the organization's then applies.
    expect(
      effectiveLimits(
        { maxPerDay: 1, maxPer7Days: 3, minGapMinutes: 120 },
        { maxPerDay: 2, minGapMinutes: 60 },
      ),
    ).toEqual({ maxPerDay: 1, maxPer7Days: 3, minGapMinutes: 120 });
  });
});
