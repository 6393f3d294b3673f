// Calls a set of customers of one import through the dialing rules and the dialer. The queue
// consumer calls it with a whole outbox batch; a workflow's call step with one customer and its own
// `origin`; the consumer of waiting calls (retries, calls held by a limit) with the rows themselves.
// Safe to run any number of times, concurrently too: call rows are created idempotently, and a row
// reaches the dialer only through an atomic claim that re-checks the pause, the retry interval and
// the contact limits in the statement that takes it.
//
// The judgement of each waiting call, in order: import cancelled -> cancelled; paid -> skipped;
// suppressed -> skipped; import or campaign paused -> held (`paused`); still inside its retry
// interval -> left waiting; blackout date or outside the window -> delayed to the next opening;
// otherwise the claim, which takes it unless a contact limit or the gap on its number holds it back;
// a call the claim refused is delayed to the moment it is allowed (and the next opening after it).

import { newId } from "../ids";
import { CANCELLED_BY_REQUEST, type Call, DELAY_REASONS, type DelayReason } from "../model/call";
import type { Campaign, CampaignDialingState } from "../model/campaign";
import type { StoredCustomer } from "../model/customer";
import type { ImportDialingState } from "../model/imports";
import type { CallsRepository, WaitingCall } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { DialCustomer, Dialer } from "../ports/dialer";
import type { ImportsRepository } from "../ports/imports-repository";
import type { SuppressionsRepository } from "../ports/suppressions-repository";
import { callingWindowState, nextOpening } from "./calling-window";
import { contactWindow, judgeContacts } from "./contact-rules";
import type { DialingPolicy } from "./dialing-policy";
import { type SkipReason, skipReasonFor } from "./eligibility";

/** Calls per request to the dialer, and per claim. */
const DIAL_CHUNK_SIZE = 100;
/**
 * How long a claim protects its rows. It covers one dialer request (30 s timeout) with a wide
 * margin; a claim older than this belongs to a consumer that died, and may be taken over.
 */
export const CLAIM_LEASE_MS = 5 * 60 * 1000;
/**
 * Passes over the calls that lost a claim to a concurrent consumer, or waited for another call of
 * the same loan: each pass re-reads the attempts, so the second almost always settles them.
 */
const JUDGE_PASSES = 3;

const RETRY_WAITS: ReadonlySet<string> = new Set(DELAY_REASONS.filter((r) => r.startsWith("retry_after_")));

export interface PlaceCallsDeps {
  calls: CallsRepository;
  customers: CustomersRepository;
  imports: ImportsRepository;
  campaigns: CampaignsRepository;
  suppressions: SuppressionsRepository;
  dialer: Dialer;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/** What the calls of one import are judged with, read once per message. */
export interface CallContext {
  organizationId: string;
  campaign: Campaign;
  importId: string;
  policy: DialingPolicy;
  importState: ImportDialingState;
  campaignState: CampaignDialingState;
}

export interface PlaceCallsInput extends CallContext {
  batchNo: number;
  /** "bulk" for the bulk endpoint's initiateCall; workflows use one origin per call step. */
  origin: string;
  agentId: string | null;
  dispositionId: string | null;
  customerIds: readonly number[];
}

export interface PlaceCallsResult {
  dispatched: number;
  failed: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Calls this run delayed (window, blackout, limits, gap). */
  delayed: number;
  /** Calls held because the import or its campaign is paused. */
  paused: number;
  /** The import or its campaign was paused while this run was under way. */
  pausedMeanwhile?: boolean;
  cancelled: number;
  /** Set when calls wait for a known moment: the earliest of them. */
  delayedUntil?: number;
  /** Set when the dialer did not take a request: the rest waits for a later attempt. */
  retry?: { reason: string; retryAfterSeconds?: number };
  /** The rows after the run. */
  calls: Call[];
}

function emptyResult(): PlaceCallsResult {
  return { dispatched: 0, failed: 0, skipped: {}, delayed: 0, paused: 0, cancelled: 0, calls: [] };
}

/** Creates (or finds) the call rows of these customers, then judges and places them. */
export async function placeCalls(deps: PlaceCallsDeps, input: PlaceCallsInput): Promise<PlaceCallsResult> {
  const now = deps.clock.now();
  const customers = await deps.customers.findByIds(input.customerIds);
  if (customers.length < input.customerIds.length) {
    deps.log("call_customers_missing", {
      importId: input.importId,
      batchNo: input.batchNo,
      missing: input.customerIds.length - customers.length,
    });
  }
  const rows = await deps.calls.ensureCalls({
    organizationId: input.organizationId,
    campaignPk: input.campaign.pk,
    importId: input.importId,
    batchNo: input.batchNo,
    origin: input.origin,
    agentId: input.agentId,
    dispositionId: input.dispositionId,
    customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber, loanId: c.loanId })),
    at: now,
  });
  const result = await settleCalls(deps, input, rows, new Map(customers.map((c) => [c.id, c])));
  result.calls = await deps.calls.findCalls(input.importId, input.origin, input.customerIds);
  return result;
}

