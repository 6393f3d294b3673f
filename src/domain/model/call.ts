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
  status: CallStatus;
  reason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  /** Times the row was claimed for the dialer. */
  attempts: number;
  /** While delayed: unix ms when the calling window opens. */
  notBefore: number | null;
  claimToken: string | null;
  claimedAt: number | null;
  dispatchedAt: number | null;
  finishedAt: number | null;
  createdAt: number;
  updatedAt: number;
}
