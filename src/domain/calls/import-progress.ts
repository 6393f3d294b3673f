// GET /api/v1/imports/{importId}: the stored counts of a bulk request plus the live progress of
// everything it set in motion. Every customer handed to the call queue is in exactly one call
// bucket, so requested = queued + delayed + dispatched + skipped + failed + completed.
import type { CallsRepository } from "../../db/calls-repository";
import type { CampaignsRepository } from "../../db/campaigns-repository";
import type { ImportsRepository } from "../../db/imports-repository";
import type { DispatchBatchRow, OutboxRepository } from "../../db/outbox-repository";
import { DomainError } from "../errors";
import { BULK_ORIGIN } from "./dispatch-call-batch";

export interface BatchError {
  batch: number;
  customers: number;
  message: string;
}

export interface CallProgress {
  requested: number;
  /** Waiting for the consumer, or being handed to the dialer right now. */
  queued: number;
  dispatched: number;
  delayed: number;
  skipped: Record<string, number>;
  failed: number;
  completed: number;
  /** Batches the dead-letter queue gave up on, with the reason. */
  errors: BatchError[];
}

export interface WorkflowProgress {
  requested: number;
  started: number;
  running: number;
  completed: number;
  failed: number;
  errors: BatchError[];
}

export interface ImportProgress {
  importId: string;
  campaignId: string;
  createdAt: number;
  results: {
    total: number;
    valid: number;
    invalid: number;
    successful: number;
    failed: number;
    batchesProcessed: number;
  };
  calls: CallProgress;
  workflows: WorkflowProgress;
}

export interface ImportProgressDeps {
  imports: ImportsRepository;
  campaigns: CampaignsRepository;
  outbox: OutboxRepository;
  calls: CallsRepository;
}

export async function getImportProgress(
  deps: ImportProgressDeps,
  organizationId: string,
  importId: string,
): Promise<ImportProgress> {
  const imp = await deps.imports.find(organizationId, importId);
  if (!imp) throw new DomainError("not_found", `Import "${importId}" does not exist.`);
  const [campaign, batches, counts] = await Promise.all([
    deps.campaigns.findCampaignByPk(imp.campaignPk),
    deps.outbox.listForImport(importId),
    deps.calls.countsForImport(importId, BULK_ORIGIN),
  ]);

  const callBatches = batches.filter((b) => b.kind === "call");
  const calls: CallProgress = {
    requested: sum(callBatches),
    queued: 0,
    dispatched: 0,
    delayed: 0,
    skipped: {},
    failed: 0,
    completed: 0,
    errors: failedBatches(callBatches),
  };
  let withRows = 0;
  for (const c of counts) {
    withRows += c.n;
    switch (c.status) {
      case "queued":
      case "dispatching":
        calls.queued += c.n;
        break;
      case "skipped": {
        const reason = c.reason ?? "other";
        calls.skipped[reason] = (calls.skipped[reason] ?? 0) + c.n;
        break;
      }
      default:
        calls[c.status] += c.n;
    }
  }
  // Customers whose batch the consumer has not reached yet have no call row: they are queued.
  calls.queued += Math.max(0, calls.requested - withRows);

  return {
    importId: imp.id,
    campaignId: campaign?.id ?? "",
    createdAt: imp.createdAt,
    results: {
      total: imp.total,
      valid: imp.valid,
      invalid: imp.invalid,
      successful: imp.successful,
      failed: imp.failed,
      batchesProcessed: imp.batchesProcessed,
    },
    calls,
    workflows: workflowProgress(batches.filter((b) => b.kind === "workflow")),
  };
}

/**
 * Until workflow runs report their own state, the outbox is what is known: how many customers were
 * handed to the workflow queue, and which batches the dead-letter queue gave up on.
 */
function workflowProgress(batches: DispatchBatchRow[]): WorkflowProgress {
  const errors = failedBatches(batches);
  return {
    requested: sum(batches),
    started: 0,
    running: 0,
    completed: 0,
    failed: errors.reduce((n, e) => n + e.customers, 0),
    errors,
  };
}

function sum(batches: DispatchBatchRow[]): number {
  return batches.reduce((n, b) => n + b.size, 0);
}

function failedBatches(batches: DispatchBatchRow[]): BatchError[] {
  return batches
    .filter((b) => b.state === "failed")
    .map((b) => ({ batch: b.batchNo, customers: b.size, message: b.lastError ?? "failed" }));
}
