// Call rows, call events, and the consumer's side of the outbox (dispatch_batches state changes).
// Every list of ids travels as one JSON parameter expanded by json_each: D1 binds at most 100
// parameters per statement and a batch holds up to 500 customers.
import { and, asc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type DispatchBatchRow, type DispatchKind, sendOutcomeChanges } from "./outbox-repository";
import { calls, customers, dispatchBatches, imports } from "./schema";

export type CallRow = typeof calls.$inferSelect;
export type CallStatus = CallRow["status"];
export const CALL_STATUSES = [
  "queued",
  "delayed",
  "dispatching",
  "dispatched",
  "skipped",
  "failed",
  "completed",
] as const satisfies readonly CallStatus[];
export type ImportRow = typeof imports.$inferSelect;

export interface NewCalls {
  organizationId: string;
  campaignPk: number;
  importId: string;
  batchNo: number;
  origin: string;
  customers: readonly { id: number; phoneNumber: string }[];
  at: number;
}

export interface ClaimedCall {
  id: string;
  customerId: number;
  attempts: number;
}

export interface CallListItem extends CallRow {
  loanId: string | null;
  leadId: string | null;
}

export interface CallEventToRecord {
  eventId: string;
  callId: string;
  status: "completed" | "failed";
  reason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  occurredAt: number;
  payload: string;
}

export interface StatusCount {
  status: CallStatus;
  reason: string | null;
  n: number;
}

const ids = (values: readonly (string | number)[]) => JSON.stringify(values);

/** Rows nobody is working on: waiting ones, and claims whose holder died (older than the lease). */
const claimable = (leaseExpiredBefore: number) =>
  sql`(status IN ('queued', 'delayed') OR (status = 'dispatching' AND claimed_at < ${leaseExpiredBefore}))`;

