// `npm run bench:policy`: what the dialing policy's checks at claim time cost the call fan-out,
// measured inside workerd on local D1 (bench/dispatch-policy.vitest.config.ts).
//
// 1. Fan-out: 10,000 customers of one import handed to the dialer by the CALLS consumer's own code
//    (dispatchCallBatch, 20 outbox batches of 500, 5 at a time as the queue delivers them), with the
//    policy on, against the same run with the contact limits off: the claim is the plain conditional
//    UPDATE it was before the policy (no counts, no attempt rows) and no attempts are read. Every
//    other step is the same code. Arms alternate, each sample in a fresh organization.
// 2. History: the D1 statements and the time per dispatched call for 500 borrowers with no past
//    attempts, against 500 borrowers with 1,000 past attempts each (500,000 attempt rows, older than
//    the 7-day window, on the same numbers and loans).
// The dialer is the `log` dialer with its output dropped; the clock is pinned inside the window.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createDeps } from "../src/deps";
import { dispatchCallBatch } from "../src/domain/calls/dispatch-call-batch";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { CallsQueueMessage, DispatchMessage } from "../src/domain/model/outbox";
import type { AppEnv } from "../src/env";
import { call, newTenant } from "../test/helpers";

const benchEnv = env as unknown as AppEnv & { DB: D1Database; BENCH_REPS?: string; BENCH_WARMUP?: string };
const REPS = Number(benchEnv.BENCH_REPS ?? 7);
const WARMUP = Number(benchEnv.BENCH_WARMUP ?? 1);
const log = (message: string) => console.log(`[bench] ${message}`);
const MONDAY_10_IST = Date.parse("2026-11-23T10:00:00+05:30");
const DAY = 86_400_000;
/** Messages the CALLS queue hands one consumer invocation (max_batch_size in wrangler.jsonc). */
const QUEUE_BATCH = 5;

/**
 * D1 with its statements counted: every prepare() is a statement; a batch is one round trip. The
 * rows D1 reports read by batched statements (the claims) are summed too.
 */
function metered(db: D1Database) {
  const counts = { statements: 0, batched: 0, batches: 0, batchRowsRead: 0 };
  const proxy = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (query: string) => {
          counts.statements++;
          return target.prepare(query);
        };
      }
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          counts.batches++;
          counts.batched += statements.length;
          const results = await target.batch(statements);
          for (const r of results) counts.batchRowsRead += r.meta?.rows_read ?? 0;
          return results;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: proxy,
    counts,
    reset() {
      counts.statements = counts.batched = counts.batches = counts.batchRowsRead = 0;
    },
    roundTrips: () => counts.batches + counts.statements - counts.batched,
  };
}

type Deps = ReturnType<typeof createDeps>;

/** The claim as it was before the policy: the conditional UPDATE alone. */
function capsOff(deps: Deps, db: D1Database): Deps {
  return {
    ...deps,
    calls: {
      ...deps.calls,
      contactHistory: async () => [],
      async claim(callIds, token, at, leaseExpiredBefore) {
        const { results } = await db
          .prepare(
            `UPDATE calls SET status = 'dispatching', claim_token = ?1, claimed_at = ?2, attempts = attempts + 1,
               reason = NULL, not_before = NULL, updated_at = ?2
             WHERE id IN (SELECT value FROM json_each(?3))
               AND (status IN ('queued', 'delayed') OR (status = 'dispatching' AND claimed_at < ?4))
             RETURNING id, customer_id AS customerId, attempts`,
          )
          .bind(token, at, JSON.stringify(callIds), leaseExpiredBefore)
          .all<{ id: string; customerId: number; attempts: number }>();
        return results;
      },
    },
  };
}

function records(count: number, loanPrefix: string) {
  return Array.from({ length: count }, (_, i) => ({
    loan_id: `${loanPrefix}-${i}`,
    first_name: "Asha",
    phone_number: `98${String(10_000_000 + i).slice(-8)}`,
    emi_amount: 12500,
    emi_due_date: "2026-12-05",
    payment_status: "pending",
  }));
}

async function seed(deps: Deps, orgId: string, campaignId: string, count: number, loanPrefix: string) {
  const sent: DispatchMessage[] = [];
  const seedDeps = {
    ...deps,
    callsQueue: {
      async sendBatch(messages: Iterable<{ body: CallsQueueMessage }>) {
        for (const m of messages) sent.push(m.body as DispatchMessage);
      },
    },
  };
  const outcome = await addCustomersInBulk(seedDeps, {
    organizationId: orgId,
    campaignId,
    records: records(count, loanPrefix),
    initiateCall: true,
    useWorkflow: false,
    callConfig: { agentId: "agent-1", dispositionId: "disp-1" },
  });
  expect(outcome.body.results.successful).toBe(count);
  return { importId: outcome.body.importId, messages: sent };
}

