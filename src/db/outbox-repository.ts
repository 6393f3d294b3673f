import { and, asc, eq, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { DispatchKind, OutboxBatch, WrittenBatch } from "../domain/model/outbox";
import type { OutboxRepository, SendOutcome, SendRecord } from "../domain/ports/outbox-repository";
import { toCampaign } from "./campaigns-repository";
import type { Db } from "./client";
import { customerFilterSql, filteredCustomers } from "./customer-filter";
import { becomesCallable } from "./customer-rows";
import { campaigns, imports, organizations, outboxBatches } from "./schema";
import { inList } from "./sql";
import { toOrganization } from "./tenancy-repository";

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
  return db.all<WrittenBatch>(sql`WITH inserted AS MATERIALIZED (
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
    ORDER BY grp
    RETURNING kind, batch_no AS batchNo, size`);
}

/**
 * The ids of the campaign's customers handed to the call queue whose batch no consumer has reached
 * yet (no call row exists for it), outside the import `exceptImportId`. Such batches only live
 * between a hand-off and its consumer: outbox_batches_state finds the batches in flight (of every
 * campaign, a transient set), calls_import_batch tells whether the consumer made their rows.
 */
function awaitingConsumerSql(campaignPk: number, exceptImportId: string) {
  return sql`SELECT j.value AS id
    FROM outbox_batches o INDEXED BY outbox_batches_state CROSS JOIN imports i ON i.id = o.import_id,
      json_each(o.customer_ids) j
    WHERE o.state IN ('pending', 'sent', 'processing') AND o.kind = 'call' AND i.campaign_pk = ${campaignPk}
      AND o.import_id != ${exceptImportId}
      AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.import_id = o.import_id AND k.batch_no = o.batch_no)`;
}

/**
 * True when an update with chunk row `j` hands stored customer `c` (aliases) to the call queue again:
 * it becomes callable (customer-rows.ts becomesCallable) and has no call waiting — no queued,
 * delayed or dispatching call row, and not among `awaitingConsumer` (handed over in a batch no
 * consumer has reached). The recall's write and a dry run's probe both read this condition.
 */
export function recalled(c: string, j: string, awaitingConsumer: readonly number[]): SQL {
  return sql`${becomesCallable(c, j)}
        AND NOT EXISTS (SELECT 1 FROM calls k
          WHERE k.customer_id = ${sql.raw(c)}.id AND k.status IN ('queued', 'delayed', 'dispatching'))
        AND ${sql.raw(c)}.id NOT IN (SELECT value FROM json_each(${JSON.stringify(awaitingConsumer)}))`;
}

/**
 * The outbox batches, in batches of `batchSize`, for the customers of a chunk (positional JSON rows,
 * see customers-repository.ts) that an upsert with onExisting "update" is about to make callable
 * again: a stored customer whose emi_due_date, lead_date or payment_status the chunk changes, who is
 * not paid or received afterwards, and who has no call waiting already (a waiting call dials the
 * customer as the update leaves it, so a second one would ring twice): no waiting call row, and not
 * among `awaitingConsumer` (customersAwaitingConsumer, read once per request rather than per chunk).
 * It runs right BEFORE the upsert in the same atomic batch, while the stored values are still there
 * to compare with. Numbered on from the import's last batch. CROSS JOIN keeps the chunk's rows the outer loop: one
 * probe of the unique (campaign, key) index each.
 */
export function recallBatchesStatement(
  db: Db,
  importId: string,
  campaignPk: number,
  json: string,
  batchSize: number,
  at: number,
  awaitingConsumer: readonly number[],
) {
  return db.all<WrittenBatch>(sql`INSERT INTO outbox_batches (import_id, kind, batch_no, customer_ids, size, max_customer_id,
      state, send_attempts, created_at, updated_at)
    SELECT ${importId}, 'call',
      (SELECT COALESCE(MAX(batch_no) + 1, 0) FROM outbox_batches WHERE import_id = ${importId} AND kind = 'call') + grp,
      json_group_array(id), count(*), max(id), 'pending', 0, ${at}, ${at}
    FROM (
      SELECT c.id, (row_number() OVER (ORDER BY c.id) - 1) / CAST(${batchSize} AS INTEGER) AS grp
      FROM json_each(${json}) j CROSS JOIN customers c ON c.campaign_pk = ${campaignPk} AND c.dedupe_key = j.value->>0
      WHERE ${recalled("c", "j", awaitingConsumer)}
    )
    GROUP BY grp
    ORDER BY grp
    RETURNING kind, batch_no AS batchNo, size`);
}

