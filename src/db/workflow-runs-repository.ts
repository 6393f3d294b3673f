import { and, eq, notInArray, sql } from "drizzle-orm";
import type { WorkflowRunStatus } from "../domain/model/workflow";
import type { WorkflowRunsRepository } from "../domain/ports/workflow-runs-repository";
import type { Db } from "./client";
import { workflowRuns } from "./schema";
import { inList } from "./sql";

/** The Workflows instance id of a customer's run for one import: the same on every delivery. */
export function workflowInstanceId(importId: string, customerId: number): string {
  return `${importId}-c${customerId}`;
}

const TERMINAL: WorkflowRunStatus[] = ["completed", "failed"];

export function createWorkflowRunsRepository(db: Db): WorkflowRunsRepository {
  return {
    // Raw SQL for INSERT ... SELECT FROM json_each: one statement for a batch of 500.
    async ensureRuns(importId, batchNo, customerIds, at) {
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

    async markStarted(instanceIds, at) {
      if (instanceIds.length === 0) return;
      await db
        .update(workflowRuns)
        .set({
          status: sql`CASE WHEN ${workflowRuns.status} = 'queued' THEN 'started' ELSE ${workflowRuns.status} END`,
          startedAt: sql`COALESCE(${workflowRuns.startedAt}, ${at})`,
          updatedAt: at,
        })
        .where(inList(workflowRuns.instanceId, instanceIds));
    },

    // A run that reports anything has been started, even if its consumer died before recording that.
    async update(instanceId, change, at) {
      await db
        .update(workflowRuns)
        .set({ ...change, startedAt: sql`COALESCE(${workflowRuns.startedAt}, ${at})`, updatedAt: at })
        .where(and(eq(workflowRuns.instanceId, instanceId), notInArray(workflowRuns.status, TERMINAL)));
    },

    async find(instanceId) {
      return db.select().from(workflowRuns).where(eq(workflowRuns.instanceId, instanceId)).get();
    },

    async failNeverStarted(importId, batchNo, reason, at) {
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

    async countsForImport(importId) {
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
