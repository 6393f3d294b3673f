// Shared set-up for the calls tests: tenants with campaigns whose calling window is known, imports
// seeded without a queue (the test delivers the messages itself), and delivery helpers.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createDeps, type DepsOverrides } from "../src/deps";
import { addCustomersInBulk } from "../src/domain/intake/add-customers-in-bulk";
import type { DispatchMessage } from "../src/domain/model/outbox";
import type { Clock } from "../src/domain/ports/clock";
import type { DialBatch, Dialer } from "../src/domain/ports/dialer";
import type { QueueProducer } from "../src/domain/ports/queue";
import type { AppEnv } from "../src/env";
import { createWorker } from "../src/index";
import { call, loanRecord, newTenant } from "./helpers";

export const CALL_CONFIG = { agentId: "agent-1", dispositionId: "disp-1" };

/** A clock the test moves by hand. */
export function pinnedClock(iso: string): Clock & { set(iso: string): void; advance(ms: number): void } {
  let now = Date.parse(iso);
  return {
    now: () => now,
    set: (next) => {
      now = Date.parse(next);
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/**
 * A window open at the real current time (for runs through the real queue, which use the system
 * clock): all day in UTC, or from 21:00 UTC all day in India (02:30 there). Local midnight is then
 * always more than two hours away, so a rule that waits for the next local day (a daily cap)
 * outlasts one that waits an hour (the line gap), and the minute the window leaves out (23:59) is
 * never now.
 */
export function windowOpenNow() {
  const lateUtc = new Date().getUTCHours() >= 21;
  return {
    timezone: lateUtc ? "Asia/Kolkata" : "UTC",
    callingWindow: { start: "00:00", end: "23:59" },
  };
}

export async function createCampaign(auth: Record<string, string>, body: Record<string, unknown>) {
  const r = await call("POST", "/api/v1/campaigns", { name: "calls", campaignType: "emi", ...body }, auth);
  if (r.status !== 201) throw new Error(`campaign setup failed: ${r.text}`);
  return r.json;
}

/** A tenant plus campaign "ist": Asia/Kolkata, 08:00-19:00, Monday to Saturday. */
export async function callTenant() {
  const t = await newTenant();
  await createCampaign(t.auth, {
    id: "ist",
    timezone: "Asia/Kolkata",
    callingWindow: { start: "08:00", end: "19:00", days: ["mon", "tue", "wed", "thu", "fri", "sat"] },
  });
  return t;
}

/** Messages the code under test sends, captured so the test can deliver them when it wants. */
export function capturingQueue<Body = DispatchMessage>() {
  const sent: { body: Body; delaySeconds?: number }[] = [];
  return {
    sent,
    async sendBatch(messages: Iterable<{ body: Body; delaySeconds?: number }>) {
      sent.push(...messages);
    },
  };
}

/** A queue whose sends always fail (the hand-off the cron must recover). */
export const failingQueue = {
  async sendBatch(): Promise<void> {
    throw new Error("queue unavailable");
  },
};

/**
 * Stores the records with initiateCall (or useWorkflow) through the same domain function the bulk
 * endpoint uses, but with the queues captured: the outbox rows exist, and the test plays the queue.
 */
export async function seedCallImport(
  orgId: string,
  campaignId: string,
  records: unknown[],
  options: { useWorkflow?: boolean; queue?: QueueProducer<DispatchMessage> } = {},
): Promise<{ importId: string; messages: DispatchMessage[]; customerIds: number[] }> {
  const captured = capturingQueue();
  const queue = options.queue ?? captured;
  const deps = createDeps(env, options.useWorkflow ? { workflowsQueue: queue } : { callsQueue: queue });
  const outcome = await addCustomersInBulk(deps, {
    organizationId: orgId,
    campaignId,
    // The import consumes (empties) the array it is given: the caller's stays whole.
    records: [...records],
    initiateCall: !options.useWorkflow,
    useWorkflow: options.useWorkflow ?? false,
    // Workflows place their calls with the request's agent when their steps name none.
    callConfig: CALL_CONFIG,
  });
  if (outcome.body.results.successful !== records.length) {
    throw new Error(`seeding failed: ${JSON.stringify(outcome.body.results.errors.slice(0, 3))}`);
  }
  // What the endpoint runs once it has answered (recording the sends), as the endpoint would.
  await outcome.afterAnswer?.();
  const batches = await deps.outbox.listForImport(outcome.body.importId);
  return {
    importId: outcome.body.importId,
    messages: captured.sent.map((m) => m.body),
    customerIds: batches.flatMap((b) => b.customerIds),
  };
}

/** Wraps a dialer and counts, per call id, the hand-offs it accepted. */
export function countingDialer(inner: Dialer) {
  const accepted = new Map<string, number>();
  const requests: DialBatch[] = [];
  const dialer: Dialer = {
    name: `counting(${inner.name})`,
    async dispatch(batch) {
      requests.push(batch);
      const outcome = await inner.dispatch(batch);
      if (outcome.kind === "accepted") {
        for (const c of batch.calls) {
          if (!outcome.rejected.has(c.callId)) accepted.set(c.callId, (accepted.get(c.callId) ?? 0) + 1);
        }
      }
      return outcome;
    },
  };
  return { dialer, accepted, requests };
}

/** A worker whose invocations use these overrides (clock, dialer, captured queues). */
export function workerWith(overrides: DepsOverrides) {
  return createWorker({ deps: (e) => createDeps(e, overrides) });
}

let messageCounter = 0;

/**
 * Delivers messages to the worker's queue handler as the queue would, and returns its verdicts.
 * The test runtime's MessageBatch records retry() but drops its options, so the delay each retry
 * asked for is recorded here and merged into retryMessages. `bindings` replaces the Worker's env
 * (e.g. a metered D1 binding).
 */
export async function deliver(
  worker: ReturnType<typeof createWorker>,
  queueName: string,
  bodies: readonly unknown[],
  attempts = 1,
  bindings: AppEnv = env,
) {
  const batch = createMessageBatch<unknown>(
    queueName,
    bodies.map((body) => ({ id: `msg-${++messageCounter}`, timestamp: Date.now(), attempts, body })),
  );
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        delays.set(message.id, options?.delaySeconds);
        retry(options);
      },
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings);
  const result = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((m) => ({ msgId: m.msgId, delaySeconds: delays.get(m.msgId) })),
  };
}

