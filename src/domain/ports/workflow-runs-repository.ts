import type { WorkflowRun, WorkflowRunStatus } from "../model/workflow";

/** Failed runs that recorded the same reason. */
export interface RunFailureGroup {
  /** The recorded reason; null for runs that recorded none. */
  reason: string | null;
  runs: number;
  /** A few of those runs, lowest customer id first. */
  examples: { instanceId: string; customerId: number; loanId: string | null; leadId: string | null }[];
}

export interface RunFailures {
  /** The most frequent reasons first (ties by reason), at most `limits.reasons` of them. */
  groups: RunFailureGroup[];
  /** Failed runs whose reason is not among `groups`, and how many distinct reasons they have. */
  otherRuns: number;
  otherReasons: number;
}

export interface WorkflowRunsRepository {
  /** Creates the batch's run rows (`queued`) unless they exist; returns every row of the batch. */
  ensureRuns(
    importId: string,
    batchNo: number,
    customerIds: readonly number[],
    at: number,
  ): Promise<WorkflowRun[]>;
  /**
   * Runs whose instance now exists. The instance may already have reported itself running (it
   * starts at once), so only `queued` moves to `started`, while the start time is always kept.
   */
  markStarted(instanceIds: readonly string[], at: number): Promise<void>;
  /** Records a run's progress, from inside the run; a finished run is never moved back. */
  update(
    instanceId: string,
    change: { status: WorkflowRunStatus; step?: number; outcome?: string; lastError?: string },
    at: number,
  ): Promise<void>;
  find(instanceId: string): Promise<WorkflowRun | undefined>;
  /** Fails the batch's runs that never got an instance (the dead-letter queue gave up on them). */
  failNeverStarted(importId: string, batchNo: number, reason: string, at: number): Promise<void>;
  /**
   * Why an import's runs failed after they started (runs that never started are their batch's
   * failure, reported with the batch): grouped by reason, bounded by `limits`.
   */
  failuresForImport(importId: string, limits: { reasons: number; examples: number }): Promise<RunFailures>;
  /** Runs per status, and how many of them were ever started. */
  countsForImport(importId: string): Promise<{ status: WorkflowRunStatus; n: number; started: number }[]>;
}
