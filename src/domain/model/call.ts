// Calls: one row per customer per hand-off, and the outcomes the dialer reports.

/** `dispatching` is a claim: one consumer owns the row while it hands it to the dialer. */
export const CALL_STATUSES = [
  "queued",
  "delayed",
  "dispatching",
  "dispatched",
  "skipped",
  "failed",
  "completed",
  "cancelled",
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Statuses the dialer may report for a call. */
export const CALL_OUTCOMES = ["completed", "failed"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export interface Call {
  /** Row order for listings. */
  pk: number;
  /** The opaque id the dialer sees: its idempotency key. */
  id: string;
  organizationId: string;
  campaignPk: number;
  importId: string;
  batchNo: number;
  /** "bulk" for the bulk endpoint's initiateCall; each workflow call step has its own. */
  origin: string;
  customerId: number;
  /** The number as it was when the call was created: what was (or will be) dialled. */
  phoneNumber: string;
  /** The customer's loan_id when the call was created: contact limits count per loan too. */
  loanId: string | null;
  /** What the dialer is asked to use; null on calls made before they were recorded per call. */
  agentId: string | null;
  dispositionId: string | null;
  status: CallStatus;
  reason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  /** Dial attempts begun: 0 before the first; a hand-off repeated after a lost answer is the same attempt. */
  attempts: number;
  /** While delayed: unix ms before which the call is not made (window, cap, gap, retry interval). */
  notBefore: number | null;
  claimToken: string | null;
  claimedAt: number | null;
  dispatchedAt: number | null;
  finishedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Statuses a call never leaves. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = ["skipped", "failed", "completed", "cancelled"];

/** Why a waiting call is delayed (its `reason` while `delayed`). */
export const DELAY_REASONS = [
  "outside_calling_window",
  "blackout_date",
  "phone_daily_cap",
  "phone_weekly_cap",
  "loan_daily_cap",
  "loan_weekly_cap",
  "phone_line_gap",
  "paused",
  "retry_after_no_answer",
  "retry_after_busy",
  "retry_after_failed",
] as const;
export type DelayReason = (typeof DELAY_REASONS)[number];

/**
 * How a waiting call ends when its import, initiation or campaign is cancelled (POST .../cancel):
 * the one StopOutcome of the cancel, whether the request or a consumer mid-run applies it.
 */
export const CANCELLED_BY_REQUEST = { status: "cancelled", reason: "cancelled" } as const;

/** The reason of a call handed back to the queue because the dialer did not take it. */
export const DIALER_UNAVAILABLE = "dialer_unavailable";

/** One dial attempt of a call: what the contact limits count. */
export interface CallAttempt {
  attempt: number;
  /** Unix ms: when the attempt was claimed for the dialer. */
  startedAt: number;
  /** Unix ms: when its outcome was reported, or when the call ended otherwise; null while open. */
  endedAt: number | null;
  /** completed or failed as the dialer reported it; null when it reported nothing. */
  outcome: CallOutcome | null;
  reason: string | null;
  disposition: string | null;
}

/** One judgement of a call, as the decision log keeps it. */
export interface CallDecision {
  /** Unix ms. */
  at: number;
  /** The status the judgement gave the call, and why. */
  status: CallStatus;
  reason: string | null;
  /** For a delay: not before this moment (unix ms). */
  notBefore: number | null;
  /** The attempt the call was on. */
  attempt: number;
}

export const DECISIONS = [
  "dispatched",
  "delayed",
  "paused",
  "retry_scheduled",
  "skipped",
  "cancelled",
  "failed",
  "completed",
  "released",
] as const;
export type Decision = (typeof DECISIONS)[number];

/** The name of a judgement from the status and reason it left on the call. */
export function decisionOf(status: CallStatus, reason: string | null): Decision {
  switch (status) {
    case "delayed":
      if (reason === "paused") return "paused";
      if (reason?.startsWith("retry_after_")) return "retry_scheduled";
      return "delayed";
    case "queued":
    case "dispatching":
      return "released";
    default:
      return status;
  }
}