/**
 * Judges and places existing call rows of one import (see the file comment for the order of the
 * rules). `customers` may already hold the rows' customers; the missing ones are read. The result's
 * `calls` is left empty: the caller reads back what it needs.
 */
export async function settleCalls(
  deps: PlaceCallsDeps,
  context: CallContext,
  rows: readonly Call[],
  customers: Map<number, StoredCustomer> = new Map(),
): Promise<PlaceCallsResult> {
  const result = emptyResult();
  const now = deps.clock.now();
  // Rows nobody is working on: waiting ones, and claims whose holder died. A dead holder may or
  // may not have reached the dialer; its rows are judged again like waiting ones, and if they are
  // sent, they are sent with the same callId and attempt, which the dialer de-duplicates.
  const leaseExpiredBefore = now - CLAIM_LEASE_MS;
  const actionable = rows.filter(
    (r) =>
      r.status === "queued" ||
      r.status === "delayed" ||
      (r.status === "dispatching" && (r.claimedAt ?? 0) < leaseExpiredBefore),
  );
  if (actionable.length === 0) return result;

  if (context.importState === "cancelled") {
    result.cancelled = await deps.calls.stopWaitingForImports(
      [context.importId],
      CANCELLED_BY_REQUEST,
      now,
      leaseExpiredBefore,
    );
    return result;
  }

  const missing = [...new Set(actionable.map((r) => r.customerId))].filter((id) => !customers.has(id));
  if (missing.length > 0) for (const c of await deps.customers.findByIds(missing)) customers.set(c.id, c);
  const suppressed = await deps.suppressions.findSuppressed(
    context.organizationId,
    actionable.map((r) => r.phoneNumber),
  );
  const toSkip = new Map<SkipReason, string[]>();
  const eligible: Call[] = [];
  for (const row of actionable) {
    const customer = customers.get(row.customerId);
    if (!customer) continue;
    const reason = skipReasonFor(
      { paymentStatus: customer.paymentStatus, phoneNumber: row.phoneNumber },
      suppressed,
    );
    if (!reason) {
      eligible.push(row);
      continue;
    }
    const list = toSkip.get(reason) ?? [];
    list.push(row.id);
    toSkip.set(reason, list);
  }
  for (const [reason, callIds] of toSkip) {
    result.skipped[reason] = await deps.calls.markSkipped(callIds, reason, now, leaseExpiredBefore);
  }

  // A call inside its retry interval keeps its moment whatever else holds it: the interval is a
  // floor no pause, window or limit may lower.
  const inRetryWait = (r: Call) =>
    r.status === "delayed" && RETRY_WAITS.has(r.reason ?? "") && (r.notBefore ?? 0) > now;
  const waitingForRetry = eligible.filter(inRetryWait);
  for (const r of waitingForRetry) noteWait(result, r.notBefore as number);
  const pending = eligible.filter((r) => !inRetryWait(r));

  if (context.importState === "paused" || context.campaignState === "paused") {
    // Held where they are, with no moment: resuming sends them again.
    result.paused = await deps.calls.markWaiting(
      pending.map((r) => ({ id: r.id, reason: "paused", notBefore: null })),
      now,
      leaseExpiredBefore,
    );
    return result;
  }
  if (pending.length > 0) await judgeAndDial(deps, context, pending, customers, leaseExpiredBefore, result);
  return result;
}

