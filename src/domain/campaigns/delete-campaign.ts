// DELETE /api/v1/campaigns/{campaignId}, and the cron's part of it. A campaign is deleted in three
// moves:
// 1. It leaves the API at once (404 everywhere, its id free for a new campaign), and with ?force=true
//    its waiting calls are cancelled (reason campaign_deleted) and its running workflow runs end at
//    their next step; without force, a campaign with work still waiting or under way is refused (409).
// 2. Its customers' personal data is erased exactly as DELETE .../customers/{key} erases one
//    customer's, ERASE_PAGE customers per atomic write: up to PURGE_AT_DELETE customers before the
//    answer, the rest by the cron, PURGE_PER_TICK per tick.
// 3. What stays, for audit and so that every import's progress still adds up: the campaign row
//    (marked deleted), its imports (counts only: their stored Idempotency-Key answers are dropped,
//    since they list keys), and the customers, calls and workflow runs de-identified.
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { DomainError } from "../errors";
import type { Campaign } from "../model/campaign";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { ImportsRepository } from "../ports/imports-repository";

/** Customers erased per atomic write: one json_each list, well inside a statement's limits. */
const ERASE_PAGE = 500;
/** Customers erased before DELETE answers: small campaigns are gone at once, large ones go on. */
export const PURGE_AT_DELETE = 5_000;
/** Customers erased per cron tick (every 5 minutes): 500,000 customers in about two hours. */
const PURGE_PER_TICK = 20_000;
/**
 * A deleted campaign is marked purged only this long after its deletion: a bulk request that found
 * the campaign just before it was deleted may still be writing customers into it.
 */
export const PURGE_SETTLE_MS = 15 * 60 * 1000;

export interface DeleteCampaignDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  calls: CallsRepository;
  imports: ImportsRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * Deletes the campaign. Throws campaign_not_found (404, also for another organization's campaign)
 * and, without `force`, conflict (409) while calls are waiting or being dialled, outbox batches are
 * not finished, or workflow runs are queued or running (the details say how many of each).
 */
export async function deleteCampaign(
  deps: DeleteCampaignDeps,
  input: { organizationId: string; campaignId: string; force: boolean },
): Promise<void> {
  const campaign = await deps.campaigns.findCampaign(input.organizationId, input.campaignId);
  if (!campaign)
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`);
  if (!input.force) {
    const active = await deps.campaigns.activeWork(campaign.pk);
    if (active.calls + active.batches + active.runs > 0) {
      throw new DomainError(
        "conflict",
        "The campaign still has calls or workflow runs waiting or under way; wait for them, or delete with ?force=true to cancel them.",
        [
          { path: "calls", message: `${active.calls} waiting or being dialled` },
          { path: "batches", message: `${active.batches} hand-off batches not finished` },
          { path: "workflowRuns", message: `${active.runs} queued or running` },
        ],
      );
    }
  }
  const now = deps.clock.now();
  // First out of the API: from here on, call rows made for it are born cancelled and runs stop.
  const deleted = await deps.campaigns.markDeleted(input.organizationId, input.campaignId, now);
  if (!deleted) throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`);
  const cancelled = await deps.calls.stopWaitingForCampaign(
    deleted.pk,
    { status: "cancelled", reason: "campaign_deleted" },
    now,
    now - CLAIM_LEASE_MS,
  );
  await deps.imports.dropStoredAnswersOfCampaign(deleted.pk);
  const erased = await purgeCampaign(deps, deleted, PURGE_AT_DELETE);
  deps.log("campaign_deleted", { campaignId: deleted.id, force: input.force, cancelled, ...erased });
}

/**
 * Erases up to `budget` customers of a deleted campaign, ERASE_PAGE per atomic write; `done` when
 * none is left.
 */
async function purgeCampaign(
  deps: Pick<DeleteCampaignDeps, "customers" | "clock">,
  campaign: Campaign,
  budget: number,
): Promise<{ erased: number; done: boolean }> {
  let erased = 0;
  while (erased < budget) {
    const ids = await deps.customers.listIdsToErase(campaign.pk, Math.min(ERASE_PAGE, budget - erased));
    if (ids.length === 0) return { erased, done: true };
    const now = deps.clock.now();
    erased += await deps.customers.erase({
      organizationId: campaign.organizationId,
      campaignPk: campaign.pk,
      customerIds: ids,
      dropAnswersOf: [],
      at: now,
      leaseExpiredBefore: now - CLAIM_LEASE_MS,
    });
  }
  return { erased, done: false };
}

/** The cron's part: goes on erasing deleted campaigns, oldest deletion first, PURGE_PER_TICK a tick. */
export async function purgeDeletedCampaigns(
  deps: Pick<DeleteCampaignDeps, "campaigns" | "customers" | "clock" | "log">,
): Promise<{ erased: number; purged: number }> {
  let budget = PURGE_PER_TICK;
  const result = { erased: 0, purged: 0 };
  for (const campaign of await deps.campaigns.listUnpurged(10)) {
    if (budget <= 0) break;
    const step = await purgeCampaign(deps, campaign, budget);
    budget -= step.erased;
    result.erased += step.erased;
    const settled = (campaign.deletedAt ?? 0) < deps.clock.now() - PURGE_SETTLE_MS;
    if (step.done && settled) {
      await deps.campaigns.markPurged(campaign.pk, deps.clock.now());
      result.purged++;
    }
  }
  if (result.erased + result.purged > 0) deps.log("deleted_campaigns_purged", result);
  return result;
}
