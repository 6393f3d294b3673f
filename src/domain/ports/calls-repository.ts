import type { Call, CallStatus } from "../model/call";

export interface NewCalls {
  organizationId: string;
  campaignPk: number;
  importId: string;
  batchNo: number;
  origin: string;
  customers: readonly { id: number; phoneNumber: string }[];
  at: number;
}

/** A row this caller now owns: it alone may hand it to the dialer. */
export interface ClaimedCall {
  id: string;
  customerId: number;
  /** The claim's number: 1 on the first hand-off. */
  attempts: number;
}

export interface CallListItem extends Call {
  loanId: string | null;
  leadId: string | null;
}

/** Calls of one import and origin per status; skipped rows are split by reason. */
export interface StatusCount {
  status: CallStatus;
  reason: string | null;
  n: number;
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
  /** Claimable rows -> delayed until `notBefore` (the calling window opens); returns how many moved. */
  markDelayed(
    callIds: readonly string[],
    notBefore: number,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<number>;
  /**
   * The claim that makes "never dial twice" hold: atomically moves the claimable rows among
   * `callIds` to `dispatching` under `token`; only the rows returned may be handed to the dialer.
   */
  claim(
    callIds: readonly string[],
    token: string,
    at: number,
    leaseExpiredBefore: number,
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
  /** The dialer did not take the calls: give the claim back so a later attempt can take it. */
  release(token: string, at: number): Promise<void>;
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
  countsForImport(importId: string, origin: string): Promise<StatusCount[]>;
  /** Oldest first; `afterPk` is the last row of the previous page. */
  listByCampaign(
    campaignPk: number,
    options: { status?: CallStatus; limit: number; afterPk?: number },
  ): Promise<CallListItem[]>;
  findByIds(callIds: readonly string[]): Promise<Call[]>;
}
