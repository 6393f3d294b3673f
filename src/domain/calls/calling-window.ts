// When a campaign may call. The window is local wall-clock time in the campaign's IANA time zone
// (08:00-19:00 by default, the RBI rule for recovery calls) on the allowed weekdays; the start is
// inclusive and the end exclusive, so with the default window no call starts at 19:00 or later.
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

export type WindowState = { open: true } | { open: false; opensAt: number };

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

/** Whether the window is open at `now`, and if not, when it next opens. */
export function callingWindowState(window: CallingWindow, timeZone: string, now: number): WindowState {
  const days = new Set(window.days.map((d) => WEEKDAY_INDEX[d.toLowerCase()]));
  if (days.size === 0) throw new Error("A calling window needs at least one weekday");
  const start = secondsOf(window.start);
  const end = secondsOf(window.end);
  const local = localDateTime(now, timeZone);

  if (days.has(local.weekday) && local.seconds >= start && local.seconds < end) return { open: true };

  // Today (if the window is still ahead) or one of the next seven days opens the window.
  for (let ahead = 0; ahead <= 7; ahead++) {
    if (!days.has((local.weekday + ahead) % 7)) continue;
    if (ahead === 0 && local.seconds >= start) continue;
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + ahead));
    const opensAt = instantOf(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      start,
      timeZone,
    );
    if (opensAt > now) return { open: false, opensAt };
  }
  throw new Error("No opening of the calling window within a week");
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
