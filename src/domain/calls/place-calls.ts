// Calls a set of customers of one import through the eligibility rules and the dialer. The queue
// consumer calls it with a whole outbox batch; a workflow's call step can call it with one
// customer and its own `origin`. Safe to run any number of times, concurrently too: call rows are
// created idempotently, and a row reaches the dialer only through an atomic claim.

import { newId } from "../ids";
import type { Call } from "../model/call";
import type { Campaign } from "../model/campaign";
import type { StoredCustomer } from "../model/customer";
import type { CallsRepository } from "../ports/calls-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { DialCustomer, Dialer } from "../ports/dialer";
import type { SuppressionsRepository } from "../ports/suppressions-repository";
import { callingWindowState } from "./calling-window";
import { type SkipReason, skipReasonFor } from "./eligibility";

/** Calls per request to the dialer. */
export const DIAL_CHUNK_SIZE = 100;
/**
 * How long a claim protects its rows. It covers one dialer request (30 s timeout) with a wide
 * margin; a claim older than this belongs to a consumer that died, and may be taken over.
 */
export const CLAIM_LEASE_MS = 5 * 60 * 1000;

export interface PlaceCallsDeps {
  calls: CallsRepository;
  customers: CustomersRepository;
  suppressions: SuppressionsRepository;
  dialer: Dialer;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface PlaceCallsInput {
  organizationId: string;
  campaign: Campaign;
  importId: string;
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
  delayed: number;
  /** Set when calls wait for the calling window: when it opens. */
  delayedUntil?: number;
  /** Set when the dialer did not take a request: the rest waits for a later attempt. */
  retry?: { reason: string; retryAfterSeconds?: number };
  /** The rows of these customers after the run. */
  calls: Call[];
}

export async function placeCalls(deps: PlaceCallsDeps, input: PlaceCallsInput): Promise<PlaceCallsResult> {
  const now = deps.clock.now();
  const result: PlaceCallsResult = { dispatched: 0, failed: 0, skipped: {}, delayed: 0, calls: [] };
  const customers = await deps.customers.findByIds(input.customerIds);
  if (customers.length < input.customerIds.length) {
    deps.log("call_customers_missing", {
      importId: input.importId,
      batchNo: input.batchNo,
      missing: input.customerIds.length - customers.length,
    });
  }
  const byId = new Map(customers.map((c) => [c.id, c]));
  const rows = await deps.calls.ensureCalls({
    organizationId: input.organizationId,
    campaignPk: input.campaign.pk,
    importId: input.importId,
    batchNo: input.batchNo,
    origin: input.origin,
    customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber })),
    at: now,
  });

  // Rows nobody is working on: waiting ones, and claims whose holder died. A dead holder may or
  // may not have reached the dialer; its rows are judged again like waiting ones, and if they are
  // sent, they are sent with the same callId, which the dialer de-duplicates.
  const leaseExpiredBefore = now - CLAIM_LEASE_MS;
  const actionable = rows.filter(
    (r) =>
      r.status === "queued" ||
      r.status === "delayed" ||
      (r.status === "dispatching" && (r.claimedAt ?? 0) < leaseExpiredBefore),
  );

  const suppressed = await deps.suppressions.findSuppressed(
    input.organizationId,
    actionable.map((r) => r.phoneNumber),
  );
  const toSkip = new Map<SkipReason, string[]>();
  const eligible: Call[] = [];
  for (const row of actionable) {
    const customer = byId.get(row.customerId);
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

  if (eligible.length > 0) await dialInChunks(deps, input, eligible, byId, leaseExpiredBefore, result);

  result.calls = await deps.calls.findCalls(input.importId, input.origin, input.customerIds);
  return result;
}

async function dialInChunks(
  deps: PlaceCallsDeps,
  input: PlaceCallsInput,
  eligible: Call[],
  customers: Map<number, StoredCustomer>,
  leaseExpiredBefore: number,
  result: PlaceCallsResult,
): Promise<void> {
  const token = newId("claim");
  for (let i = 0; i < eligible.length; i += DIAL_CHUNK_SIZE) {
    // The window is checked before every request, so a batch that runs into the closing time
    // stops there: no call is handed over after the window has closed.
    const now = deps.clock.now();
    const window = callingWindowState(input.campaign.callingWindow, input.campaign.timezone, now);
    if (!window.open) {
      result.delayed = await deps.calls.markDelayed(
        eligible.slice(i).map((r) => r.id),
        window.opensAt,
        now,
        leaseExpiredBefore,
      );
      result.delayedUntil = window.opensAt;
      return;
    }
    const chunk = eligible.slice(i, i + DIAL_CHUNK_SIZE);
    const claimed = await deps.calls.claim(
      chunk.map((r) => r.id),
      token,
      now,
      leaseExpiredBefore,
    );
    if (claimed.length === 0) continue;

    const outcome = await deps.dialer.dispatch({
      organizationId: input.organizationId,
      importId: input.importId,
      campaign: {
        id: input.campaign.id,
        campaignType: input.campaign.campaignType,
        timezone: input.campaign.timezone,
      },
      agentId: input.agentId,
      dispositionId: input.dispositionId,
      calls: claimed.map((c) => ({
        callId: c.id,
        attempt: c.attempts,
        customer: dialCustomer(customers.get(c.customerId) as StoredCustomer),
      })),
    });
    const at = deps.clock.now();

    if (outcome.kind === "retry") {
      // The dialer said it did not take them (or never answered): hand the claim back and stop;
      // the queue's retry brings the rest of the batch back later.
      await deps.calls.release(token, at);
      deps.log("dialer_retry", { importId: input.importId, batchNo: input.batchNo, reason: outcome.reason });
      result.retry = { reason: outcome.reason, retryAfterSeconds: outcome.retryAfterSeconds };
      return;
    }
    if (outcome.kind === "rejected") {
      await deps.calls.markClaimedFailed(
        token,
        claimed.map((c) => ({ id: c.id, reason: outcome.reason })),
        at,
      );
      result.failed += claimed.length;
      deps.log("dialer_rejected", {
        importId: input.importId,
        batchNo: input.batchNo,
        calls: claimed.length,
        reason: outcome.reason,
      });
      continue;
    }
    const taken = claimed.filter((c) => !outcome.rejected.has(c.id));
    const refused = claimed.filter((c) => outcome.rejected.has(c.id));
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