export function createCallsRepository(db: Db) {
  async function findCalls(
    importId: string,
    origin: string,
    customerIds: readonly number[],
  ): Promise<CallRow[]> {
    if (customerIds.length === 0) return [];
    return db
      .select()
      .from(calls)
      .where(
        and(
          eq(calls.importId, importId),
          eq(calls.origin, origin),
          sql`${calls.customerId} IN (SELECT value FROM json_each(${ids(customerIds)}))`,
        ),
      )
      .orderBy(asc(calls.pk));
  }

  return {
    /**
     * Creates the missing call rows (status `queued`) and returns every row of these customers for
     * this import and origin: the unique (import, customer, origin) index turns a second run into
     * a read of what the first one made.
     */
    async ensureCalls(input: NewCalls): Promise<CallRow[]> {
      if (input.customers.length === 0) return [];
      const rows = JSON.stringify(input.customers.map((c) => [c.id, c.phoneNumber]));
      await db.run(sql`INSERT INTO calls (id, organization_id, campaign_pk, import_id, batch_no, origin,
          customer_id, phone_number, status, attempts, created_at, updated_at)
        SELECT 'call_' || lower(hex(randomblob(12))), ${input.organizationId}, ${input.campaignPk},
          ${input.importId}, ${input.batchNo}, ${input.origin}, value->>0, value->>1, 'queued', 0,
          ${input.at}, ${input.at}
        FROM json_each(${rows}) WHERE true
        ON CONFLICT (import_id, customer_id, origin) DO NOTHING`);
      return findCalls(
        input.importId,
        input.origin,
        input.customers.map((c) => c.id),
      );
    },

    /** Claimable rows (see claim) -> skipped for good. */
    async markSkipped(callIds: readonly string[], reason: string, at: number, leaseExpiredBefore: number) {
      if (callIds.length === 0) return 0;
      const rows = await db.all(sql`UPDATE calls SET status = 'skipped', reason = ${reason},
          not_before = NULL, claim_token = NULL, finished_at = ${at}, updated_at = ${at}
        WHERE id IN (SELECT value FROM json_each(${ids(callIds)})) AND ${claimable(leaseExpiredBefore)}
        RETURNING id`);
      return rows.length;
    },

    /** Claimable rows (see claim) -> delayed until the calling window opens. */
    async markDelayed(callIds: readonly string[], notBefore: number, at: number, leaseExpiredBefore: number) {
      if (callIds.length === 0) return 0;
      const rows = await db.all(sql`UPDATE calls SET status = 'delayed', reason = 'outside_calling_window',
          not_before = ${notBefore}, claim_token = NULL, updated_at = ${at}
        WHERE id IN (SELECT value FROM json_each(${ids(callIds)})) AND ${claimable(leaseExpiredBefore)}
        RETURNING id`);
      return rows.length;
    },

    /**
     * The claim that makes "never dial twice" hold: one conditional UPDATE moves the rows to
     * `dispatching` under this caller's token, and only the rows it RETURNS may be handed to the
     * dialer. SQLite runs the statement atomically, so two consumers can never both claim a row. A
     * claim older than the lease (its holder died) can be taken over.
     */
    async claim(callIds: readonly string[], token: string, at: number, leaseExpiredBefore: number) {
      if (callIds.length === 0) return [];
      return db.all<ClaimedCall>(sql`UPDATE calls SET status = 'dispatching', claim_token = ${token},
          claimed_at = ${at}, attempts = attempts + 1, reason = NULL, not_before = NULL, updated_at = ${at}
        WHERE id IN (SELECT value FROM json_each(${ids(callIds)})) AND ${claimable(leaseExpiredBefore)}
        RETURNING id, customer_id AS customerId, attempts`);
    },

    /** The dialer took these calls. */
    async markDispatched(
      token: string,
      accepted: readonly { id: string; providerCallId: string | null }[],
      at: number,
    ): Promise<void> {
      if (accepted.length === 0) return;
      const rows = JSON.stringify(accepted.map((a) => [a.id, a.providerCallId]));
      await db.run(sql`UPDATE calls SET status = 'dispatched',
          provider_call_id = coalesce(j.pid, calls.provider_call_id), dispatched_at = ${at},
          claim_token = NULL, updated_at = ${at}
        FROM (SELECT value->>0 AS cid, value->>1 AS pid FROM json_each(${rows})) AS j
        WHERE calls.id = j.cid AND calls.status = 'dispatching' AND calls.claim_token = ${token}`);
    },

    /** The dialer refused these claimed calls for good. */
    async markClaimedFailed(
      token: string,
      failures: readonly { id: string; reason: string }[],
      at: number,
    ): Promise<void> {
      if (failures.length === 0) return;
      const rows = JSON.stringify(failures.map((f) => [f.id, f.reason]));
      await db.run(sql`UPDATE calls SET status = 'failed', reason = j.reason, finished_at = ${at},
          claim_token = NULL, updated_at = ${at}
        FROM (SELECT value->>0 AS cid, value->>1 AS reason FROM json_each(${rows})) AS j
        WHERE calls.id = j.cid AND calls.status = 'dispatching' AND calls.claim_token = ${token}`);
    },

    /** The dialer did not take the calls: give the claim back so a later attempt can take it. */
    async release(token: string, at: number): Promise<void> {
      await db.run(sql`UPDATE calls SET status = 'queued', claim_token = NULL, claimed_at = NULL,
          updated_at = ${at}
        WHERE claim_token = ${token} AND status = 'dispatching'`);
    },

    findCalls,

    /** Rows of one batch that still need work: queued, delayed, or claimed. */
    async countOutstanding(importId: string, batchNo: number, origin: string): Promise<number> {
      const row = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM calls
        WHERE import_id = ${importId} AND batch_no = ${batchNo} AND origin = ${origin}
          AND status IN ('queued', 'delayed', 'dispatching')`);
      return row?.n ?? 0;
    },

    /** Dead-lettered batch: whatever was still waiting fails with the reason. */
    async failOutstanding(importId: string, batchNo: number, origin: string, reason: string, at: number) {
      const rows = await db.all(sql`UPDATE calls SET status = 'failed', reason = ${reason},
          finished_at = ${at}, claim_token = NULL, not_before = NULL, updated_at = ${at}
        WHERE import_id = ${importId} AND batch_no = ${batchNo} AND origin = ${origin}
          AND status IN ('queued', 'delayed', 'dispatching')
        RETURNING id`);
      return rows.length;
    },

    /** Counts by status for one import; skipped rows are split by reason. */
    async countsForImport(importId: string, origin: string): Promise<StatusCount[]> {
      return db.all<StatusCount>(sql`SELECT status, CASE WHEN status = 'skipped' THEN reason END AS reason,
          count(*) AS n
        FROM calls WHERE import_id = ${importId} AND origin = ${origin}
        GROUP BY 1, 2`);
    },

    async listByCampaign(
      campaignPk: number,
      options: { status?: CallStatus; limit: number; afterPk?: number },
    ): Promise<CallListItem[]> {
      const rows = await db
        .select({ call: calls, loanId: customers.loanId, leadId: customers.leadId })
        .from(calls)
        .innerJoin(customers, eq(customers.id, calls.customerId))
        .where(
          and(
            eq(calls.campaignPk, campaignPk),
            options.status === undefined ? undefined : eq(calls.status, options.status),
            options.afterPk === undefined ? undefined : gt(calls.pk, options.afterPk),
          ),
        )
        .orderBy(asc(calls.pk))
        .limit(options.limit);
      return rows.map((r) => ({ ...r.call, loanId: r.loanId, leadId: r.leadId }));
    },

    async findByIds(callIds: readonly string[]): Promise<CallRow[]> {
      if (callIds.length === 0) return [];
      return db
        .select()
        .from(calls)
        .where(sql`${calls.id} IN (SELECT value FROM json_each(${ids(callIds)}))`);
    },

    /**
     * Stores new events and applies them, atomically (one batch): the insert skips event ids already
     * stored and events for unknown calls; the update moves each call the events name from
     * dispatching/dispatched to the status of its earliest event. The update reads the stored
     * events, not the request, so a redelivered event id can never apply different data.
     * Returns the ids of the events stored by this call.
     */
    async recordEvents(events: readonly CallEventToRecord[], at: number): Promise<string[]> {
      if (events.length === 0) return [];
      const rows = JSON.stringify(
        events.map((e) => [
          e.eventId,
          e.callId,
          e.status,
          e.reason,
          e.disposition,
          e.providerCallId,
          e.occurredAt,
          e.payload,
        ]),
      );
      const eventIds = ids(events.map((e) => e.eventId));
      const [inserted] = await db.batch([
        db.all<{ event_id: string }>(sql`INSERT INTO call_events (event_id, call_id, status, reason,
            disposition, provider_call_id, occurred_at, received_at, payload)
          SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, ${at}, value->>7
          FROM json_each(${rows})
          WHERE EXISTS (SELECT 1 FROM calls WHERE calls.id = value->>1)
          ON CONFLICT (event_id) DO NOTHING
          RETURNING event_id`),
        db.run(sql`UPDATE calls SET status = e.status,
            reason = CASE WHEN e.status = 'failed' THEN coalesce(e.reason, 'dialer_reported_failure') END,
            disposition = coalesce(e.disposition, calls.disposition),
            provider_call_id = coalesce(e.provider_call_id, calls.provider_call_id),
            finished_at = e.occurred_at, claim_token = NULL, updated_at = ${at}
          FROM (SELECT call_id, status, reason, disposition, provider_call_id, min(occurred_at) AS occurred_at
                FROM call_events WHERE event_id IN (SELECT value FROM json_each(${eventIds}))
                GROUP BY call_id) AS e
          WHERE calls.id = e.call_id AND calls.status IN ('dispatching', 'dispatched')`),
      ]);
      return (inserted as { event_id: string }[]).map((r) => r.event_id);
    },

    /** The import a queue message points at (queue messages carry no organization). */
    async findImport(importId: string): Promise<ImportRow | undefined> {
      return db.select().from(imports).where(eq(imports.id, importId)).get();
    },

    batches: createDispatchStateRepository(db),
  };
}
export type CallsRepository = ReturnType<typeof createCallsRepository>;

// The consumers' side of the outbox: pending -> sent -> processing -> done | failed. Every update is
// guarded by the states it may leave, so a late or duplicate message never reopens a finished batch.
function createDispatchStateRepository(db: Db) {
  const live = sql`${dispatchBatches.state} IN ('pending', 'sent', 'processing')`;
  return {
    async find(importId: string, kind: DispatchKind, batchNo: number): Promise<DispatchBatchRow | undefined> {
      return db
        .select()
        .from(dispatchBatches)
        .where(
          and(
            eq(dispatchBatches.importId, importId),
            eq(dispatchBatches.kind, kind),
            eq(dispatchBatches.batchNo, batchNo),
          ),
        )
        .get();
    },

    async markProcessing(id: number, at: number): Promise<void> {
      await db
        .update(dispatchBatches)
        .set({ state: "processing", updatedAt: at })
        .where(and(eq(dispatchBatches.id, id), live));
    },

    async markDone(id: number, at: number): Promise<void> {
      await db
        .update(dispatchBatches)
        .set({ state: "done", lastError: null, updatedAt: at })
        .where(and(eq(dispatchBatches.id, id), live));
    },

    /** A new message for the batch is on the queue (e.g. delayed to the calling window). */
    async markRequeued(id: number, at: number): Promise<void> {
      await db
        .update(dispatchBatches)
        .set({ state: "sent", lastError: null, updatedAt: at })
        .where(and(eq(dispatchBatches.id, id), live));
    },

    /** Why the last attempt failed; the dead-letter consumer reports it if the retries run out. */
    async recordError(id: number, error: string, at: number): Promise<void> {
      await db
        .update(dispatchBatches)
        .set({ lastError: error.slice(0, 1000), updatedAt: at })
        .where(and(eq(dispatchBatches.id, id), live));
    },

    async markFailed(id: number, reason: string, at: number): Promise<void> {
      await db
        .update(dispatchBatches)
        .set({ state: "failed", lastError: reason.slice(0, 1000), updatedAt: at })
        .where(and(eq(dispatchBatches.id, id), live));
    },

    /**
     * Batches whose hand-off may have been lost: `pending` since before `pendingBefore` (the send
     * failed, or the request died before sending), and `sent`/`processing` untouched since before
     * `stuckBefore` (a lost message). A call batch whose calls wait for a calling window that opens
     * after `stuckBefore` is not stuck: its delayed message is on the queue.
     */
    async listStale(options: {
      pendingBefore: number;
      stuckBefore: number;
      limit: number;
    }): Promise<DispatchBatchRow[]> {
      const b = dispatchBatches;
      return db
        .select()
        .from(b)
        .where(
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
        )
        .orderBy(asc(b.updatedAt))
        .limit(options.limit);
    },

    /** Outcome of a re-drive send for these batch ids. */
    async recordRedrive(
      batchIds: readonly number[],
      outcome: { sent: true } | { sent: false; error: string },
      at: number,
    ): Promise<void> {
      if (batchIds.length === 0) return;
      const where = and(sql`${dispatchBatches.id} IN (SELECT value FROM json_each(${ids(batchIds)}))`, live);
      await db
        .update(dispatchBatches)
        .set(sendOutcomeChanges(outcome, at, { touchOnFailure: false }))
        .where(where);
    },
  };
}
