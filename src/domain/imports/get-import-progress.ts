// GET /api/v1/imports/{importId} (and /initiations/{id}): the stored counts of a request plus the
// live progress of everything it set in motion. Every customer handed to the call queue is in
// exactly one call bucket, so requested = queued + delayed + dispatched + skipped + failed +
// completed + cancelled.

import { BULK_ORIGIN } from "../calls/dispatch-call-batch";
import { DomainError } from "../errors";
import { type Decision, decisionOf } from "../model/call";
import type { Campaign } from "../model/campaign";
import type { Import, ImportCounts, ImportKind, ImportState, RefreshCounts } from "../model/imports";
import type { OutboxBatch } from "../model/outbox";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { RunFailures, WorkflowRunsRepository } from "../ports/workflow-runs-repository";
import { hasWorkLeft } from "./work-left";

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
  /** The delayed calls by the reason they wait. */
  delayedBy: Record<string, number>;
  skipped: Record<string, number>;
  failed: number;
  completed: number;
  /**
   * Stopped before dialling: the import (or its campaign) was cancelled, the customer erased or the
   * campaign deleted.
   */
  cancelled: number;
  /** Batches the dead-letter queue gave up on, with the reason. */
  errors: BatchError[];
  /** The decision log of these calls, counted per decision and reason. */
  decisions: { decision: Decision; reason: string | null; count: number }[];
}

/**
 * Whether the import's calls go to the dialer: `active`, `paused` (the import, or its campaign:
 * `pausedBy`), `cancelled`, or `finished` when nothing is left to do (every call and run final).
 */
export interface DialingStatus {
  status: "active" | "paused" | "cancelled" | "finished";
  pausedBy: "import" | "campaign" | null;
  pausedAt: number | null;
  cancelledAt: number | null;
}

/** Started runs that failed for the same reason, with a few of them to look up. */
export interface RunFailureError {
  customers: number;
  message: string;
  examples: { customerId: number; loan_id: string | null; lead_id: string | null; instanceId: string }[];
}

export interface WorkflowProgress {
  requested: number;
  started: number;
  running: number;
  completed: number;
  failed: number;
  /** Dead-lettered batches first, then the reasons started runs failed for, the most frequent first. */
  errors: (BatchError | RunFailureError)[];
}

/**
 * How many failure reasons, and examples of each, the progress lists: an operator acts on the first
 * few, and 10,000 runs failing for 10,000 different reasons still make an answer of a few KB.
 */
export const FAILURE_REASONS_LISTED = 10;
export const FAILURE_EXAMPLES = 3;

/**
 * The request's counts as stored. While its attempt runs nothing is final yet: every record is
 * `pending`, so valid + invalid + pending = total and successful + failed + pending = total hold at
 * every moment; pending is 0 once the import has completed or failed.
 */
export interface ImportResults extends ImportCounts, Partial<RefreshCounts> {
  pending: number;
  /** For an initiation: the customers its filters matched. */
  matched?: number;
}

export interface ImportProgress {
  importId: string;
  kind: ImportKind;
  campaignId: string;
  /** processing (an attempt holds it), failed (a retry with the key resumes it), completed. */
  state: ImportState;
  /** The attempt number, and while processing, until when (unix ms) the attempt holds the import. */
  attempt: { number: number; leaseExpiresAt: number | null };
  createdAt: number;
  /** With onExisting "update", also how the successful records split; for an initiation, `matched`. */
  results: ImportResults;
  dialing: DialingStatus;
  calls: CallProgress;
  workflows: WorkflowProgress;
}

export interface ImportProgressDeps {
  imports: ImportsRepository;
  campaigns: CampaignsRepository;
  outbox: OutboxRepository;
  calls: CallsRepository;
  workflowRuns: WorkflowRunsRepository;
}

