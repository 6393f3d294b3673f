// A dry run (`dryRun: true` on the bulk and single add): the answer the request would get now,
// with nothing written — no import row, no Idempotency-Key claim, no customers, no outbox — and,
// with initiateCall, a preview of the calls. The records go through the same judging and the same
// chunking as a real request, and each chunk's write is replaced by a read of what it would do
// (CustomersRepository.probeChunk), so the counts and errors are the real request's own.
import { callingWindowState } from "../calls/calling-window";
import { type SkipReason, skipReasonFor } from "../calls/eligibility";
import type { Campaign } from "../model/campaign";
import type { Clock } from "../ports/clock";
import type { SuppressionsRepository } from "../ports/suppressions-repository";
import type { ValidRecord } from "./judge-records";

/** What the calls of a dry run would be (api-contract, `dryRun`). */
export interface DryRunPreview {
  /** Customers whose call would be placed. */
  wouldCall: number;
  /** Customers handed over whose call would be skipped at dial time, by reason. */
  skipped: Record<SkipReason, number>;
  /**
   * When the first call would be placed (ISO 8601, UTC): now when the calling window is open,
   * else its next opening; null when no call would be placed.
   */
  firstCallAt: string | null;
}

export interface PreviewDeps {
  suppressions: Pick<SuppressionsRepository, "findSuppressed">;
  clock: Clock;
}

/**
 * The preview of the calls for the customers a request would hand to the call queue. The reasons
 * are the dial-time judgement's own (eligibility.ts skipReasonFor: paid first, then the
 * organization's suppression list), applied to the values the request would store.
 */
export async function previewCalls(
  deps: PreviewDeps,
  campaign: Pick<Campaign, "organizationId" | "callingWindow" | "timezone">,
  handedOver: readonly ValidRecord[],
): Promise<DryRunPreview> {
  const suppressed = await deps.suppressions.findSuppressed(campaign.organizationId, [
    ...new Set(handedOver.map((r) => r.facts.phoneNumber)),
  ]);
  const skipped: Record<SkipReason, number> = { paid: 0, suppressed: 0 };
  for (const r of handedOver) {
    const reason = skipReasonFor(r.facts, suppressed);
    if (reason) skipped[reason]++;
  }
  const wouldCall = handedOver.length - skipped.paid - skipped.suppressed;
  const now = deps.clock.now();
  const window = callingWindowState(campaign.callingWindow, campaign.timezone, now);
  const first = window.open ? now : window.opensAt;
  return { wouldCall, skipped, firstCallAt: wouldCall > 0 ? new Date(first).toISOString() : null };
}