function noteWait(result: PlaceCallsResult, at: number) {
  result.delayedUntil = result.delayedUntil === undefined ? at : Math.min(result.delayedUntil, at);
}

async function judgeAndDial(
  deps: PlaceCallsDeps,
  context: CallContext,
  first: Call[],
  customers: Map<number, StoredCustomer>,
  leaseExpiredBefore: number,
  result: PlaceCallsResult,
): Promise<void> {
  const { policy } = context;
  const token = newId("claim");
  let pending = first;
  for (let pass = 0; pass < JUDGE_PASSES && pending.length > 0; pass++) {
    if (pass > 0) {
      // The rows that lost a claim may have been taken by another consumer since: read them again.
      const fresh = await deps.calls.findByIds(pending.map((r) => r.id));
      pending = fresh.filter(
        (r) =>
          r.status === "queued" ||
          r.status === "delayed" ||
          (r.status === "dispatching" && (r.claimedAt ?? 0) < leaseExpiredBefore),
      );
    }
    const deferred: Call[] = [];
    for (let i = 0; i < pending.length; i += DIAL_CHUNK_SIZE) {
      // The window is checked before every request, so a batch that runs into the closing time
      // stops there: no call is handed over after the window has closed.
      const now = deps.clock.now();
      const window = callingWindowState(policy.window, policy.timezone, now);
      if (!window.open) {
        const rest = [...pending.slice(i), ...deferred];
        result.delayed += await deps.calls.markWaiting(
          rest.map((r) => ({ id: r.id, reason: window.reason, notBefore: window.opensAt })),
          now,
          leaseExpiredBefore,
        );
        noteWait(result, window.opensAt);
        return;
      }
      const chunk = pending.slice(i, i + DIAL_CHUNK_SIZE);
      const { weekStart, dayStart } = contactWindow(policy.timezone, now);
      // Claim first: the claim applies every contact rule itself, so in the usual fan-out (numbers
      // nobody called lately) nothing else is read. Only the calls it refuses are explained.
      const claimed = await deps.calls.claim(
        chunk.map((r) => r.id),
        token,
        now,
        leaseExpiredBefore,
        {
          organizationId: context.organizationId,
          importId: context.importId,
          campaignPk: context.campaign.pk,
          limits: policy.limits,
          dayStart,
          weekStart,
          unreportedHoldMs: policy.unreportedHoldMs,
        },
      );
      const taken = new Set(claimed.map((c) => c.id));
      const refused = chunk.filter((r) => !taken.has(r.id));
      if (refused.length > 0) {
        // Why each was refused, and until when: the attempts on their numbers and loans, this
        // claim's own included. One that no rule holds back lost it to another consumer, or to a
        // pause: the next pass reads it again.
        const history = await deps.calls.contactHistory(
          context.organizationId,
          [...new Set(refused.map((r) => r.phoneNumber))],
          [...new Set(refused.flatMap((r) => (r.loanId === null ? [] : [r.loanId])))],
          weekStart,
        );
        const verdicts = judgeContacts(refused, history, {
          limits: policy.limits,
          timezone: policy.timezone,
          now,
          unreportedHoldMs: policy.unreportedHoldMs,
        });
        const waiting: WaitingCall[] = [];
        for (const row of refused) {
          const verdict = verdicts.get(row.pk);
          if (verdict?.kind === "wait") {
            const notBefore = nextOpening(policy.window, policy.timezone, verdict.until);
            waiting.push({ id: row.id, reason: verdict.reason satisfies DelayReason, notBefore });
            noteWait(result, notBefore);
          } else deferred.push(row);
        }
        result.delayed += await deps.calls.markWaiting(waiting, now, leaseExpiredBefore);
      }
      if (claimed.length === 0) continue;

      const byId = new Map(chunk.map((r) => [r.id, r]));
      const stop = await dial(deps, context, token, claimed, byId, customers, result);
      if (stop) return;
    }
    pending = deferred;
  }
  if (pending.length === 0) return;
  // The claim kept refusing them: most likely the import or campaign was paused or cancelled while
  // this run was under way. Then they are held (or cancelled) now rather than at the next delivery.
  const [imp, campaign] = await Promise.all([
    deps.imports.findById(context.importId),
    deps.campaigns.findCampaignByPk(context.campaign.pk),
  ]);
  const now = deps.clock.now();
  if (imp?.dialingState === "cancelled") {
    result.cancelled += await deps.calls.stopWaitingForImports(
      [context.importId],
      CANCELLED_BY_REQUEST,
      now,
      leaseExpiredBefore,
    );
  } else if (imp?.dialingState === "paused" || campaign?.dialingState === "paused") {
    result.paused += await deps.calls.markWaiting(
      pending.map((r) => ({ id: r.id, reason: "paused", notBefore: null })),
      now,
      leaseExpiredBefore,
    );
    result.pausedMeanwhile = true;
  } else {
    deps.log("calls_unsettled", { importId: context.importId, calls: pending.length });
  }
}

