// A dry run (`dryRun: true` on the bulk and single add): the answer the request would get now,
// with nothing written — no import row, no Idempotency-Key claim, no customers, no outbox — and,
// with initiateCall, a preview of the calls. The records go through the same judging and the same
// chunking as a real request, and each chunk's write is replaced by a read of what it would do
// (CustomersRepository.probeChunk), so the counts and errors are the real request's own.
import { callingWindowState } from "../calls/calling-window";
import { dialingPolicy } from "../calls/dialing-policy";
import { type SkipReason, skipReasonFor } from "../calls/eligibility";
import type { Campaign } from "../model/campaign";
import type { Clock } from "../ports/clock";
import type { SuppressionsRepository } from "../ports/suppressions-repository";
import type { TenancyRepository } from "../ports/tenancy-repository";
import type { ValidRecord } from "./judge-records";

/** What the calls of a dry run would be (api-contract, `dryRun`). */
export interface DryRunPreview {
  /** Customers whose call would be placed. */
  wouldCall: number;
  /** Customers handed over whose call would be skipped at dial time, by reason. */
  skipped: Record<SkipReason, number>;
  /**
   * When the first call would be placed (ISO 8601, UTC): now when the calling window is open,
   * else its next opening (past the campaign's and the organization's blackout dates); null when no
   * call would be placed or the campaign is paused. The contact limits are judged at dial time and
   * may hold a number longer.
   */
  firstCallAt: string | null;
  /** Only when the campaign is paused: its calls would wait, held, until it is resumed. */
  paused?: true;
}

export interface PreviewDeps {
  suppressions: Pick<SuppressionsRepository, "findSuppressed">;
  tenancy: Pick<TenancyRepository, "findOrganization">;
  clock: Clock;
}

/**
 * The preview of the calls for the customers a request would hand to the call queue. The reasons
 * are the dial-time judgement's own (eligibility.ts skipReasonFor: paid first, then the
 * organization's suppression list), applied to the values the request would store.
 */
export async function previewCalls(
  deps: PreviewDeps,
  campaign: Campaign,
  handedOver: readonly ValidRecord[],
): Promise<DryRunPreview> {
  const [suppressed, organization] = await Promise.all([
    deps.suppressions.findSuppressed(campaign.organizationId, [
      ...new Set(handedOver.map((r) => r.facts.phoneNumber)),
    ]),
    deps.tenancy.findOrganization(campaign.organizationId),
  ]);
  const skipped: Record<SkipReason, number> = { paid: 0, suppressed: 0 };
  for (const r of handedOver) {
    const reason = skipReasonFor(r.facts, suppressed);
    if (reason) skipped[reason]++;
  }
  const wouldCall = handedOver.length - skipped.paid - skipped.suppressed;
  // A paused campaign's calls are held where they are: no moment can be told until it resumes.
  if (campaign.dialingState === "paused") return { wouldCall, skipped, firstCallAt: null, paused: true };
  const now = deps.clock.now();
  // The window the calls obey: the campaign's, with its own and the organization's blackout dates.
  const policy = dialingPolicy(campaign, organization);
  const window = callingWindowState(policy.window, policy.timezone, now);
  const first = window.open ? now : window.opensAt;
  return { wouldCall, skipped, firstCallAt: wouldCall > 0 ? new Date(first).toISOString() : null };
}
