import { and, asc, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { DispatchKind, OutboxBatch } from "../domain/model/outbox";
import type { OutboxRepository, SendOutcome } from "../domain/ports/outbox-repository";
import type { Db } from "./client";
import { outboxBatches } from "./schema";
import { inList } from "./sql";

/**
 * The outbox batches, in batches of `batchSize`, for the customers that the statement just before
 * this one inserted, numbered on from the import's last batch. It must run right after the chunk's
 * INSERT in the same atomic batch. That INSERT tried `attempted` rows, each taking at most one id
 * (a row skipped by ON CONFLICT may take one too), and ids only grow, so its new rows are the
 * import's rows with an id in (last_insert_rowid() - attempted, last_insert_rowid()] — less those an
 * earlier chunk of the import already handed over (each batch records its highest id). The bounds
 * are MATERIALIZED so they are read once, before this statement inserts anything itself. Raw SQL:
 * the query builder has no window functions, CTE materialization or changes()/last_insert_rowid().
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
          COALESCE((SELECT MAX(max_customer_id) FROM outbox_batches
            WHERE import_id = ${importId} AND kind = ${kind}), 0)) AS floor
    )
    INSERT INTO outbox_batches (import_id, kind, batch_no, customer_ids, size, max_customer_id, state,
      send_attempts, created_at, updated_at)
    SELECT ${importId}, ${kind},
      (SELECT COALESCE(MAX(batch_no) + 1, 0) FROM outbox_batches WHERE import_id = ${importId} AND kind = ${kind}) + grp,
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
function sendOutcomeChanges(outcome: SendOutcome, at: number, options: { touchOnFailure: boolean }) {
  const attempts = sql`${outboxBatches.sendAttempts} + 1`;
  if (outcome.sent) return { state: "sent" as const, sendAttempts: attempts, lastError: null, updatedAt: at };
  return {
    sendAttempts: attempts,
    lastError: outcome.error.slice(0, 1000),
    ...(options.touchOnFailure ? { updatedAt: at } : {}),
  };
}

function toOutboxBatch(row: typeof outboxBatches.$inferSelect): OutboxBatch {
  return { ...row, customerIds: JSON.parse(row.customerIds) as number[] };
}

/** Batches still in flight; every state change is guarded by it, so a finished batch stays finished. */
const live = inArray(outboxBatches.state, ["pending", "sent", "processing"]);

export function createOutboxRepository(db: Db): OutboxRepository {
  const b = outboxBatches;
  async function setLive(id: number, changes: Partial<typeof outboxBatches.$inferInsert>) {
    await db
      .update(b)
      .set(changes)
      .where(and(eq(b.id, id), live));
  }
  return {
    async recordSendOutcome(importId, kind, batchNos, outcome, at) {
      await db
        .update(b)
        .set(sendOutcomeChanges(outcome, at, { touchOnFailure: true }))
        .where(
          and(
            eq(b.importId, importId),
            eq(b.kind, kind),
            eq(b.state, "pending"),
            inList(b.batchNo, batchNos),
          ),
        );
    },

    async listForImport(importId) {
      const rows = await db.select().from(b).where(eq(b.importId, importId)).orderBy(b.kind, b.batchNo);
      return rows.map(toOutboxBatch);
    },

    async find(importId, kind, batchNo) {
      const row = await db
        .select()
        .from(b)
        .where(and(eq(b.importId, importId), eq(b.kind, kind), eq(b.batchNo, batchNo)))
        .get();
      return row ? toOutboxBatch(row) : undefined;
    },

    markProcessing: (id, at) => setLive(id, { state: "processing", updatedAt: at }),
    markDone: (id, at) => setLive(id, { state: "done", lastError: null, updatedAt: at }),
    markRequeued: (id, at) => setLive(id, { state: "sent", lastError: null, updatedAt: at }),
    recordError: (id, error, at) => setLive(id, { lastError: error.slice(0, 1000), updatedAt: at }),
    markFailed: (id, reason, at) =>
      setLive(id, { state: "failed", lastError: reason.slice(0, 1000), updatedAt: at }),

    async listStale(options) {
      const rows = await db
        .select()
        .from(b)
        .where(
          and(
            or(
              and(eq(b.state, "pending"), lt(b.updatedAt, options.pendingBefore)),
              and(
                inArray(b.state, ["sent", "processing"]),
                lt(b.updatedAt, options.stuckBefore),
                sql`NOT EXISTS (SELECT 1 FROM calls c
                WHERE ${b.kind} = 'call' AND c.import_id = ${b.importId} AND c.batch_no = ${b.batchNo}
                  AND c.status = 'delayed' AND c.not_before >= ${options.stuckBefore})`,
              ),
            ),
            // A paused import's or campaign's call batches hold no message on purpose: resuming sends them.
            sql`NOT EXISTS (SELECT 1 FROM imports i JOIN campaigns ca ON ca.pk = i.campaign_pk
            WHERE ${b.kind} = 'call' AND i.id = ${b.importId}
              AND (i.dialing_state = 'paused' OR ca.dialing_state = 'paused'))`,
          ),
        )
        .orderBy(asc(b.updatedAt))
        .limit(options.limit);
      return rows.map(toOutboxBatch);
    },

    async recordRedrive(batchIds, outcome, at) {
      if (batchIds.length === 0) return;
      await db
        .update(b)
        .set(sendOutcomeChanges(outcome, at, { touchOnFailure: false }))
        .where(and(inList(b.id, batchIds), live));
    },
  };
}