export async function getImportProgress(
  deps: ImportProgressDeps,
  organizationId: string,
  importId: string,
): Promise<ImportProgress> {
  const imp = await deps.imports.find(organizationId, importId);
  if (!imp) throw new DomainError("not_found", `Import "${importId}" does not exist.`);
  const [campaign, batches, counts, decisions, runCounts, runFailures, unfinishedCalls] = await Promise.all([
    deps.campaigns.findCampaignByPk(imp.campaignPk),
    deps.outbox.listForImport(importId),
    deps.calls.countsForImport(importId, BULK_ORIGIN),
    deps.calls.decisionCounts(importId, BULK_ORIGIN),
    deps.workflowRuns.countsForImport(importId),
    deps.workflowRuns.failuresForImport(importId, {
      reasons: FAILURE_REASONS_LISTED,
      examples: FAILURE_EXAMPLES,
    }),
    deps.calls.hasUnfinished(importId),
  ]);

  const callBatches = batches.filter((b) => b.kind === "call");
  const calls: CallProgress = {
    requested: sum(callBatches),
    queued: 0,
    dispatched: 0,
    delayed: 0,
    delayedBy: {},
    skipped: {},
    failed: 0,
    completed: 0,
    cancelled: 0,
    errors: failedBatches(callBatches),
    decisions: decisions
      .map((d) => ({ decision: decisionOf(d.status, d.reason), reason: d.reason, count: d.n }))
      .sort((a, b) => b.count - a.count || a.decision.localeCompare(b.decision)),
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
      case "delayed": {
        calls.delayed += c.n;
        const reason = c.reason ?? "other";
        calls.delayedBy[reason] = (calls.delayedBy[reason] ?? 0) + c.n;
        break;
      }
      default:
        calls[c.status as "dispatched" | "failed" | "completed" | "cancelled"] += c.n;
    }
  }
  // Customers whose batch the consumer has not reached yet have no call row: they are queued.
  calls.queued += Math.max(0, calls.requested - withRows);

  const workflows = workflowProgress(
    batches.filter((b) => b.kind === "workflow"),
    runCounts,
    runFailures,
  );
  const unfinished = hasWorkLeft({
    batches,
    callRows: withRows,
    unfinishedCalls,
    runsLeft: workflows.requested > workflows.completed + workflows.failed,
  });

  const processing = imp.state === "processing";
  return {
    importId: imp.id,
    kind: imp.kind,
    campaignId: campaign?.id ?? "",
    state: imp.state,
    attempt: { number: imp.attempt, leaseExpiresAt: processing ? imp.leaseExpiresAt : null },
    createdAt: imp.createdAt,
    results: processing
      ? {
          total: imp.total,
          valid: 0,
          invalid: 0,
          successful: 0,
          failed: 0,
          batchesProcessed: 0,
          pending: imp.total,
        }
      : {
          total: imp.total,
          valid: imp.valid,
          invalid: imp.invalid,
          successful: imp.successful,
          failed: imp.failed,
          batchesProcessed: imp.batchesProcessed,
          pending: 0,
          ...(imp.added === null ? {} : { added: imp.added }),
          ...(imp.updated === null ? {} : { updated: imp.updated }),
          ...(imp.unchanged === null ? {} : { unchanged: imp.unchanged }),
          ...(imp.matched === null ? {} : { matched: imp.matched }),
        },
    dialing: dialingStatus(imp, campaign, unfinished),
    calls,
    workflows,
  };
}

/** The import's dialing status (see DialingStatus). */
function dialingStatus(
  imp: Import,
  campaign: Pick<Campaign, "dialingState" | "pausedAt"> | undefined,
  unfinished: boolean,
): DialingStatus {
  const base = { pausedAt: null, cancelledAt: imp.cancelledAt, pausedBy: null };
  if (imp.dialingState === "cancelled") return { ...base, status: "cancelled" };
  if (!unfinished) return { ...base, status: "finished" };
  if (imp.dialingState === "paused") {
    return { ...base, status: "paused", pausedBy: "import", pausedAt: imp.pausedAt };
  }
  if (campaign?.dialingState === "paused") {
    return { ...base, status: "paused", pausedBy: "campaign", pausedAt: campaign.pausedAt };
  }
  return { ...base, status: "active" };
}

/**
 * Every customer handed to the workflow queue has a run once its batch is consumed: `started` counts
 * runs whose Workflows instance exists (whatever happened since), `running` the started ones not
 * finished yet, `completed` those that finished (or stopped because the customer paid), `failed`
 * those that failed or were never started because the dead-letter queue gave up on their batch.
 */
function workflowProgress(
  batches: OutboxBatch[],
  runs: { status: "queued" | "started" | "running" | "completed" | "failed"; n: number; started: number }[],
  failures: RunFailures,
): WorkflowProgress {
  const n = (status: string) => runs.find((r) => r.status === status)?.n ?? 0;
  return {
    requested: sum(batches),
    started: runs.reduce((total, r) => total + r.started, 0),
    running: n("started") + n("running"),
    completed: n("completed"),
    failed: n("failed"),
    errors: [...failedBatches(batches), ...runFailureErrors(failures)],
  };
}

function runFailureErrors(failures: RunFailures): RunFailureError[] {
  const errors: RunFailureError[] = failures.groups.map((g) => ({
    customers: g.runs,
    message:
      g.reason ??
      "the run failed without recording a reason: see its instance (wrangler workflows instances describe bulkcall-customer-workflow <instanceId>)",
    examples: g.examples.map((e) => ({
      customerId: e.customerId,
      loan_id: e.loanId,
      lead_id: e.leadId,
      instanceId: e.instanceId,
    })),
  }));
  if (failures.otherRuns > 0) {
    errors.push({
      customers: failures.otherRuns,
      message: `${failures.otherRuns} more runs failed for ${failures.otherReasons} other reasons (only the ${FAILURE_REASONS_LISTED} most frequent reasons are listed)`,
      examples: [],
    });
  }
  return errors;
}

function sum(batches: OutboxBatch[]): number {
  return batches.reduce((n, b) => n + b.size, 0);
}

function failedBatches(batches: OutboxBatch[]): BatchError[] {
  return batches
    .filter((b) => b.state === "failed")
    .map((b) => ({ batch: b.batchNo, customers: b.size, message: b.lastError ?? "failed" }));
}