export async function callsOf(campaignPkOrId: string, auth: Record<string, string>, status?: string) {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({
      limit: "500",
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const r = await call("GET", `/api/v1/campaigns/${campaignPkOrId}/calls?${qs}`, undefined, auth);
    if (r.status !== 200) throw new Error(`list calls failed: ${r.text}`);
    all.push(...r.json.data);
    cursor = r.json.nextCursor;
  } while (cursor);
  return all;
}

export async function progressOf(importId: string, auth: Record<string, string>) {
  const r = await call("GET", `/api/v1/imports/${importId}`, undefined, auth);
  if (r.status !== 200) throw new Error(`import progress failed: ${r.text}`);
  return r.json;
}

/** Polls `probe` until `done` accepts its value (what the real queue and workflows do runs on its own). */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}

/**
 * Waits until the CALLS queue has worked through every message sent before this call: a sentinel
 * import of one customer is sent after them, and the local queue delivers in order, so once the
 * sentinel's call is dispatched the earlier messages have been consumed. Lets a test assert that
 * nothing MORE happened (a duplicate message dialled nobody) without sleeping for a guessed time.
 */
export async function drainCallsQueue(t: { auth: Record<string, string> }) {
  const campaignId = `drain-${crypto.randomUUID().slice(0, 8)}`;
  await createCampaign(t.auth, { id: campaignId, ...windowOpenNow() });
  const sentinel = await call(
    "POST",
    "/api/v1/customers/add/bulk",
    { campaignId, records: [loanRecord(999_999)], initiateCall: true, callConfig: CALL_CONFIG },
    t.auth,
  );
  if (sentinel.status !== 201) throw new Error(`sentinel import failed: ${sentinel.text}`);
  await until(
    "the sentinel call to be dispatched",
    () => progressOf(sentinel.json.importId, t.auth),
    (p) => p.calls.dispatched === 1,
  );
}
