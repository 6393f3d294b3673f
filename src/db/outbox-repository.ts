import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { dispatchBatches } from "./schema";

export type DispatchKind = "call" | "workflow";
export type DispatchBatchRow = typeof dispatchBatches.$inferSelect;

/**
 * The outbox rows, in batches of `batchSize`, for the customers that the statement just before this
 * one inserted, numbered on from the import's last batch. It must run right after the chunk's
 * INSERT in the same atomic batch. That INSERT tried `attempted` rows, each taking at most one id
 * (a row skipped by ON CONFLICT may take one too), and ids only grow, so its new rows are the
 * import's rows with an id in (last_insert_rowid() - attempted, last_insert_rowid()] — less those an
 * earlier chunk of the import already handed over (each batch records its highest id). The bounds
 * are MATERIALIZED so they are read once, before this statement inserts anything itself.
 */
export function pendingBatchesStatement(
  db: Db,
  importId: string,
  kind: DispatchKind,
  attempted: number,
  batchSize: number,
  at: number,
) {
  return db.run(sql`WITH inserted AS MATERIALIZED (
      SELECT last_insert_rowid() AS last, changes() AS n,
        MAX(last_insert_rowid() - ${attempted},
          COALESCE((SELECT MAX(max_customer_id) FROM dispatch_batches
            WHERE import_id = ${importId} AND kind = ${kind}), 0)) AS floor
    )
    INSERT INTO dispatch_batches (import_id, kind, batch_no, customer_ids, size, max_customer_id, state,
      send_attempts, created_at, updated_at)
    SELECT ${importId}, ${kind},
      (SELECT COALESCE(MAX(batch_no) + 1, 0) FROM dispatch_batches WHERE import_id = ${importId} AND kind = ${kind}) + grp,
      json_group_array(id), count(*), max(id), 'pending', 0, ${at}, ${at}
    FROM (
      SELECT c.id, (row_number() OVER (ORDER BY c.id) - 1) / CAST(${batchSize} AS INTEGER) AS grp
      FROM customers c, inserted
      WHERE inserted.n > 0 AND c.id > inserted.floor AND c.id <= inserted.last AND c.import_id = ${importId}
    )
    GROUP BY grp
    ORDER BY grp`);
}

/**
 * The row changes that record one send attempt. A failed attempt at request time restarts the row's
 * re-drive clock (`touchOnFailure`); a failed re-drive leaves it, so the next cron run tries again.
 */
export function sendOutcomeChanges(
  outcome: { sent: true } | { sent: false; error: string },
  at: number,
  options: { touchOnFailure: boolean },
) {
  const attempts = sql`${dispatchBatches.sendAttempts} + 1`;
  if (outcome.sent) return { state: "sent" as const, sendAttempts: attempts, lastError: null, updatedAt: at };
  return {
    sendAttempts: attempts,
    lastError: outcome.error.slice(0, 1000),
    ...(options.touchOnFailure ? { updatedAt: at } : {}),
  };
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
        .set(sendOutcomeChanges(outcome, at, { touchOnFailure: true }))
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
