// The dialing policy: how often a borrower may be called (contact caps, one line at a time per
// number), when unanswered calls are tried again, and the dates nobody is called. A leaf of the
// domain model: the db schema, the HTTP schemas and the domain read the same names and bounds.
//
// Sources: RBI's recovery guidance forbids "persistently" calling a borrower; the US benchmark,
// Regulation F (12 CFR 1006.14), presumes harassment above 7 calls in 7 days per debt. The defaults
// below stay inside both.

/** Outcome classes a campaign may retry (how the dialer reports them: see classifyOutcome). */
export const RETRY_OUTCOMES = ["no_answer", "busy", "failed"] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

export interface RetryPolicy {
  /** Dial attempts per call, the first included. */
  maxAttempts: number;
  /** Wait after each unanswered attempt, in minutes; the last one repeats. */
  intervalsMinutes: number[];
  /** Outcomes that are tried again. */
  on: RetryOutcome[];
}

export interface ContactLimits {
  /** Attempts per phone number, and per loan_id, in one local day of the campaign. */
  maxPerDay: number;
  /** Attempts per phone number, and per loan_id, in 7 local days (today and the 6 before). */
  maxPer7Days: number;
  /** Minutes between the end (or, unreported, the dispatch) of one attempt on a number and the next. */
  minGapMinutes: number;
}

/** A campaign's own limits: any of them, each only ever tighter than the organization's. */
export type CampaignContactLimits = Partial<ContactLimits>;

export const RETRY_BOUNDS = {
  /** Five attempts: more is "persistent calling" however far apart. */
  maxAttempts: { min: 1, max: 5 },
  /** One wait per retry: at most 4 retries follow the first attempt. */
  intervals: { min: 1, max: 4 },
  /** 5 minutes to 7 days: sooner is a redial, not a retry; later belongs to the next file. */
  intervalMinutes: { min: 5, max: 7 * 24 * 60 },
} as const;

export const CONTACT_BOUNDS = {
  /** Ten a day: beyond it no reading of "not persistently" holds. */
  maxPerDay: { min: 1, max: 10 },
  /** Fifty in 7 days: the widest weekly pattern the daily bound allows for a working week. */
  maxPer7Days: { min: 1, max: 50 },
  /** 5 minutes to a day: below 5 minutes an unreported call may still be ringing. */
  minGapMinutes: { min: 5, max: 24 * 60 },
} as const;

/** Blackout dates per list: several years of holidays fit; answers and rows stay small. */
export const MAX_BLACKOUT_DATES = 100;

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  intervalsMinutes: [60, 240],
  on: [...RETRY_OUTCOMES],
});

export const DEFAULT_CONTACT_LIMITS: Readonly<ContactLimits> = Object.freeze({
  maxPerDay: 3,
  maxPer7Days: 7,
  minGapMinutes: 30,
});

/**
 * How long an attempt whose outcome the dialer has not reported yet is treated as still on the
 * line: longer than any collections call, so two calls never ring one number at once, yet bounded,
 * because a dialer that never reports (the `log` dialer) must not block a number for good.
 */
export const UNREPORTED_CALL_HOLD_MINUTES = 60;

/** The limits a campaign's calls obey: the organization's, tightened by the campaign's own. */
export function effectiveLimits(
  organization: ContactLimits,
  campaign: CampaignContactLimits | null,
): ContactLimits {
  return {
    maxPerDay: Math.min(organization.maxPerDay, campaign?.maxPerDay ?? Number.POSITIVE_INFINITY),
    maxPer7Days: Math.min(organization.maxPer7Days, campaign?.maxPer7Days ?? Number.POSITIVE_INFINITY),
    minGapMinutes: Math.max(organization.minGapMinutes, campaign?.minGapMinutes ?? 0),
  };
}

/**
 * The retry class of a dialer-reported outcome: `no_answer` and `busy` are reasons the dialer
 * reports with status failed; `invalid_number` is never retried (null); any other failure is
 * `failed`. A completed call was answered and is never retried (null).
 */
export function classifyOutcome(status: "completed" | "failed", reason: string | null): RetryOutcome | null {
  if (status === "completed") return null;
  const code = (reason ?? "").trim().toLowerCase();
  if (code === "no_answer" || code === "busy") return code;
  if (code === "invalid_number") return null;
  return "failed";
}

/** The wait before attempt `attempt + 1`, after attempt `attempt` went unanswered, in ms. */
export function retryIntervalMs(policy: RetryPolicy, attempt: number): number {
  const i = Math.min(Math.max(attempt - 1, 0), policy.intervalsMinutes.length - 1);
  return (policy.intervalsMinutes[i] ?? 60) * 60_000;
}
