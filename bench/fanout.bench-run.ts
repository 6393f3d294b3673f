// The fan-out benchmark, run inside workerd by `npm run bench` (project "fanout" of
// bench/vitest.config.ts) with the queue consumers of wrangler.jsonc running in the same isolate.
// One bulk request hands 10,000 customers to the CALLS queue and the real consumer dials them with
// the `log` dialer; a second hands customers to the WORKFLOWS queue and the real consumer creates
// one Workflows instance each. Times run from the bulk answer to the last call dispatched / run
// started, read from the stored rows; the D1 work is what bench/worker.ts's meter saw the consumers
// do. bench/README.md says why the workflow case is smaller.
import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { CALL_CONFIG, createCampaign, windowOpenNow } from "../test/calls-fixtures";
import type { D1Counts } from "../test/d1-meter";
import { newTenant } from "../test/helpers";
import { loanRecords } from "./data";
import {
  FANOUT_STATEMENTS_PER_CALL_TARGET,
  type FanoutResult,
  type FanoutResults,
  WORKFLOW_CREATES_PER_S_LIMIT,
} from "./results";

declare module "vitest" {
  interface TaskMeta {
    fanout?: FanoutResults;
  }
}

const benchEnv = env as unknown as { DB: D1Database; BENCH_WORKFLOW_CUSTOMERS?: string };
/** Customers of the call fan-out: the largest request. */
const CALL_CUSTOMERS = 10_000;
/**
 * Customers of the workflow fan-out. Fewer than the calls: locally every Workflows instance is a
 * Durable Object with its own SQLite files, kept open while it sleeps, and 10,000 of them exhaust a
 * 20,000 open-file limit (about 6,600 were created before workerd failed with "Too many open
 * files"), besides taking a quarter of an hour. What is compared is the rate, not the total.
 */
const WORKFLOW_CUSTOMERS = Number(benchEnv.BENCH_WORKFLOW_CUSTOMERS ?? 2_000);
/** Customers per outbox batch (src/domain/intake/hand-off.ts DISPATCH_BATCH_SIZE). */
const BATCH = 500;
/** Longest wait for one fan-out to finish before the run fails. */
const TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 250;

const db = benchEnv.DB;
const worker = (exports as unknown as { default: Fetcher }).default;
const log = (message: string) => console.log(`[bench] ${message}`);

async function queueMeter(reset = false): Promise<D1Counts> {
  const response = await worker.fetch(`http://bulkcall.bench/__bench/queue-meter${reset ? "?reset" : ""}`);
  if (!response.ok) throw new Error(`queue meter: ${response.status} ${await response.text()}`);
  return (await response.json()) as D1Counts;
}

/** Posts the bulk request; returns its answer and the wall-clock time it arrived. */
async function bulk(auth: Record<string, string>, envelope: Record<string, unknown>, records: unknown[]) {
  const response = await worker.fetch(
    new Request("http://bulkcall.bench/api/v1/customers/add/bulk", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...auth },
      body: JSON.stringify({ ...envelope, records }),
    }),
  );
  const text = await response.text();
  const answeredAt = Date.now();
  expect(response.status, text.slice(0, 500)).toBe(201);
  const answer = JSON.parse(text) as { importId: string; workflowTriggered?: boolean };
  return { answer, answeredAt };
}

interface Progress {
  done: number;
  first: number | null;
  last: number | null;
}

/**
 * Polls until `total` items of the import are handled. Fails at once when one of its outbox
 * batches failed (the items would never come), and after TIMEOUT_MS.
 */
