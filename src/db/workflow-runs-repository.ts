import { and, eq, notInArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { workflowRuns } from "./schema";

export type WorkflowRunRow = typeof workflowRuns.$inferSelect;
export type WorkflowRunStatus = WorkflowRunRow["status"];

/** The Workflows instance id of a customer's run for one import: the same on every delivery. */
export function workflowInstanceId(importId: string, customerId: number): string {
  return `${importId}-c${customerId}`;
}

const TERMINAL: WorkflowRunStatus[] = ["completed", "failed"];

export function createWorkflowRunsRepository(db: Db) {
  return {
    /** Creates the batch's run rows (`queued`) unless they exist; returns every row of the batch. */
    async ensureRuns(importId: string, batchNo: number, customerIds: readonly number[], at: number) {
      const rows = customerIds.map((id) => [workflowInstanceId(importId, id), id]);
      await db.run(sql`INSERT INTO workflow_runs (instance_id, import_id, batch_no, customer_id, status,
          created_at, updated_at)
        SELECT value->>0, ${importId}, ${batchNo}, value->>1, 'queued', ${at}, ${at}
        FROM json_each(${JSON.stringify(rows)}) WHERE true
        ON CONFLICT (instance_id) DO NOTHING`);
      return db
        .select()
        .from(workflowRuns)
        .where(and(eq(workflowRuns.importId, importId), eq(workflowRuns.batchNo, batchNo)));
    },

    /**
     * Runs whose instance now exists. The instance may already have reported itself running (it
     * starts at once), so only `queued` moves to `started`, while the start time is always kept.
     */
    async markStarted(instanceIds: readonly string[], at: number): Promise<void> {
      if (instanceIds.length === 0) return;
      await db
        .update(workflowRuns)
        .set({
          status: sql`CASE WHEN ${workflowRuns.status} = 'queued' THEN 'started' ELSE ${workflowRuns.status} END`,
          startedAt: sql`COALESCE(${workflowRuns.startedAt}, ${at})`,
          updatedAt: at,
        })
        .where(
          sql`${workflowRuns.instanceId} IN (SELECT value FROM json_each(${JSON.stringify(instanceIds)}))`,
        );
    },

    /**
     * Records a run's progress, from inside the run; a finished run is never moved back. A run that
     * reports anything has been started, even if its consumer died before recording that.
     */
    async update(
      instanceId: string,
      change: { status: WorkflowRunStatus; step?: number; outcome?: string; lastError?: string },
      at: number,
    ): Promise<void> {
      await db
        .update(workflowRuns)
        .set({ ...change, startedAt: sql`COALESCE(${workflowRuns.startedAt}, ${at})`, updatedAt: at })
        .where(and(eq(workflowRuns.instanceId, instanceId), notInArray(workflowRuns.status, TERMINAL)));
    },

    async find(instanceId: string): Promise<WorkflowRunRow | undefined> {
      return db.select().from(workflowRuns).where(eq(workflowRuns.instanceId, instanceId)).get();
    },

    /**
     * Fails the batch's runs that never got an instance (the dead-letter queue gave up on starting
     * them); runs already started carry on and report their own outcome.
     */
    async failNeverStarted(importId: string, batchNo: number, reason: string, at: number): Promise<void> {
      await db
        .update(workflowRuns)
        .set({ status: "failed", lastError: reason, updatedAt: at })
        .where(
          and(
            eq(workflowRuns.importId, importId),
            eq(workflowRuns.batchNo, batchNo),
            eq(workflowRuns.status, "queued"),
          ),
        );
    },

    /** Runs per status, and how many of them were ever started. */
    async countsForImport(
      importId: string,
    ): Promise<{ status: WorkflowRunStatus; n: number; started: number }[]> {
      return db
        .select({
          status: workflowRuns.status,
          n: sql<number>`count(*)`,
          started: sql<number>`count(${workflowRuns.startedAt})`,
        })
        .from(workflowRuns)
        .where(eq(workflowRuns.importId, importId))
        .groupBy(workflowRuns.status);
    },
  };
}
export type WorkflowRunsRepository = ReturnType<typeof createWorkflowRunsRepository>;
