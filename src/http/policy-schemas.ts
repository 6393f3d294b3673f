// The request and answer schemas of the dialing policy, built from the bounds in the domain model so
// the validator, the OpenAPI document and the rules read the same numbers. A value outside its bounds
// is a 400 validation_error whose detail names the field (e.g. `retry.maxAttempts`).
import { z } from "@hono/zod-openapi";
import {
  CONTACT_BOUNDS,
  DEFAULT_CONTACT_LIMITS,
  DEFAULT_RETRY_POLICY,
  MAX_BLACKOUT_DATES,
  RETRY_BOUNDS,
  RETRY_OUTCOMES,
  UNREPORTED_CALL_HOLD_MINUTES,
} from "../domain/model/policy";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export const BlackoutDates = z
  .array(z.string().refine(isCalendarDate, "a calendar date in the form YYYY-MM-DD"))
  .max(MAX_BLACKOUT_DATES)
  .refine((d) => new Set(d).size === d.length, "each date at most once")
  .transform((d) => [...d].sort())
  .openapi({
    description: `Local dates (in the campaign's time zone) on which no call is made; calls wait past them like outside the window. At most ${MAX_BLACKOUT_DATES}.`,
    example: ["2026-12-25", "2027-01-26"],
  });

const bounded = (b: { min: number; max: number }) => z.number().int().min(b.min).max(b.max);

export const RetryPolicySchema = z
  .object({
    maxAttempts: bounded(RETRY_BOUNDS.maxAttempts)
      .default(DEFAULT_RETRY_POLICY.maxAttempts)
      .openapi({ description: "Dial attempts per call, the first included." }),
    intervalsMinutes: z
      .array(bounded(RETRY_BOUNDS.intervalMinutes))
      .min(RETRY_BOUNDS.intervals.min)
      .max(RETRY_BOUNDS.intervals.max)
      .default([...DEFAULT_RETRY_POLICY.intervalsMinutes])
      .openapi({
        description: `The wait after each unanswered attempt, in minutes (${RETRY_BOUNDS.intervalMinutes.min}-${RETRY_BOUNDS.intervalMinutes.max}); the last one repeats.`,
      }),
    on: z
      .array(z.enum(RETRY_OUTCOMES))
      .refine((o) => new Set(o).size === o.length, "each outcome at most once")
      .default([...DEFAULT_RETRY_POLICY.on])
      .openapi({ description: "Outcomes that are tried again; empty: none." }),
  })
  .openapi("RetryPolicy", {
    description:
      "When an unanswered call is tried again: at the later of the interval and the next opening of the calling window, judged again at dial time.",
  });

const limitFields = {
  maxPerDay: bounded(CONTACT_BOUNDS.maxPerDay).openapi({
    description: "Attempts per phone number, and per loan_id, in one local day of the campaign.",
  }),
  maxPer7Days: bounded(CONTACT_BOUNDS.maxPer7Days).openapi({
    description: "Attempts per phone number, and per loan_id, in 7 local days (today and the 6 before).",
  }),
  minGapMinutes: bounded(CONTACT_BOUNDS.minGapMinutes).openapi({
    description: `Minutes between the end of one attempt on a number and the next (an attempt whose outcome is not reported yet counts as on the line for ${UNREPORTED_CALL_HOLD_MINUTES} minutes).`,
  }),
};

/** The organization's limits, all given (as stored and answered). */
export const ContactPolicySchema = z.object(limitFields).openapi("ContactPolicy", {
  description: `Contact limits across every campaign of the organization. Defaults: ${DEFAULT_CONTACT_LIMITS.maxPerDay} a day, ${DEFAULT_CONTACT_LIMITS.maxPer7Days} in 7 days, ${DEFAULT_CONTACT_LIMITS.minGapMinutes} minutes between attempts on a number.`,
});

/** Limits as a change: any of them. */
export const ContactPolicyPatch = z.object(limitFields).partial().openapi("ContactPolicyPatch");

/** A campaign's own limits: any of them, each tighter than (or equal to) the organization's. */
export const CampaignContactPolicySchema = z.object(limitFields).partial().openapi("CampaignContactPolicy", {
  description:
    "A campaign's own contact limits, each at most as loose as the organization's: lower caps, a longer gap. Omitted fields follow the organization.",
});