async function waitFor(what: string, importId: string, total: number, probe: () => Promise<Progress>) {
  const deadline = Date.now() + TIMEOUT_MS;
  let lastLogged = Date.now();
  for (;;) {
    const progress = await probe();
    if (progress.done >= total) return progress;
    const failed = await db
      .prepare("SELECT count(*) AS n FROM outbox_batches WHERE import_id = ? AND state = 'failed'")
      .bind(importId)
      .first<number>("n");
    if (failed || Date.now() > deadline) {
      throw new Error(`${what}: ${progress.done} of ${total} handled, ${failed} batches failed`);
    }
    if (Date.now() - lastLogged > 10_000) {
      log(`${what}: ${progress.done} of ${total}`);
      lastLogged = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Waits until every outbox batch of the import is done: the consumers have finished with it. */
async function batchesDone(importId: string, batches: number) {
  await waitFor("outbox batches", importId, batches, async () => {
    const n = await db
      .prepare("SELECT count(*) AS n FROM outbox_batches WHERE import_id = ? AND state = 'done'")
      .bind(importId)
      .first<number>("n");
    return { done: n ?? 0, first: null, last: null };
  });
}

function result(customers: number, progress: Progress, answeredAt: number, d1: D1Counts): FanoutResult {
  const last = (progress.last as number) - answeredAt;
  return {
    customers,
    first_ms: (progress.first as number) - answeredAt,
    last_ms: last,
    per_s: Math.round(customers / (last / 1000)),
    d1_calls: d1.calls,
    d1_statements: d1.statements,
    statements_per_item: Math.round((d1.statements / customers) * 10_000) / 10_000,
  };
}

it("measures the fan-out of calls and workflow runs", { timeout: 2 * TIMEOUT_MS + 60_000 }, async (ctx) => {
  const tenant = await newTenant();
  // None paid, so every customer is called.
  const records = loanRecords(CALL_CUSTOMERS).map((r) => ({ ...r, payment_status: "pending" }));

  // Calls: a campaign whose calling window is open now (the consumer reads the system clock).
  await createCampaign(tenant.auth, { id: "fanout", ...windowOpenNow() });
  await queueMeter(true);
  const calls = await bulk(
    tenant.auth,
    { campaignId: "fanout", initiateCall: true, callConfig: CALL_CONFIG },
    records,
  );
  log("fanout_10k: answered; waiting for the consumer");
  const dispatched = await waitFor("fanout_10k", calls.answer.importId, CALL_CUSTOMERS, async () => {
    const row = await db
      .prepare(
        "SELECT count(*) AS done, min(dispatched_at) AS first, max(dispatched_at) AS last FROM calls WHERE import_id = ? AND status = 'dispatched'",
      )
      .bind(calls.answer.importId)
      .first<Progress>();
    return row as Progress;
  });
  await batchesDone(calls.answer.importId, CALL_CUSTOMERS / BATCH);
  const fanout = result(CALL_CUSTOMERS, dispatched, calls.answeredAt, await queueMeter(true));
  log(
    `fanout_10k: first call ${fanout.first_ms} ms, last ${fanout.last_ms} ms after the answer; ${fanout.per_s} calls/s; ` +
      `${fanout.d1_calls} D1 calls, ${fanout.d1_statements} statements (${fanout.statements_per_item} per call)`,
  );

  // Workflow runs: a long wait first, so a run that starts only reads its customer and sleeps; what
  // is timed is the creation of the instances.
  await createCampaign(tenant.auth, {
    id: "flow",
    ...windowOpenNow(),
    workflow: { steps: [{ type: "wait", duration: "30d" }, { type: "call" }] },
  });
  const flow = await bulk(
    tenant.auth,
    { campaignId: "flow", useWorkflow: true, callConfig: CALL_CONFIG },
    records.slice(0, WORKFLOW_CUSTOMERS),
  );
  expect(flow.answer.workflowTriggered).toBe(true);
  log(`workflow_start: ${WORKFLOW_CUSTOMERS} customers answered; waiting for the instances`);
  const started = await waitFor("workflow_start", flow.answer.importId, WORKFLOW_CUSTOMERS, async () => {
    const row = await db
      .prepare(
        "SELECT count(*) AS done, min(started_at) AS first, max(started_at) AS last FROM workflow_runs WHERE import_id = ? AND started_at IS NOT NULL",
      )
      .bind(flow.answer.importId)
      .first<Progress>();
    return row as Progress;
  });
  await batchesDone(flow.answer.importId, Math.ceil(WORKFLOW_CUSTOMERS / BATCH));
  const workflows = result(WORKFLOW_CUSTOMERS, started, flow.answeredAt, await queueMeter(true));
  log(
    `workflow_start: first instance ${workflows.first_ms} ms, last ${workflows.last_ms} ms after the answer; ` +
      `${workflows.per_s} instances/s (the platform allows ${WORKFLOW_CREATES_PER_S_LIMIT}/s)`,
  );

  ctx.task.meta.fanout = {
    fanout_10k: {
      ...fanout,
      target_statements_per_call: FANOUT_STATEMENTS_PER_CALL_TARGET,
      met: fanout.statements_per_item <= FANOUT_STATEMENTS_PER_CALL_TARGET,
    },
    workflow_start: {
      ...workflows,
      platform_limit_per_s: WORKFLOW_CREATES_PER_S_LIMIT,
      ratio_to_limit: Math.round((workflows.per_s / WORKFLOW_CREATES_PER_S_LIMIT) * 100) / 100,
    },
  };
});
