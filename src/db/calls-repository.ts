// Call rows. Statements that expand a list of rows (INSERT ... SELECT FROM json_each, UPDATE ... FROM
// json_each) are raw SQL: the query builder cannot express them, and D1 binds at most 100 parameters
// per statement while a batch holds 500 customers. The rest goes through the query builder.
import { and, asc, count, eq, gt, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { CallsRepository, StatusCount, StopOutcome } from "../domain/ports/calls-repository";
import type { Db } from "./client";
import { calls, customers } from "./schema";
import { inList } from "./sql";

/** Rows nobody is working on: waiting ones, and claims whose holder died (older than the lease). */
const claimable = (leaseExpiredBefore: number) =>
  or(
    inArray(calls.status, ["queued", "delayed"]),
    and(eq(calls.status, "dispatching"), lt(calls.claimedAt, leaseExpiredBefore)),
  );

const OUTSTANDING = ["queued", "delayed", "dispatching"] as const;

/**
 * Moves the claimable calls of the customers `customerIds` (a subquery yielding customer ids) to
 * skipped / cancelled with a reason, in one statement that can join another repository's atomic
 * batch (a paid update skips the calls in the write that records the payment). A live claim is left
 * alone: its dialer request is in flight, and the dialer's report settles it. Probes calls_customer.
 */
export function stopWaitingCallsStatement(
  db: Db,
  customerIds: SQL,
  outcome: StopOutcome,
  at: number,
  leaseExpiredBefore: number,
) {
  return db
    .update(calls)
    .set({
      status: outcome.status,
      reason: outcome.reason,
      notBefore: null,
      claimToken: null,
      finishedAt: at,
      updatedAt: at,
    })
    .where(and(sql`${calls.customerId} IN (${customerIds})`, claimable(leaseExpiredBefore)))
    .returning({ id: calls.id });
}

export function createCallsRepository(db: Db): CallsRepository {
  const findCalls: CallsRepository["findCalls"] = async (importId, origin, customerIds) => {
    if (customerIds.length === 0) return [];
    return db
      .select()
      .from(calls)
      .where(
        and(eq(calls.importId, importId), eq(calls.origin, origin), inList(calls.customerId, customerIds)),
      )
      .orderBy(asc(calls.pk));
  };

  return {
    async ensureCalls(input) {
      if (input.customers.length === 0) return [];
      const rows = JSON.stringify(input.customers.map((c) => [c.id, c.phoneNumber]));
      // The unique (import, customer, origin) index turns a second run into a no-op. A customer
      // erased, or of a campaign deleted, after its batch was written gets its row already
      // cancelled, so the import's progress still adds up and nobody can claim it.
      await db.run(sql`INSERT INTO calls (id, organization_id, campaign_pk, import_id, batch_no, origin,
          customer_id, phone_number, status, reason, attempts, finished_at, created_at, updated_at)
        SELECT 'call_' || lower(hex(randomblob(12))), ${input.organizationId}, ${input.campaignPk},
          ${input.importId}, ${input.batchNo}, ${input.origin}, j.cid, j.phone,
          CASE WHEN j.gone IS NULL THEN 'queued' ELSE 'cancelled' END, j.gone, 0,
          CASE WHEN j.gone IS NULL THEN NULL ELSE ${input.at} END, ${input.at}, ${input.at}
        FROM (SELECT value->>0 AS cid, value->>1 AS phone,
            (SELECT CASE WHEN cu.erased_at IS NOT NULL THEN 'erased'
                WHEN ca.deleted_at IS NOT NULL THEN 'campaign_deleted' END
              FROM customers cu JOIN campaigns ca ON ca.pk = cu.campaign_pk WHERE cu.id = value->>0) AS gone
          FROM json_each(${rows})) j
        WHERE true
        ON CONFLICT (import_id, customer_id, origin) DO NOTHING`);
      return findCalls(
        input.importId,
        input.origin,
        input.customers.map((c) => c.id),
      );
    },

    async markSkipped(callIds, reason, at, leaseExpiredBefore) {
      if (callIds.length === 0) return 0;
      const rows = await db
        .update(calls)
        .set({ status: "skipped", reason, notBefore: null, claimToken: null, finishedAt: at, updatedAt: at })
        .where(and(inList(calls.id, callIds), claimable(leaseExpiredBefore)))
        .returning({ id: calls.id });
      return rows.length;
    },

    async markDelayed(callIds, notBefore, at, leaseExpiredBefore) {
      if (callIds.length === 0) return 0;
      const rows = await db
        .update(calls)
        .set({
          status: "delayed",
          reason: "outside_calling_window",
          notBefore,
          claimToken: null,
          updatedAt: at,
        })
        .where(and(inList(calls.id, callIds), claimable(leaseExpiredBefore)))
        .returning({ id: calls.id });
      return rows.length;
    },

    // One conditional UPDATE: SQLite runs it atomically, so two consumers can never both claim a row.
    async claim(callIds, token, at, leaseExpiredBefore) {
      if (callIds.length === 0) return [];
      return db
        .update(calls)
        .set({
          status: "dispatching",
          claimToken: token,
          claimedAt: at,
          attempts: sql`${calls.attempts} + 1`,
          reason: null,
          notBefore: null,
          updatedAt: at,
        })
        .where(and(inList(calls.id, callIds), claimable(leaseExpiredBefore)))
        .returning({ id: calls.id, customerId: calls.customerId, attempts: calls.attempts });
    },

    async markDispatched(token, accepted, at) {
      if (accepted.length === 0) return;
      const rows = JSON.stringify(accepted.map((a) => [a.id, a.providerCallId]));
      await db.run(sql`UPDATE calls SET status = 'dispatched',
          provider_call_id = coalesce(j.pid, calls.provider_call_id), dispatched_at = ${at},
          claim_token = NULL, updated_at = ${at}
        FROM (SELECT value->>0 AS cid, value->>1 AS pid FROM json_each(${rows})) AS j
        WHERE calls.id = j.cid AND calls.status = 'dispatching' AND calls.claim_token = ${token}`);
    },

    async markClaimedFailed(token, failures, at) {
      if (failures.length === 0) return;
      const rows = JSON.stringify(failures.map((f) => [f.id, f.reason]));
      await db.run(sql`UPDATE calls SET status = 'failed', reason = j.reason, finished_at = ${at},
          claim_token = NULL, updated_at = ${at}
        FROM (SELECT value->>0 AS cid, value->>1 AS reason FROM json_each(${rows})) AS j
        WHERE calls.id = j.cid AND calls.status = 'dispatching' AND calls.claim_token = ${token}`);
    },

    async release(token, at) {
      await db
        .update(calls)
        .set({ status: "queued", claimToken: null, claimedAt: null, updatedAt: at })
        .where(and(eq(calls.claimToken, token), eq(calls.status, "dispatching")));
    },

    findCalls,

    async stopWaitingForCustomers(customerIds, outcome, at, leaseExpiredBefore) {
      if (customerIds.length === 0) return 0;
      const rows = await stopWaitingCallsStatement(
        db,
        sql`SELECT value FROM json_each(${JSON.stringify(customerIds)})`,
        outcome,
        at,
        leaseExpiredBefore,
      );
      return rows.length;
    },

    async stopWaitingForCampaign(campaignPk, outcome, at, leaseExpiredBefore) {
      const rows = await db
        .update(calls)
        .set({
          status: outcome.status,
          reason: outcome.reason,
          notBefore: null,
          claimToken: null,
          finishedAt: at,
          updatedAt: at,
        })
        .where(and(eq(calls.campaignPk, campaignPk), claimable(leaseExpiredBefore)))
        .returning({ id: calls.id });
      return rows.length;
    },

    async countOutstanding(importId, batchNo, origin) {
      const [row] = await db
        .select({ n: count() })
        .from(calls)
        .where(
          and(
            eq(calls.importId, importId),
            eq(calls.batchNo, batchNo),
            eq(calls.origin, origin),
            inArray(calls.status, OUTSTANDING),
          ),
        );
      return row?.n ?? 0;
    },

    async failOutstanding(importId, batchNo, origin, reason, at) {
      const rows = await db
        .update(calls)
        .set({ status: "failed", reason, finishedAt: at, claimToken: null, notBefore: null, updatedAt: at })
        .where(
          and(
            eq(calls.importId, importId),
            eq(calls.batchNo, batchNo),
            eq(calls.origin, origin),
            inArray(calls.status, OUTSTANDING),
          ),
        )
        .returning({ id: calls.id });
      return rows.length;
    },

    async countsForImport(importId, origin) {
      const reason = sql<string | null>`CASE WHEN ${calls.status} = 'skipped' THEN ${calls.reason} END`;
      return db
        .select({ status: calls.status, reason, n: count() })
        .from(calls)
        .where(and(eq(calls.importId, importId), eq(calls.origin, origin)))
        .groupBy(calls.status, reason) as Promise<StatusCount[]>;
    },

    async listByCampaign(campaignPk, options) {
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

    async findByIds(callIds) {
      if (callIds.length === 0) return [];
      return db.select().from(calls).where(inList(calls.id, callIds));
    },
  };
}
