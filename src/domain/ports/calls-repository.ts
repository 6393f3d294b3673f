import type { Call, CallAttempt, CallDecision, CallStatus } from "../model/call";
import type { ContactLimits } from "../model/policy";

export interface NewCalls {
  organizationId: string;
  campaignPk: number;
  importId: string;
  batchNo: number;
  origin: string;
  agentId: string | null;
  dispositionId: string | null;
  customers: readonly { id: number; phoneNumber: string; loanId: string | null }[];
  at: number;
}

/** A row this caller now owns: it alone may hand it to the dialer. */
export interface ClaimedCall {
  id: string;
  customerId: number;
  /** The attempt being made: 1 on the first hand-off; a hand-off repeated after a lost answer keeps it. */
  attempts: number;
}

export interface CallListItem extends Call {
  loanId: string | null;
  leadId: string | null;
}

/** Calls of one import and origin per status; skipped and delayed rows are split by reason. */
export interface StatusCount {
  status: CallStatus;
  reason: string | null;
  n: number;
}

/** A call waiting for a later moment, and why. */
export interface WaitingCall {
  id: string;
  reason: string;
  /** Unix ms, or null for a wait with no known end (a pause). */
  notBefore: number | null;
}

/** A past attempt on a number or a loan, as the contact limits read it. */
export interface ContactAttempt {
  callPk: number;
  attempt: number;
  phoneNumber: string;
  loanId: string | null;
  startedAt: number;
  endedAt: number | null;
}

/**
 * What the claim re-checks atomically, in the statement that takes the rows: the import and the
 * campaign are not paused or cancelled, a retry's interval has passed, and a new attempt stays within
 * the contact limits and the gap on its number. Times are unix ms.
 */
export interface ClaimRules {
  organizationId: string;
  importId: string;
  campaignPk: number;
  limits: ContactLimits;
  /** Local midnight of today, and of 6 days before, in the campaign's time zone. */
  dayStart: number;
  weekStart: number;
  /** How long an attempt with no reported outcome holds its number. */
  unreportedHoldMs: number;
}

/**
 * How waiting calls end when something outside the call path stops them: `skipped` when the rule
 * would have skipped them at dial time anyway (paid), `cancelled` when the customer or the campaign
 * is gone (erased, deleted) or the work was called off.
 */
export interface StopOutcome {
  status: "skipped" | "cancelled";
  reason: string;
}

/**
 * Call rows. "Claimable" rows are the ones nobody is working on: `queued` and `delayed` ones, and
 * `dispatching` ones whose claim is older than the lease (`leaseExpiredBefore`, unix ms): their
 * holder died.
 */
export interface CallsRepository {
  /**
   * Creates the missing call rows (`queued`; `cancelled` for a customer erased or a campaign deleted
   * since the batch was written) and returns every row of these customers for this import and
   * origin: a second run reads what the first one made instead of making new rows.
   */
  ensureCalls(input: NewCalls): Promise<Call[]>;
  /** Claimable rows -> skipped for good; returns how many moved. */
  markSkipped(
    callIds: readonly string[],
    reason: string,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  /** Claimable rows -> delayed, each with its own reason and moment; returns how many moved. */
  markWaiting(waiting: readonly WaitingCall[], at: number, leaseExpiredBefore: number): Promise<number>;
  /**
   * The attempts of the last days on these numbers and loans, across every campaign of the
   * organization: what the contact limits count (`since` is the oldest start that matters).
   */
  contactHistory(
    organizationId: string,
    phones: readonly string[],
    loanIds: readonly string[],
    since: number,
  ): Promise<ContactAttempt[]>;
  /**
   * The claim that makes "never dial twice" and the contact limits hold: in one atomic batch, moves
   * the claimable rows among `callIds` that pass `rules` to `dispatching` under `token` and records
   * the attempt each begins. Only the rows returned may be handed to the dialer. A row repeating an
   * attempt whose hand-off was lost is not a new contact and is not held by the limits.
   */
  claim(
    callIds: readonly string[],
    token: string,
    at: number,
    leaseExpiredBefore: number,
    rules: ClaimRules,
  ): Promise<ClaimedCall[]>;
  /** The dialer took these claimed calls. */
  markDispatched(
    token: string,
    accepted: readonly { id: string; providerCallId: string | null }[],
    at: number,
  ): Promise<void>;
  /** The dialer refused these claimed calls for good. */
  markClaimedFailed(
    token: string,
    failures: readonly { id: string; reason: string }[],
    at: number,
  ): Promise<void>;
  /**
   * The dialer did not take the calls: give the claim back so a later attempt can take it. The
   * attempt stays open: the next hand-off repeats it.
   */
  release(token: string, callIds: readonly string[], at: number): Promise<void>;
  /**
   * The claimable rows of these customers (any import) -> `outcome`, in one statement; a live claim
   * (a dialer request in flight) is never touched. Returns how many moved.
   */
  stopWaitingForCustomers(
    customerIds: readonly number[],
    outcome: StopOutcome,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  /** The same for every claimable row of the campaign. */
  stopWaitingForCampaign(
    campaignPk: number,
    outcome: StopOutcome,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  /** The same for every claimable row of these imports (a cancel seen by the consumer mid-run). */
  stopWaitingForImports(
    importIds: readonly string[],
    outcome: StopOutcome,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  /** Rows of these customers for this import and origin, oldest first. */
  findCalls(importId: string, origin: string, customerIds: readonly number[]): Promise<Call[]>;
  /** Rows of one batch that still need work: queued, delayed, or claimed. */
  countOutstanding(importId: string, batchNo: number, origin: string): Promise<number>;
  /** Dead-lettered batch: whatever was still waiting fails with the reason; returns how many. */
  failOutstanding(
    importId: string,
    batchNo: number,
    origin: string,
    reason: string,
    at: number,
  ): Promise<number>;
  /** Claimable rows among these calls -> failed with the reason (a dead-lettered message). */
  failWaiting(
    callIds: readonly string[],
    reason: string,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  countsForImport(importId: string, origin: string): Promise<StatusCount[]>;
  /** Decision-log rows of an import's calls of one origin, per status and reason. */
  decisionCounts(importId: string, origin: string): Promise<StatusCount[]>;
  /** Oldest first; `afterPk` is the last row of the previous page. */
  listByCampaign(
    campaignPk: number,
    options: { status?: CallStatus; limit: number; afterPk?: number },
  ): Promise<CallListItem[]>;
  findByIds(callIds: readonly string[]): Promise<Call[]>;
  /** One of the organization's calls with its customer's keys. */
  findOne(organizationId: string, callId: string): Promise<CallListItem | undefined>;
  /** A call's attempts, first first. */
  attemptsOf(callPk: number): Promise<CallAttempt[]>;
  /** A call's decision log, oldest first, at most `limit` rows. */
  decisionsOf(callPk: number, limit: number): Promise<CallDecision[]>;
  /** Ids of an import's calls (any origin) waiting to be made: queued or delayed. */
  listWaiting(importId: string): Promise<string[]>;
  /** Whether an import still has a call that is not final (waiting, claimed, or awaiting its outcome). */
  hasUnfinished(importId: string): Promise<boolean>;
  /**
   * Delayed calls whose moment passed before `before` (their message seems lost), except paused ones
   * and those of paused or cancelled imports and campaigns; oldest moment first.
   */
  listOverdue(before: number, limit: number): Promise<{ id: string; importId: string }[]>;
  /** A campaign's calls that are waiting or being handed over, per status. */
  countWaitingByCampaign(campaignPk: number): Promise<{ status: CallStatus; n: number }[]>;
}
