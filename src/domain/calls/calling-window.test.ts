import { describe, expect, it } from "vitest";
import { callingWindowState } from "./calling-window";

const RBI = { start: "08:00", end: "19:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] };
const WEEKDAYS = { ...RBI, days: ["mon", "tue", "wed", "thu", "fri"] };
const at = (iso: string) => Date.parse(iso);

describe("callingWindowState", () => {
  it("is open from the start (inclusive) to the end (exclusive), in the campaign's zone", () => {
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T08:00:00+05:30"))).toEqual({ open: true });
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T18:59:59+05:30"))).toEqual({ open: true });
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T19:00:00+05:30"))).toEqual({
      open: false,
      opensAt: at("2026-11-24T08:00:00+05:30"),
    });
  });

  it("before the start, opens the same day", () => {
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T07:59:00+05:30"))).toEqual({
      open: false,
      opensAt: at("2026-11-23T08:00:00+05:30"),
    });
  });

  it("reads the local time, not UTC: 02:00 UTC is 07:30 in India, 21:00 the day before in New York", () => {
    const instant = at("2026-11-23T02:00:00Z");
    expect(callingWindowState(RBI, "Asia/Kolkata", instant)).toEqual({
      open: false,
      opensAt: at("2026-11-23T08:00:00+05:30"),
    });
    expect(callingWindowState(RBI, "America/New_York", instant)).toEqual({
      open: false,
      opensAt: at("2026-11-23T08:00:00-05:00"),
    });
  });

  it("skips days that are not allowed: Friday evening opens on Monday", () => {
    expect(callingWindowState(WEEKDAYS, "Asia/Kolkata", at("2026-11-27T19:30:00+05:30"))).toEqual({
      open: false,
      opensAt: at("2026-11-30T08:00:00+05:30"),
    });
    expect(callingWindowState(WEEKDAYS, "Asia/Kolkata", at("2026-11-28T12:00:00+05:30"))).toMatchObject({
      open: false,
    });
  });

  it("a single allowed day that has passed this week opens next week", () => {
    const mondays = { ...RBI, days: ["mon"] };
    expect(callingWindowState(mondays, "Asia/Kolkata", at("2026-11-23T20:00:00+05:30"))).toEqual({
      open: false,
      opensAt: at("2026-11-30T08:00:00+05:30"),
    });
  });

  it("follows daylight-saving changes: the opening after the spring change is at 08:00 local", () => {
    // New York moves from -05:00 to -04:00 on 2026-03-08 at 02:00.
    expect(callingWindowState(RBI, "America/New_York", at("2026-03-07T20:00:00-05:00"))).toEqual({
      open: false,
      opensAt: at("2026-03-08T08:00:00-04:00"),
    });
    // And back on 2026-11-01.
    expect(callingWindowState(RBI, "America/New_York", at("2026-10-31T20:00:00-04:00"))).toEqual({
      open: false,
      opensAt: at("2026-11-01T08:00:00-05:00"),
    });
  });
});
