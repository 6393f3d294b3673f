// The D1 round trips of the request paths that matter most in production, measured with the
// metered binding of d1-meter.ts: the bulk endpoint (10,000 records, with and without initiateCall)
// and one CALLS consumer message (a batch of 500 customers). Used by test/d1.round-trips.test.ts,
// which checks the counter and prints the figures, and by `npm run bench`, which reports them.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createDeps } from "../src/deps";
import type { AppEnv } from "../src/env";
import { createWorker } from "../src/index";
import { QUEUES } from "../src/queues/handler";
import {
  CALL_CONFIG,
  capturingQueue,
  deliver,
  pinnedClock,
  seedCallImport,
  workerWith,
} from "./calls-fixtures";
import { type D1Around, type D1CallRecord, type D1Counts, interceptD1, meterD1 } from "./d1-meter";

export interface RoundTrips extends D1Counts {
  /** Every call, in start order, with its wave. */
  trace: D1CallRecord[];
  /**
   * Calls and statements of the work the request left running after its answer (afterResponse):
   * the counts above are the ones made before the answer, which the client waits on.
   */
  afterAnswer?: { calls: number; statements: number };
}

const bindings = env as unknown as AppEnv;

/**
 * POST /api/v1/customers/add/bulk through the Worker's own fetch with a metered D1 binding. The
 * queues are captured (nothing is consumed), so the figures are the request's alone.
 * `records` is the JSON text of the array, so a caller can reuse one serialization.
 */
export async function bulkRoundTrips(input: {
  auth: Record<string, string>;
  campaignId: string;
  recordsJson: string;
  initiateCall: boolean;
  idempotencyKey?: string;
  /** Also wraps every D1 call of the request (inside the meter). */
  around?: D1Around;
}): Promise<RoundTrips & { status: number; body: any }> {
  const meter = meterD1(bindings.DB);
  const db = input.around ? interceptD1(meter.db, input.around) : meter.db;
  const worker = createWorker({
    deps: (e) => createDeps(e, { callsQueue: capturingQueue(), workflowsQueue: capturingQueue() }),
  });
  const envelope = input.initiateCall
    ? `{"campaignId":${JSON.stringify(input.campaignId)},"initiateCall":true,"callConfig":${JSON.stringify(CALL_CONFIG)},"records":`
    : `{"campaignId":${JSON.stringify(input.campaignId)},"records":`;
  const request = new Request("http://bulkcall.test/api/v1/customers/add/bulk", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...input.auth,
      ...(input.idempotencyKey ? { "Idempotency-Key": input.idempotencyKey } : {}),
    },
    body: `${envelope}${input.recordsJson}}`,
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...bindings, DB: db }, ctx);
  // What the client waits on; work left for after the answer starts in a later turn (afterResponse).
  const atAnswer = meter.counts();
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  const all = meter.counts();
  return {
    ...atAnswer,
    afterAnswer: { calls: all.calls - atAnswer.calls, statements: all.statements - atAnswer.statements },
    trace: meter.calls(),
    status: response.status,
    body: JSON.parse(text),
  };
}

/** A Monday morning inside the calling window of the "ist" campaign that test/calls-fixtures.ts callTenant makes. */
const IST_WINDOW_OPEN = "2026-11-23T10:00:00+05:30";

/**
 * One CALLS message for a batch of `customers` stored with initiateCall, delivered to the Worker's
 * queue handler with a metered D1 binding, a quiet `log` dialer and a clock inside the calling
 * window of campaign "ist" (callTenant). Storing the batch is not counted.
 */
export async function consumerRoundTrips(input: {
  orgId: string;
  records: unknown[];
}): Promise<RoundTrips & { importId: string; acked: number; retried: number }> {
  const seeded = await seedCallImport(input.orgId, "ist", input.records);
  if (seeded.messages.length !== 1) {
    throw new Error(`expected one call batch, got ${seeded.messages.length}: keep records at 500 or fewer`);
  }
  const meter = meterD1(bindings.DB);
  const worker = workerWith({ clock: pinnedClock(IST_WINDOW_OPEN), dialer: createLogDialer(() => {}) });
  const result = await deliver(worker, QUEUES.calls, seeded.messages, 1, { ...bindings, DB: meter.db });
  return {
    ...meter.counts(),
    trace: meter.calls(),
    importId: seeded.importId,
    acked: result.explicitAcks.length,
    retried: result.retryMessages.length,
  };
}
