// Pause, resume and cancel, for one import (or initiation) and for a whole campaign.
//
// - Pause: nothing new goes to the dialer. The claim reads the import's and the campaign's state in
//   the statement that takes a call, so once the pause is stored no call can be claimed; calls
//   already with the dialer are not touched (no live call is hung up). Waiting calls keep their
//   place: their consumer marks them `paused` and holds no message for them.
// - Resume: the state becomes active again and every waiting call is sent to the queue again (its
//   outbox batch, and the calls themselves); each is judged afresh, so the calling window, the
//   limits and a retry's interval still hold.
// - Cancel: for good. In one atomic batch every waiting call becomes `cancelled`, every workflow run
//   not finished ends (outcome `cancelled`), and the import can no longer be resumed.

import { BULK_ORIGIN } from "../calls/dispatch-call-batch";
import { sendDueCalls } from "../calls/due-calls";
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { DomainError } from "../errors";
import { hasWorkLeft } from "../imports/work-left";
import type { Campaign } from "../model/campaign";
import type { Import } from "../model/imports";
import type { CallsQueueMessage } from "../model/outbox";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { DialingControlRepository } from "../ports/dialing-control-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import type { WorkflowRunsRepository } from "../ports/workflow-runs-repository";

export interface DialingControlDeps {
  imports: ImportsRepository;
  campaigns: CampaignsRepository;
  calls: CallsRepository;
  outbox: OutboxRepository;
  workflowRuns: WorkflowRunsRepository;
  dialingControl: DialingControlRepository;
  callsQueue: QueueProducer<CallsQueueMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface Cancelled {
  imports: number;
  calls: number;
  runs: number;
}

/** Whether the import still has anything to do (work-left.ts). */
async function hasUnfinishedWork(deps: DialingControlDeps, importId: string): Promise<boolean> {
  const [unfinishedCalls, batches, counts, runs] = await Promise.all([
    deps.calls.hasUnfinished(importId),
    deps.outbox.listForImport(importId),
    deps.calls.countsForImport(importId, BULK_ORIGIN),
    deps.workflowRuns.countsForImport(importId),
  ]);
  return hasWorkLeft({
    batches,
    callRows: counts.reduce((n, c) => n + c.n, 0),
    unfinishedCalls,
    runsLeft: runs.some((r) => r.status !== "completed" && r.status !== "failed"),
  });
}

/**
 * The organization's import, with nothing that forbids changing its dialing: 404 not_found when
 * unknown (or another organization's), 409 conflict when cancelled or finished.
 */
async function controllable(
  deps: DialingControlDeps,
  organizationId: string,
  importId: string,
  action: string,
): Promise<Import> {
  const imp = await deps.imports.find(organizationId, importId);
  if (!imp) throw new DomainError("not_found", `Import "${importId}" does not exist.`);
  if (imp.dialingState === "cancelled") {
    throw new DomainError("conflict", `Import "${importId}" was cancelled; it cannot be ${action}.`);
  }
  if (!(await hasUnfinishedWork(deps, importId))) {
    throw new DomainError("conflict", `Import "${importId}" has finished: every call and run is final.`);
  }
  return imp;
}

/** Pauses an import's calls (idempotent). Throws not_found (404) or conflict (409, cancelled or finished). */
export async function pauseImport(deps: DialingControlDeps, organizationId: string, importId: string) {
  await controllable(deps, organizationId, importId, "paused");
  const paused = await deps.imports.setDialingState(
    importId,
    ["active", "paused"],
    "paused",
    deps.clock.now(),
  );
  if (!paused) throw new DomainError("conflict", `Import "${importId}" was cancelled; it cannot be paused.`);
  deps.log("import_paused", { importId });
}

/**
 * Resumes a paused import and sends its waiting calls to the queue again (a no-op for an active one).
 * Throws not_found (404) or conflict (409, cancelled or finished).
 */
export async function resumeImport(deps: DialingControlDeps, organizationId: string, importId: string) {
  const imp = await controllable(deps, organizationId, importId, "resumed");
  if (imp.dialingState === "active") return;
  const resumed = await deps.imports.setDialingState(importId, ["paused"], "active", deps.clock.now());
  if (!resumed)
    throw new DomainError("conflict", `Import "${importId}" was cancelled; it cannot be resumed.`);
  const campaign = await deps.campaigns.findCampaignByPk(imp.campaignPk);
  // Under a paused campaign the calls stay held; resuming the campaign sends them.
  if (campaign?.dialingState === "active") await sendWaiting(deps, importId);
  deps.log("import_resumed", { importId });
}

/**
 * Cancels an import for good (see the file comment). Throws not_found (404) or conflict (409,
 * already cancelled or finished).
 */
export async function cancelImport(
  deps: DialingControlDeps,
  organizationId: string,
  importId: string,
): Promise<Cancelled> {
  await controllable(deps, organizationId, importId, "cancelled again");
  const now = deps.clock.now();
  const result = await deps.dialingControl.cancelImports([importId], {
    at: now,
    leaseExpiredBefore: now - CLAIM_LEASE_MS,
    callOrigin: BULK_ORIGIN,
  });
  if (result.importIds.length === 0) {
    throw new DomainError("conflict", `Import "${importId}" was cancelled; it cannot be cancelled again.`);
  }
  deps.log("import_cancelled", { importId, calls: result.calls, runs: result.runs });
  return { imports: 1, calls: result.calls, runs: result.runs };
}

async function campaignOf(deps: DialingControlDeps, organizationId: string, campaignId: string) {
  const campaign = await deps.campaigns.findCampaign(organizationId, campaignId);
  if (!campaign) throw new DomainError("campaign_not_found", "Campaign not found.");
  return campaign;
}

/** Pauses every call of the campaign (idempotent). Throws campaign_not_found (404). */
export async function pauseCampaign(
  deps: DialingControlDeps,
  organizationId: string,
  campaignId: string,
): Promise<Campaign> {
  const campaign = await campaignOf(deps, organizationId, campaignId);
  const paused = await deps.campaigns.setDialingState(campaign.pk, "paused", deps.clock.now());
  deps.log("campaign_paused", { campaignPk: campaign.pk });
  return paused ?? campaign;
}

/**
 * Resumes the campaign and sends the waiting calls of its imports to the queue again, except those
 * of imports paused on their own. Throws campaign_not_found (404).
 */
export async function resumeCampaign(
  deps: DialingControlDeps,
  organizationId: string,
  campaignId: string,
): Promise<Campaign> {
  const campaign = await campaignOf(deps, organizationId, campaignId);
  const resumed = await deps.campaigns.setDialingState(campaign.pk, "active", deps.clock.now());
  if (campaign.dialingState === "paused") {
    for (const importId of await deps.dialingControl.unfinishedImportsOfCampaign(campaign.pk)) {
      const imp = await deps.imports.findById(importId);
      if (imp?.dialingState === "active") await sendWaiting(deps, importId);
    }
  }
  deps.log("campaign_resumed", { campaignPk: campaign.pk });
  return resumed ?? campaign;
}

/**
 * Cancels every import of the campaign that still has work (see cancelImport); the campaign itself
 * stays, paused or not as it was, and takes new imports. Throws campaign_not_found (404).
 */
export async function cancelCampaign(
  deps: DialingControlDeps,
  organizationId: string,
  campaignId: string,
): Promise<{ campaign: Campaign; cancelled: Cancelled }> {
  const campaign = await campaignOf(deps, organizationId, campaignId);
  const importIds = await deps.dialingControl.unfinishedImportsOfCampaign(campaign.pk);
  const now = deps.clock.now();
  const result = await deps.dialingControl.cancelImports(importIds, {
    at: now,
    leaseExpiredBefore: now - CLAIM_LEASE_MS,
    callOrigin: BULK_ORIGIN,
  });
  deps.log("campaign_cancelled", { campaignPk: campaign.pk, imports: result.importIds.length });
  return {
    campaign,
    cancelled: { imports: result.importIds.length, calls: result.calls, runs: result.runs },
  };
}

/**
 * Sends an import's waiting work to the CALLS queue again: its unfinished call batches (customers
 * the consumer has not reached) and its waiting calls by id (retries, calls held by a limit or the
 * pause). Duplicates are harmless: every call goes through the atomic claim.
 */
async function sendWaiting(deps: DialingControlDeps, importId: string): Promise<void> {
  const now = deps.clock.now();
  const batches = (await deps.outbox.listForImport(importId)).filter(
    (b) => b.kind === "call" && b.state !== "done" && b.state !== "failed",
  );
  for (let i = 0; i < batches.length; i += 50) {
    const group = batches.slice(i, i + 50);
    await deps.callsQueue.sendBatch(
      group.map((b) => ({ body: { kind: "call", importId, batchNo: b.batchNo } })),
    );
    for (const b of group) await deps.outbox.markRequeued(b.id, now);
  }
  const waiting = await deps.calls.listWaiting(importId);
  if (waiting.length > 0) await sendDueCalls(deps.callsQueue, importId, waiting, now, now);
}
