import { describe, expect, it } from "vitest";
import { callingWindowState, localDate, localMidnight, nextOpening } from "./calling-window";

const RBI = { start: "08:00", end: "19:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] };
const WEEKDAYS = { ...RBI, days: ["mon", "tue", "wed", "thu", "fri"] };
const at = (iso: string) => Date.parse(iso);

describe("callingWindowState", () => {
  it("is open from the start (inclusive) to the end (exclusive), in the campaign's zone", () => {
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T08:00:00+05:30"))).toEqual({ open: true });
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T18:59:59+05:30"))).toEqual({ open: true });
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T19:00:00+05:30"))).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-11-24T08:00:00+05:30"),
    });
  });

  it("before the start, opens the same day", () => {
    expect(callingWindowState(RBI, "Asia/Kolkata", at("2026-11-23T07:59:00+05:30"))).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-11-23T08:00:00+05:30"),
    });
  });

  it("reads the local time, not UTC: 02:00 UTC is 07:30 in India, 21:00 the day before in New York", () => {
    const instant = at("2026-11-23T02:00:00Z");
    expect(callingWindowState(RBI, "Asia/Kolkata", instant)).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-11-23T08:00:00+05:30"),
    });
    expect(callingWindowState(RBI, "America/New_York", instant)).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-11-23T08:00:00-05:00"),
    });
  });

  it("skips days that are not allowed: Friday evening opens on Monday", () => {
    expect(callingWindowState(WEEKDAYS, "Asia/Kolkata", at("2026-11-27T19:30:00+05:30"))).toEqual({
      open: false,
      reason: "outside_calling_window",
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
      reason: "outside_calling_window",
      opensAt: at("2026-11-30T08:00:00+05:30"),
    });
  });

  it("follows daylight-saving changes: the opening after the spring change is at 08:00 local", () => {
    // New York moves from -05:00 to -04:00 on 2026-03-08 at 02:00.
    expect(callingWindowState(RBI, "America/New_York", at("2026-03-07T20:00:00-05:00"))).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-03-08T08:00:00-04:00"),
    });
    // And back on 2026-11-01.
    expect(callingWindowState(RBI, "America/New_York", at("2026-10-31T20:00:00-04:00"))).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-11-01T08:00:00-05:00"),
    });
  });

  it("stays shut on a blackout date, whatever the hour, and opens on the next allowed day after it", () => {
    const christmas = { ...RBI, blackoutDates: ["2026-12-25"] };
    expect(callingWindowState(christmas, "Asia/Kolkata", at("2026-12-25T10:00:00+05:30"))).toEqual({
      open: false,
      reason: "blackout_date",
      opensAt: at("2026-12-26T08:00:00+05:30"),
    });
    // The evening before: shut by the hours, and the next morning is skipped.
    expect(callingWindowState(christmas, "Asia/Kolkata", at("2026-12-24T19:30:00+05:30"))).toEqual({
      open: false,
      reason: "outside_calling_window",
      opensAt: at("2026-12-26T08:00:00+05:30"),
    });
    // A run of dates and a closed weekday together: Friday 25th to Monday 28th blacked out, no Sundays.
    const long = { ...WEEKDAYS, blackoutDates: ["2026-12-25", "2026-12-28"] };
    expect(callingWindowState(long, "Asia/Kolkata", at("2026-12-24T19:30:00+05:30"))).toMatchObject({
      opensAt: at("2026-12-29T08:00:00+05:30"),
    });
  });

  it("reads blackout dates in the campaign's zone: 25 December in India starts at 18:30 UTC the day before", () => {
    const christmas = { ...RBI, start: "00:00", end: "23:59", blackoutDates: ["2026-12-25"] };
    expect(callingWindowState(christmas, "Asia/Kolkata", at("2026-12-24T18:00:00Z"))).toEqual({ open: true });
    expect(callingWindowState(christmas, "Asia/Kolkata", at("2026-12-24T18:30:00Z"))).toMatchObject({
      open: false,
      reason: "blackout_date",
    });
  });

  it("gives up loudly when every allowed day is blacked out", () => {
    const mondays = { ...RBI, days: ["mon"], blackoutDates: [] as string[] };
    for (
      let d = Date.parse("2026-11-23T00:00:00Z");
      d < Date.parse("2028-12-31T00:00:00Z");
      d += 7 * 86_400_000
    ) {
      mondays.blackoutDates.push(new Date(d).toISOString().slice(0, 10));
    }
    expect(() => callingWindowState(mondays, "Asia/Kolkata", at("2026-11-23T10:00:00+05:30"))).toThrow(
      /within two years/,
    );
  });

  it("nextOpening is the moment itself inside the window, the opening otherwise", () => {
    const inside = at("2026-11-23T10:00:00+05:30");
    expect(nextOpening(RBI, "Asia/Kolkata", inside)).toBe(inside);
    expect(nextOpening(RBI, "Asia/Kolkata", at("2026-11-23T19:00:00+05:30"))).toBe(
      at("2026-11-24T08:00:00+05:30"),
    );
  });
});

describe("local days", () => {
  it("are the campaign zone's calendar days, across daylight-saving changes", () => {
    expect(localDate(at("2026-11-23T20:00:00Z"), "Asia/Kolkata")).toBe("2026-11-24");
    expect(localMidnight(at("2026-11-23T20:00:00Z"), "Asia/Kolkata")).toBe(at("2026-11-24T00:00:00+05:30"));
    expect(localMidnight(at("2026-11-24T10:00:00+05:30"), "Asia/Kolkata", -6)).toBe(
      at("2026-11-18T00:00:00+05:30"),
    );
    // New York's 8 March 2026 is 23 hours long.
    expect(localMidnight(at("2026-03-08T12:00:00-04:00"), "America/New_York", 1)).toBe(
      at("2026-03-09T00:00:00-04:00"),
    );
    expect(localMidnight(at("2026-03-08T12:00:00-04:00"), "America/New_York")).toBe(
      at("2026-03-08T00:00:00-05:00"),
    );
  });
});