/**
 * One outbox batch of a call initiation: the next `batchSize` customers of the campaign matching
 * the filter, in id order after the highest id the initiation already holds, and no more than
 * `limit` in all. Every input comes from the database, so a run of these statements in one atomic
 * batch walks the campaign without a round trip per batch, and a retry continues where the last
 * committed one stopped. Returns no row when nothing was left to select.
 */
function selectBatchStatement(
  db: Db,
  importId: string,
  campaignPk: number,
  filter: Parameters<typeof customerFilterSql>[1],
  batchSize: number,
  limit: number,
  at: number,
) {
  const mine = sql`FROM outbox_batches WHERE import_id = ${importId} AND kind = 'call'`;
  return db.all<{ batch_no: number; size: number }>(sql`INSERT INTO outbox_batches (import_id, kind, batch_no,
      customer_ids, size, max_customer_id, state, send_attempts, created_at, updated_at)
    SELECT ${importId}, 'call', (SELECT COALESCE(MAX(batch_no) + 1, 0) ${mine}),
      json_group_array(id), count(*), max(id), 'pending', 0, ${at}, ${at}
    FROM (
      SELECT c.id FROM ${filteredCustomers(filter)}
      WHERE ${customerFilterSql(campaignPk, filter)}
        AND c.id > (SELECT COALESCE(MAX(max_customer_id), 0) ${mine})
      ORDER BY c.id
      LIMIT max(0, min(${batchSize}, ${limit} - (SELECT COALESCE(SUM(size), 0) ${mine})))
    )
    HAVING count(*) > 0
    RETURNING batch_no, size`);
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

/**
 * Records one send attempt at request time for these batches of the import (still `pending` ones
 * only). A statement, so that the import's completion can carry it in its own atomic write.
 */
export function recordSendStatement(db: Db, importId: string, record: SendRecord, at: number) {
  return db
    .update(outboxBatches)
    .set(sendOutcomeChanges(record.outcome, at, { touchOnFailure: true }))
    .where(
      and(
        eq(outboxBatches.importId, importId),
        eq(outboxBatches.kind, record.kind),
        eq(outboxBatches.state, "pending"),
        inList(outboxBatches.batchNo, record.batchNos),
      ),
    );
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
      await recordSendStatement(db, importId, { kind, batchNos, outcome }, at);
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

    async findCallBatch(importId, batchNo) {
      const row = await db
        .select({ batch: b, imp: imports, campaign: campaigns, organization: organizations })
        .from(b)
        .leftJoin(imports, eq(imports.id, b.importId))
        .leftJoin(campaigns, eq(campaigns.pk, imports.campaignPk))
        .leftJoin(organizations, eq(organizations.id, imports.organizationId))
        .where(and(eq(b.importId, importId), eq(b.kind, "call"), eq(b.batchNo, batchNo)))
        .get();
      if (!row) return undefined;
      return {
        batch: toOutboxBatch(row.batch),
        import: row.imp ?? undefined,
        campaign: row.campaign ? toCampaign(row.campaign) : undefined,
        organization: row.organization ? toOrganization(row.organization) : undefined,
      };
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

    // Raw SQL: json_each over the batches' id lists.
    async customersAwaitingConsumer(campaignPk, exceptImportId) {
      const rows = await db.all<{ id: number }>(awaitingConsumerSql(campaignPk, exceptImportId));
      return rows.map((r) => Number(r.id));
    },

    async selectIntoBatches(importId, campaignPk, filter, options) {
      const created: { batchNo: number; size: number }[] = [];
      for (;;) {
        const statements = Array.from({ length: options.batchesPerWrite }, () =>
          selectBatchStatement(
            db,
            importId,
            campaignPk,
            filter,
            options.batchSize,
            options.limit,
            options.at,
          ),
        );
        const results = (await db.batch(
          statements as [(typeof statements)[number], ...typeof statements],
        )) as { batch_no: number; size: number }[][];
        const rows = results.flat();
        for (const r of rows) created.push({ batchNo: Number(r.batch_no), size: Number(r.size) });
        // A statement that found nothing means the walk is over; the ones after it found nothing too.
        if (rows.length < statements.length) return created;
      }
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
