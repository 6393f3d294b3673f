import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { dispatchBatches } from "./schema";

export type DispatchKind = "call" | "workflow";
export type DispatchBatchRow = typeof dispatchBatches.$inferSelect;

export interface NewDispatchBatch {
  batchNo: number;
  customerIds: number[];
}

export function createOutboxRepository(db: Db) {
  return {
    /** Writes every batch of one import as `pending` in one statement (one JSON parameter). */
    async insertPending(importId: string, kind: DispatchKind, batches: NewDispatchBatch[], at: number) {
      if (batches.length === 0) return;
      const json = JSON.stringify(
        batches.map((b) => [b.batchNo, JSON.stringify(b.customerIds), b.customerIds.length]),
      );
      await db.run(sql`INSERT INTO dispatch_batches (import_id, kind, batch_no, customer_ids, size, state,
          send_attempts, created_at, updated_at)
        SELECT ${importId}, ${kind}, value->>0, value->>1, value->>2, 'pending', 0, ${at}, ${at}
        FROM json_each(${json}) WHERE true
        ON CONFLICT (import_id, kind, batch_no) DO NOTHING`);
    },

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