/** Hands claimed calls to the dialer, one request per agent and disposition. True: stop (retry later). */
async function dial(
  deps: PlaceCallsDeps,
  context: CallContext,
  token: string,
  claimed: { id: string; customerId: number; attempts: number }[],
  rows: Map<string, Call>,
  customers: Map<number, StoredCustomer>,
  result: PlaceCallsResult,
): Promise<boolean> {
  const groups = new Map<string, typeof claimed>();
  for (const c of claimed) {
    const row = rows.get(c.id);
    const key = JSON.stringify([row?.agentId ?? null, row?.dispositionId ?? null]);
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  for (const [key, group] of groups) {
    const [agentId, dispositionId] = JSON.parse(key) as [string | null, string | null];
    const outcome = await deps.dialer.dispatch({
      organizationId: context.organizationId,
      importId: context.importId,
      campaign: {
        id: context.campaign.id,
        campaignType: context.campaign.campaignType,
        timezone: context.campaign.timezone,
      },
      agentId,
      dispositionId,
      calls: group.map((c) => ({
        callId: c.id,
        attempt: c.attempts,
        customer: dialCustomer(customers.get(c.customerId) as StoredCustomer),
      })),
    });
    const at = deps.clock.now();

    if (outcome.kind === "retry") {
      // The dialer said it did not take them (or never answered): hand the claim back and stop;
      // the queue's retry brings the rest back later, as the same attempt.
      await deps.calls.release(
        token,
        claimed.map((c) => c.id),
        at,
      );
      deps.log("dialer_retry", { importId: context.importId, reason: outcome.reason });
      result.retry = { reason: outcome.reason, retryAfterSeconds: outcome.retryAfterSeconds };
      return true;
    }
    if (outcome.kind === "rejected") {
      await deps.calls.markClaimedFailed(
        token,
        group.map((c) => ({ id: c.id, reason: outcome.reason })),
        at,
      );
      result.failed += group.length;
      deps.log("dialer_rejected", {
        importId: context.importId,
        calls: group.length,
        reason: outcome.reason,
      });
      continue;
    }
    const taken = group.filter((c) => !outcome.rejected.has(c.id));
    const refused = group.filter((c) => outcome.rejected.has(c.id));
    await deps.calls.markDispatched(
      token,
      taken.map((c) => ({ id: c.id, providerCallId: outcome.providerCallIds.get(c.id) ?? null })),
      at,
    );
    await deps.calls.markClaimedFailed(
      token,
      refused.map((c) => ({ id: c.id, reason: outcome.rejected.get(c.id) as string })),
      at,
    );
    result.dispatched += taken.length;
    result.failed += refused.length;
  }
  return false;
}

function dialCustomer(c: StoredCustomer): DialCustomer {
  return {
    id: c.id,
    loan_id: c.loanId,
    lead_id: c.leadId,
    first_name: c.firstName,
    last_name: c.lastName,
    phone_number: c.phoneNumber,
    loan_amount: c.loanAmount,
    emi_amount: c.emiAmount,
    loan_period: c.loanPeriod,
    current_emi: c.currentEmi,
    emi_due_date: c.emiDueDate,
    payment_status: c.paymentStatus,
    language: c.language,
    lead_date: c.leadDate,
    variables: c.variables,
  };
}
