import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { dispatchBatches } from "./schema";

export type DispatchKind = "call" | "workflow";
export type DispatchBatchRow = typeof dispatchBatches.$inferSelect;

/**
 * The outbox rows for the customers of `importId` not yet in one of its `kind` batches, in batches
 * of `batchSize`, numbered on from the import's last batch. Run in the same atomic batch right after
 * a chunk's INSERT, "not yet in a batch" is exactly what that chunk added: customer ids only grow,
 * each batch records its highest id, and an import's chunks commit one at a time. The id range scan
 * starts above `afterId`, so it never reads the table's older rows.
 */
export function pendingBatchesStatement(
  db: Db,
  importId: string,
  kind: DispatchKind,
  afterId: number,
  batchSize: number,
  at: number,
) {
  return db.run(sql`INSERT INTO dispatch_batches (import_id, kind, batch_no, customer_ids, size, max_customer_id,
      state, send_attempts, created_at, updated_at)
    SELECT ${importId}, ${kind},
      (SELECT COALESCE(MAX(batch_no) + 1, 0) FROM dispatch_batches WHERE import_id = ${importId} AND kind = ${kind}) + grp,
      json_group_array(id), count(*), max(id), 'pending', 0, ${at}, ${at}
    FROM (
      SELECT id, (row_number() OVER (ORDER BY id) - 1) / CAST(${batchSize} AS INTEGER) AS grp
      FROM customers
      WHERE id > COALESCE(
          (SELECT MAX(max_customer_id) FROM dispatch_batches WHERE import_id = ${importId} AND kind = ${kind}),
          ${afterId})
        AND import_id = ${importId}
    )
    GROUP BY grp
    ORDER BY grp`);
}

export function createOutboxRepository(db: Db) {
  return {
    /** Records the outcome of one send attempt for the given batches (still `pending` ones only). */
    async recordSendOutcome(
      importId: string,
      kind: DispatchKind,
      batchNos: number[],
      outcome: { sent: true } | { sent: false; error: string },
      at: number,
    ): Promise<void> {
      await db
        .update(dispatchBatches)
        .set(
          outcome.sent
            ? {
                state: "sent",
                sendAttempts: sql`${dispatchBatches.sendAttempts} + 1`,
                lastError: null,
                updatedAt: at,
              }
            : {
                sendAttempts: sql`${dispatchBatches.sendAttempts} + 1`,
                lastError: outcome.error,
                updatedAt: at,
              },
        )
        .where(
          and(
            eq(dispatchBatches.importId, importId),
            eq(dispatchBatches.kind, kind),
            eq(dispatchBatches.state, "pending"),
            sql`${dispatchBatches.batchNo} IN (SELECT value FROM json_each(${JSON.stringify(batchNos)}))`,
          ),
        );
    },

    async listForImport(importId: string): Promise<DispatchBatchRow[]> {
      return db
        .select()
        .from(dispatchBatches)
        .where(eq(dispatchBatches.importId, importId))
        .orderBy(dispatchBatches.kind, dispatchBatches.batchNo);
    },
  };
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
