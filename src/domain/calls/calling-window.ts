// When a campaign may call. The window is local wall-clock time in the campaign's IANA time zone
// (08:00-19:00 by default, the RBI rule for recovery calls) on the allowed weekdays, except on
// blackout dates (local dates, the campaign's and its organization's); the start is inclusive and
// the end exclusive, so with the default window no call starts at 19:00 or later.
import type { CallingWindow } from "../model/campaign";

const WEEKDAY_INDEX: Readonly<Record<string, number>> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

export type WindowState =
  | { open: true }
  /** Closed at this moment because of the hours or weekdays, or because today is a blackout date. */
  | { open: false; opensAt: number; reason: "outside_calling_window" | "blackout_date" };

/** The window's hours and days, and the local dates on which it stays shut. */
export type WindowRules = Pick<CallingWindow, "start" | "end" | "days"> & {
  blackoutDates?: readonly string[];
};

/**
 * How far ahead an opening is looked for: two years covers any weekday pattern with the longest
 * blackout lists (100 dates each for the campaign and the organization).
 */
const OPENING_SEARCH_DAYS = 2 * 366 + 7;

interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  /** Seconds since local midnight. */
  seconds: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function localDateTime(ms: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  const weekday = WEEKDAY_INDEX[(parts.weekday ?? "").toLowerCase().slice(0, 3)];
  if (weekday === undefined) throw new Error(`Cannot read the weekday in ${timeZone}`);
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    seconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second),
    weekday,
  };
}

/** The zone's offset from UTC at the instant `ms`, in milliseconds. */
function offsetAt(ms: number, timeZone: string): number {
  const l = localDateTime(ms, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day) + l.seconds * 1000;
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the zone's clocks show the given local date and time. Around a daylight-
 * saving change the offset is re-read at the first guess, so the result lands on the right side.
 */
function instantOf(year: number, month: number, day: number, seconds: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day) + seconds * 1000;
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  return second;
}

function secondsOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 3600 + (m ?? 0) * 60;
}

function dateKey(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The local date (YYYY-MM-DD) in the zone at the instant `ms`. */
export function localDate(ms: number, timeZone: string): string {
  const l = localDateTime(ms, timeZone);
  return dateKey(l.year, l.month, l.day);
}

/** The instant of local midnight, `offsetDays` days after the local date of `ms`, in the zone. */
export function localMidnight(ms: number, timeZone: string, offsetDays = 0): number {
  return zonedInstant(localDate(ms, timeZone), offsetDays, "00:00", timeZone);
}

/**
 * Whether the window is open at `now`, and if not, when it next opens and why it is shut: a blackout
 * date when today's local date is one, the hours or weekdays otherwise. Throws when no opening comes
 * within two years (every allowed day blacked out).
 */
export function callingWindowState(window: WindowRules, timeZone: string, now: number): WindowState {
  const days = new Set(window.days.map((d) => WEEKDAY_INDEX[d.toLowerCase()]));
  if (days.size === 0) throw new Error("A calling window needs at least one weekday");
  const blackout = new Set(window.blackoutDates ?? []);
  const start = secondsOf(window.start);
  const end = secondsOf(window.end);
  const local = localDateTime(now, timeZone);
  const today = dateKey(local.year, local.month, local.day);
  const blackedOut = blackout.has(today);

  if (!blackedOut && days.has(local.weekday) && local.seconds >= start && local.seconds < end) {
    return { open: true };
  }
  const reason = blackedOut ? "blackout_date" : "outside_calling_window";

  // Today (if the window is still ahead) or one of the next days opens the window.
  for (let ahead = 0; ahead <= OPENING_SEARCH_DAYS; ahead++) {
    if (!days.has((local.weekday + ahead) % 7)) continue;
    if (ahead === 0 && local.seconds >= start) continue;
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + ahead));
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (blackout.has(dateKey(y, m, d))) continue;
    const opensAt = instantOf(y, m, d, start, timeZone);
    if (opensAt > now) return { open: false, opensAt, reason };
  }
  throw new Error("No opening of the calling window within two years: check its days and blackout dates");
}

/** The first moment at or after `from` at which the window is open. */
export function nextOpening(window: WindowRules, timeZone: string, from: number): number {
  const state = callingWindowState(window, timeZone, from);
  return state.open ? from : state.opensAt;
}

/** The instant at which the zone's clocks show `date` (YYYY-MM-DD) plus `offsetDays`, at `hhmm`. */
export function zonedInstant(date: string, offsetDays: number, hhmm: string, timeZone: string): number {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(year, month - 1, day + offsetDays));
  return instantOf(
    shifted.getUTCFullYear(),
    shifted.getUTCMonth() + 1,
    shifted.getUTCDate(),
    secondsOf(hhmm),
    timeZone,
  );
}
