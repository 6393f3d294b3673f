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

    // Raw SQL for the window functions: the group counts and the totals come in one statement, and
    // the examples of only the listed reasons in a second, so 10,000 distinct reasons read 10 rows.
    async failuresForImport(importId, limits) {
      const failed = sql`import_id = ${importId} AND status = 'failed' AND started_at IS NOT NULL`;
      const groups = await db.all<{ reason: string | null; runs: number; reasons: number; total: number }>(
        sql`SELECT last_error AS reason, count(*) AS runs, count(*) OVER () AS reasons,
            sum(count(*)) OVER () AS total
          FROM workflow_runs WHERE ${failed}
          GROUP BY last_error ORDER BY runs DESC, reason LIMIT ${limits.reasons}`,
      );
      const listed = groups.map((g) => g.reason ?? "");
      const examples =
        groups.length === 0
          ? []
          : await db.all<{
              reason: string;
              instance_id: string;
              customer_id: number;
              loan_id: string | null;
              lead_id: string | null;
            }>(sql`SELECT r.reason, r.instance_id, r.customer_id, c.loan_id, c.lead_id
              FROM (SELECT instance_id, customer_id, coalesce(last_error, '') AS reason,
                  row_number() OVER (PARTITION BY last_error ORDER BY customer_id) AS n
                FROM workflow_runs WHERE ${failed}
                  AND coalesce(last_error, '') IN (SELECT value FROM json_each(${JSON.stringify(listed)}))) r
              JOIN customers c ON c.id = r.customer_id
              WHERE r.n <= ${limits.examples}
              ORDER BY r.customer_id`);
      const listedRuns = groups.reduce((n, g) => n + Number(g.runs), 0);
      return {
        groups: groups.map((g) => ({
          reason: g.reason,
          runs: Number(g.runs),
          examples: examples
            .filter((e) => e.reason === (g.reason ?? ""))
            .map((e) => ({
              instanceId: e.instance_id,
              customerId: Number(e.customer_id),
              loanId: e.loan_id,
              leadId: e.lead_id,
            })),
        })),
        otherRuns: Number(groups[0]?.total ?? 0) - listedRuns,
        otherReasons: Number(groups[0]?.reasons ?? 0) - groups.length,
      };
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