/** Runs the consumer's logic over the messages, QUEUE_BATCH at a time; returns ms and dispatched calls. */
async function dispatch(deps: Deps, messages: DispatchMessage[]) {
  const started = performance.now();
  for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
    const verdicts = await Promise.all(
      messages.slice(i, i + QUEUE_BATCH).map((m) => dispatchCallBatch(deps, m)),
    );
    for (const v of verdicts) expect(v).toEqual({ kind: "ack", note: "done" });
  }
  return performance.now() - started;
}

async function dispatchedIn(importId: string) {
  return benchEnv.DB.prepare("SELECT count(*) AS n FROM calls WHERE import_id = ? AND status = 'dispatched'")
    .bind(importId)
    .first<number>("n");
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

it("measures the dialing policy's cost at claim time", { timeout: 60 * 60_000 }, async () => {
  const meter = metered(benchEnv.DB);
  const quietDialer = createLogDialer(() => {});
  const depsAt = (now: number, db: D1Database = meter.db) =>
    createDeps({ ...benchEnv, DB: db }, { clock: { now: () => now }, dialer: quietDialer });

  // --- 1. Fan-out of 10,000 customers, policy on against caps off --------------------------------
  const FANOUT = 10_000;
  const times: Record<"policy" | "caps_off", number[]> = { policy: [], caps_off: [] };
  const perCall: Record<"policy" | "caps_off", number[]> = { policy: [], caps_off: [] };
  for (let round = 0; round < WARMUP + REPS; round++) {
    const arms = round % 2 === 0 ? (["policy", "caps_off"] as const) : (["caps_off", "policy"] as const);
    for (const arm of arms) {
      const tenant = await newTenant();
      const base = depsAt(MONDAY_10_IST);
      const deps = arm === "policy" ? base : capsOff(base, meter.db);
      const seeded = await seed(deps, tenant.orgId, "emi", FANOUT, `F${round}`);
      meter.reset();
      const ms = await dispatch(deps, seeded.messages);
      expect(await dispatchedIn(seeded.importId)).toBe(FANOUT);
      if (round >= WARMUP) {
        times[arm].push(ms);
        perCall[arm].push(meter.counts.statements / FANOUT);
      }
      log(
        `fan-out ${arm} round ${round}${round < WARMUP ? " (warm-up)" : ""}: ${ms.toFixed(0)} ms, ${meter.counts.statements} statements`,
      );
    }
  }
  const ratio = median(times.policy) / median(times.caps_off);
  log(
    `fan-out of ${FANOUT}: policy median ${median(times.policy).toFixed(0)} ms (${median(perCall.policy).toFixed(3)} statements/call), ` +
      `caps off median ${median(times.caps_off).toFixed(0)} ms (${median(perCall.caps_off).toFixed(3)} statements/call), ratio ${ratio.toFixed(2)} (target <= 1.2)`,
  );

  // --- 2. 500 borrowers with no history against 500 with 1,000 past attempts each ---------------
  const BORROWERS = 500;
  const PAST = 1_000;
  const veteran = await newTenant();
  {
    // A call row for the history rows to point at (attempt rows reference a call).
    const old = depsAt(MONDAY_10_IST - 400 * DAY);
    const anchor = await seed(old, veteran.orgId, "edi", 1, "ANCHOR");
    await dispatch(old, anchor.messages);
    const anchorCall = await benchEnv.DB.prepare("SELECT pk FROM calls WHERE import_id = ?")
      .bind(anchor.importId)
      .first<number>("pk");
    const started = performance.now();
    // 1,000 attempts per borrower's number and loan over the year before the window, in chunks.
    for (let from = 0; from < BORROWERS * PAST; from += 50_000) {
      await benchEnv.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
         INSERT INTO call_attempts (call_pk, attempt, organization_id, phone_number, loan_id, started_at, ended_at, outcome)
         SELECT ?3, 1000 + i, ?4, '+9198' || substr(CAST(10000000 + i % ?5 AS TEXT), -8), 'H-' || (i % ?5),
           ?6 - (i / ?5) * 8 * 3600 * 1000, ?6 - (i / ?5) * 8 * 3600 * 1000 + 60000, 'failed'
         FROM n`,
      )
        .bind(
          from,
          Math.min(from + 50_000, BORROWERS * PAST),
          anchorCall,
          veteran.orgId,
          BORROWERS,
          MONDAY_10_IST - 8 * DAY,
        )
        .run();
    }
    log(
      `history: ${BORROWERS * PAST} attempt rows written in ${(performance.now() - started).toFixed(0)} ms`,
    );
  }
  const plan = await benchEnv.DB.prepare(
    `EXPLAIN QUERY PLAN SELECT count(*) FROM call_attempts
     WHERE organization_id = ?1 AND phone_number = ?2 AND started_at >= ?3`,
  )
    .bind(veteran.orgId, "+919810000001", MONDAY_10_IST)
    .all<{ detail: string }>();
  log(`plan of a number's count: ${plan.results.map((r) => r.detail).join("; ")}`);
  const loanPlan = await benchEnv.DB.prepare(
    `EXPLAIN QUERY PLAN SELECT count(*) FROM call_attempts
     WHERE organization_id = ?1 AND loan_id = ?2 AND started_at >= ?3`,
  )
    .bind(veteran.orgId, "H-1", MONDAY_10_IST)
    .all<{ detail: string }>();
  log(`plan of a loan's count: ${loanPlan.results.map((r) => r.detail).join("; ")}`);

  const history: Record<
    "none" | "1000_past",
    { ms: number[]; claimMs: number[]; statements: number[]; rowsRead: number[] }
  > = {
    none: { ms: [], claimMs: [], statements: [], rowsRead: [] },
    "1000_past": { ms: [], claimMs: [], statements: [], rowsRead: [] },
  };
  /** The claims alone: the statement that judges the calls against their history. */
  const timedClaims = (deps: Deps) => {
    const spent = { ms: 0 };
    const timed: Deps = {
      ...deps,
      calls: {
        ...deps.calls,
        async claim(...args) {
          const started = performance.now();
          try {
            return await deps.calls.claim(...args);
          } finally {
            spent.ms += performance.now() - started;
          }
        },
      },
    };
    return { deps: timed, spent };
  };
  for (let round = 0; round < WARMUP + REPS; round++) {
    // A week apart, so a round's own attempts are history to the next (outside the 7-day window).
    const now = MONDAY_10_IST + round * 7 * DAY;
    for (const arm of round % 2 === 0 ? (["none", "1000_past"] as const) : (["1000_past", "none"] as const)) {
      const tenant = arm === "none" ? await newTenant() : veteran;
      const campaignId = `history-${round}`;
      await createCampaignFor(tenant.auth, campaignId);
      const { deps, spent } = timedClaims(depsAt(now));
      const seeded = await seed(deps, tenant.orgId, campaignId, BORROWERS, "H");
      meter.reset();
      spent.ms = 0;
      const ms = await dispatch(deps, seeded.messages);
      expect(await dispatchedIn(seeded.importId)).toBe(BORROWERS);
      if (round >= WARMUP) {
        history[arm].ms.push(ms);
        history[arm].claimMs.push(spent.ms);
        history[arm].statements.push(meter.counts.statements);
        history[arm].rowsRead.push(meter.counts.batchRowsRead);
      }
      log(
        `history ${arm} round ${round}: ${ms.toFixed(0)} ms (claims ${spent.ms.toFixed(0)} ms, ${meter.counts.batchRowsRead} rows read), ${meter.counts.statements} statements, ${meter.roundTrips()} round trips`,
      );
    }
  }
  for (const arm of ["none", "1000_past"] as const) {
    log(
      `dispatching ${BORROWERS} borrowers with ${arm === "none" ? "no past attempts" : `${PAST} past attempts each`}: ` +
        `median ${median(history[arm].ms).toFixed(0)} ms (claims ${median(history[arm].claimMs).toFixed(0)} ms), ` +
        `${(median(history[arm].statements) / BORROWERS).toFixed(3)} statements and ` +
        `${(median(history[arm].rowsRead) / BORROWERS).toFixed(1)} rows read by the claims per dispatched call`,
    );
  }
  log(
    `history ratio (1,000 past / none): dispatch ${(median(history["1000_past"].ms) / median(history.none.ms)).toFixed(2)}, ` +
      `claims ${(median(history["1000_past"].claimMs) / median(history.none.claimMs)).toFixed(2)}`,
  );
});

async function createCampaignFor(auth: Record<string, string>, id: string) {
  const r = await call("POST", "/api/v1/campaigns", { id, name: id, campaignType: "emi" }, auth);
  expect(r.status, r.text).toBe(201);
}
