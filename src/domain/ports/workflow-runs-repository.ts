import type { WorkflowRun, WorkflowRunStatus } from "../model/workflow";

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
  /** Runs per status, and how many of them were ever started. */
  countsForImport(importId: string): Promise<{ status: WorkflowRunStatus; n: number; started: number }[]>;
}
