// Call rows. Statements that expand a list of rows (INSERT ... SELECT FROM json_each, UPDATE ... FROM
// json_each) and the claim (a CTE with window functions feeding an UPDATE ... FROM) are raw SQL: the
// query builder cannot express them, and D1 binds at most 100 parameters per statement while a batch
// holds 500 customers. The rest goes through the query builder.
import { and, asc, count, eq, gt, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { DIALER_UNAVAILABLE } from "../domain/model/call";
import { RETRY_OUTCOMES } from "../domain/model/policy";
import type { CallsRepository, StatusCount, StopOutcome } from "../domain/ports/calls-repository";
import type { Db } from "./client";
import { callAttempts, callDecisions, calls, customers } from "./schema";
import { inList } from "./sql";

/** Rows nobody is working on: waiting ones, and claims whose holder died (older than the lease). */
const claimable = (leaseExpiredBefore: number) =>
  or(
    inArray(calls.status, ["queued", "delayed"]),
    and(eq(calls.status, "dispatching"), lt(calls.claimedAt, leaseExpiredBefore)),
  );

const OUTSTANDING = ["queued", "delayed", "dispatching"] as const;

/** The reasons of a call waiting for its retry interval: it may not be claimed before `not_before`. */
const RETRY_WAITS = sql.raw(RETRY_OUTCOMES.map((o) => `'retry_after_${o}'`).join(", "));

/**
 * The one statement that stops waiting calls, whoever stops them (a payment, an erasure, a campaign
 * deleted, an import or campaign cancelled): the claimable calls matching `target` (a condition on
 * `calls`) move to skipped / cancelled with a reason. A live claim is left alone: its dialer request
 * is in flight, and the dialer's report settles it. It can join another repository's atomic batch.
 */
export function stopWaitingCallsWhere(
  db: Db,
  target: SQL,
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
    .where(and(target, claimable(leaseExpiredBefore)))
    .returning({ id: calls.id });
}

/**
 * stopWaitingCallsWhere for the customers `customerIds` (a subquery yielding customer ids): a paid
 * update skips their calls in the write that records the payment. Probes calls_customer.
 */
export function stopWaitingCallsStatement(
  db: Db,
  customerIds: SQL,
  outcome: StopOutcome,
  at: number,
  leaseExpiredBefore: number,
) {
  return stopWaitingCallsWhere(
    db,
    sql`${calls.customerId} IN (${customerIds})`,
    outcome,
    at,
    leaseExpiredBefore,
  );
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

  const withKeys = () =>
    db
      .select({ call: calls, loanId: customers.loanId, leadId: customers.leadId })
      .from(calls)
      .innerJoin(customers, eq(customers.id, calls.customerId));

  return {
    async ensureCalls(input) {
      if (input.customers.length === 0) return [];
      const rows = JSON.stringify(input.customers.map((c) => [c.id, c.phoneNumber, c.loanId]));
      // The unique (import, customer, origin) index turns a second run into a no-op. A customer
      // erased, or of a campaign deleted, after its batch was written gets its row already
      // cancelled, so the import's progress still adds up and nobody can claim it.
      await db.run(sql`INSERT INTO calls (id, organization_id, campaign_pk, import_id, batch_no, origin,
          customer_id, phone_number, loan_id, agent_id, disposition_id, status, reason, attempts,
          finished_at, created_at, updated_at)
        SELECT 'call_' || lower(hex(randomblob(12))), ${input.organizationId}, ${input.campaignPk},
          ${input.importId}, ${input.batchNo}, ${input.origin}, j.cid, j.phone, j.loan,
          ${input.agentId}, ${input.dispositionId},
          CASE WHEN j.gone IS NULL THEN 'queued' ELSE 'cancelled' END, j.gone, 0,
          CASE WHEN j.gone IS NULL THEN NULL ELSE ${input.at} END, ${input.at}, ${input.at}
        FROM (SELECT value->>0 AS cid, value->>1 AS phone, value->>2 AS loan,
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

    async markWaiting(waiting, at, leaseExpiredBefore) {
      if (waiting.length === 0) return 0;
      const rows = JSON.stringify(waiting.map((w) => [w.id, w.reason, w.notBefore]));
      const moved = await db.all<{ id: string }>(sql`UPDATE calls SET status = 'delayed', reason = j.reason,
          not_before = j.not_before, claim_token = NULL, updated_at = ${at}
        FROM (SELECT value->>0 AS cid, value->>1 AS reason, value->>2 AS not_before FROM json_each(${rows})) AS j
        WHERE calls.id = j.cid AND (calls.status IN ('queued', 'delayed')
          OR (calls.status = 'dispatching' AND calls.claimed_at < ${leaseExpiredBefore}))
        RETURNING calls.id`);
      return moved.length;
    },

    async contactHistory(organizationId, phones, loanIds, since) {
      if (phones.length === 0 && loanIds.length === 0) return [];
      // Two range scans, one per index (call_attempts_phone, call_attempts_loan): the rows of the
      // last days of these numbers and loans only, however long their history is.
      return db.all(sql`SELECT call_pk AS callPk, attempt, phone_number AS phoneNumber, loan_id AS loanId,
          started_at AS startedAt, ended_at AS endedAt
        FROM call_attempts
        WHERE organization_id = ${organizationId} AND started_at >= ${since}
          AND phone_number IN (SELECT value FROM json_each(${JSON.stringify(phones)}))
        UNION
        SELECT call_pk, attempt, phone_number, loan_id, started_at, ended_at
        FROM call_attempts
        WHERE organization_id = ${organizationId} AND started_at >= ${since} AND loan_id IS NOT NULL
          AND loan_id IN (SELECT value FROM json_each(${JSON.stringify(loanIds)}))`);
    },

    // One atomic batch: the UPDATE takes the rows that pass every rule, and the INSERT records the
    // attempts they begin. SQLite runs a batch as one transaction and one writer at a time, so the
    // next claimer's counts include these attempts: two consumers can never both pass a limit.
    // Within the UPDATE, the attempts it is taking are not counted yet, so it takes at most one row
    // per number and per loan (the window functions); the others wait for the next pass.
    async claim(callIds, token, at, leaseExpiredBefore, rules) {
      if (callIds.length === 0) return [];
      const ids = JSON.stringify(callIds);
      const { organizationId: org, limits } = rules;
      const gapMs = limits.minGapMinutes * 60_000;
      const holdMs = Math.max(gapMs, rules.unreportedHoldMs);
      // One range scan of the 7-day window per number and per loan answers every rule at once: the
      // 7-day count, the day's count, and (for the number) whether its line is free again.
      const numberAllows = sql`(SELECT count(*) < ${limits.maxPer7Days}
            AND coalesce(sum(a.started_at >= ${rules.dayStart}), 0) < ${limits.maxPerDay}
            AND coalesce(max(coalesce(a.ended_at + ${gapMs}, a.started_at + ${holdMs})), 0) <= ${at}
          FROM call_attempts a WHERE a.organization_id = ${org} AND a.phone_number = calls.phone_number
            AND a.started_at >= ${rules.weekStart})`;
      const loanAllows = sql`(SELECT count(*) < ${limits.maxPer7Days}
            AND coalesce(sum(a.started_at >= ${rules.dayStart}), 0) < ${limits.maxPerDay}
          FROM call_attempts a WHERE a.organization_id = ${org} AND a.loan_id = calls.loan_id
            AND a.started_at >= ${rules.weekStart})`;
      const [claimed] = await db.batch([
        db.all<{ id: string; customerId: number; attempts: number }>(sql`WITH cand AS MATERIALIZED (
            SELECT c.pk,
              row_number() OVER (PARTITION BY c.phone_number ORDER BY c.pk) AS by_phone,
              row_number() OVER (PARTITION BY coalesce(c.loan_id, '#' || c.pk) ORDER BY c.pk) AS by_loan,
              EXISTS (SELECT 1 FROM call_attempts a WHERE a.call_pk = c.pk AND a.attempt = c.attempts
                AND a.ended_at IS NULL) AS repeat_attempt
            FROM calls c
            WHERE c.id IN (SELECT value FROM json_each(${ids}))
              AND (c.status IN ('queued', 'delayed')
                OR (c.status = 'dispatching' AND c.claimed_at < ${leaseExpiredBefore}))
              AND NOT (c.status = 'delayed' AND c.reason IN (${RETRY_WAITS}) AND c.not_before > ${at})
          )
          UPDATE calls SET status = 'dispatching', claim_token = ${token}, claimed_at = ${at},
            attempts = calls.attempts + 1 - cand.repeat_attempt, reason = NULL, not_before = NULL,
            updated_at = ${at}
          FROM cand
          WHERE calls.pk = cand.pk
            AND (SELECT dialing_state FROM imports WHERE id = ${rules.importId}) = 'active'
            AND (SELECT dialing_state FROM campaigns WHERE pk = ${rules.campaignPk}) = 'active'
            AND (cand.repeat_attempt OR (
              cand.by_phone = 1 AND cand.by_loan = 1 AND ${numberAllows}
              AND (calls.loan_id IS NULL OR ${loanAllows})))
          RETURNING calls.id AS id, calls.customer_id AS customerId, calls.attempts AS attempts`),
        db.run(sql`INSERT INTO call_attempts (call_pk, attempt, organization_id, phone_number, loan_id, started_at)
          SELECT pk, attempts, organization_id, phone_number, loan_id, ${at} FROM calls
          WHERE id IN (SELECT value FROM json_each(${ids})) AND claim_token = ${token}
            AND status = 'dispatching' AND claimed_at = ${at}
          ON CONFLICT (call_pk, attempt) DO NOTHING`),
      ]);
      return claimed as { id: string; customerId: number; attempts: number }[];
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

    async release(token, callIds, at) {
      if (callIds.length === 0) return;
      await db
        .update(calls)
        .set({
          status: "queued",
          reason: DIALER_UNAVAILABLE,
          claimToken: null,
          claimedAt: null,
          updatedAt: at,
        })
        .where(and(inList(calls.id, callIds), eq(calls.claimToken, token), eq(calls.status, "dispatching")));
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
      const rows = await stopWaitingCallsWhere(
        db,
        eq(calls.campaignPk, campaignPk),
        outcome,
        at,
        leaseExpiredBefore,
      );
      return rows.length;
    },

    async stopWaitingForImports(importIds, outcome, at, leaseExpiredBefore) {
      if (importIds.length === 0) return 0;
      const rows = await stopWaitingCallsWhere(
        db,
        inList(calls.importId, importIds),
        outcome,
        at,
        leaseExpiredBefore,
      );
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

    async failWaiting(callIds, reason, at, leaseExpiredBefore) {
      if (callIds.length === 0) return 0;
      const rows = await db
        .update(calls)
        .set({ status: "failed", reason, finishedAt: at, claimToken: null, notBefore: null, updatedAt: at })
        .where(and(inList(calls.id, callIds), claimable(leaseExpiredBefore)))
        .returning({ id: calls.id });
      return rows.length;
    },

    async countsForImport(importId, origin) {
      const reason = sql<
        string | null
      >`CASE WHEN ${calls.status} IN ('skipped', 'delayed') THEN ${calls.reason} END`;
      return db
        .select({ status: calls.status, reason, n: count() })
        .from(calls)
        .where(and(eq(calls.importId, importId), eq(calls.origin, origin)))
        .groupBy(calls.status, reason) as Promise<StatusCount[]>;
    },

    async decisionCounts(importId, origin) {
      return db
        .select({ status: callDecisions.status, reason: callDecisions.reason, n: count() })
        .from(calls)
        .innerJoin(callDecisions, eq(callDecisions.callPk, calls.pk))
        .where(and(eq(calls.importId, importId), eq(calls.origin, origin)))
        .groupBy(callDecisions.status, callDecisions.reason);
    },

    async listByCampaign(campaignPk, options) {
      const rows = await withKeys()
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

    async findOne(organizationId, callId) {
      const row = await withKeys()
        .where(and(eq(calls.id, callId), eq(calls.organizationId, organizationId)))
        .get();
      return row ? { ...row.call, loanId: row.loanId, leadId: row.leadId } : undefined;
    },

    async attemptsOf(callPk) {
      return db
        .select({
          attempt: callAttempts.attempt,
          startedAt: callAttempts.startedAt,
          endedAt: callAttempts.endedAt,
          outcome: callAttempts.outcome,
          reason: callAttempts.reason,
          disposition: callAttempts.disposition,
        })
        .from(callAttempts)
        .where(eq(callAttempts.callPk, callPk))
        .orderBy(asc(callAttempts.attempt));
    },

    async decisionsOf(callPk, limit) {
      return db
        .select({
          at: callDecisions.at,
          status: callDecisions.status,
          reason: callDecisions.reason,
          notBefore: callDecisions.notBefore,
          attempt: callDecisions.attempt,
        })
        .from(callDecisions)
        .where(eq(callDecisions.callPk, callPk))
        .orderBy(asc(callDecisions.pk))
        .limit(limit);
    },

    async listWaiting(importId) {
      const rows = await db
        .select({ id: calls.id })
        .from(calls)
        .where(and(eq(calls.importId, importId), inArray(calls.status, ["queued", "delayed"])))
        .orderBy(asc(calls.pk));
      return rows.map((r) => r.id);
    },

    async hasUnfinished(importId) {
      const row = await db
        .select({ id: calls.id })
        .from(calls)
        .where(
          and(
            eq(calls.importId, importId),
            inArray(calls.status, ["queued", "delayed", "dispatching", "dispatched"]),
          ),
        )
        .limit(1)
        .get();
      return row !== undefined;
    },

    async listOverdue(before, limit) {
      // The partial index calls_delayed_due holds only delayed rows, ordered by their moment.
      return db.all(sql`SELECT c.id AS id, c.import_id AS importId FROM calls c
        JOIN imports i ON i.id = c.import_id JOIN campaigns ca ON ca.pk = c.campaign_pk
        WHERE c.status = 'delayed' AND c.not_before < ${before} AND c.reason IS NOT 'paused'
          AND i.dialing_state = 'active' AND ca.dialing_state = 'active'
        ORDER BY c.not_before LIMIT ${limit}`);
    },

    async countWaitingByCampaign(campaignPk) {
      return db
        .select({ status: calls.status, n: count() })
        .from(calls)
        .where(and(eq(calls.campaignPk, campaignPk), inArray(calls.status, OUTSTANDING)))
        .groupBy(calls.status);
    },
  };
}
