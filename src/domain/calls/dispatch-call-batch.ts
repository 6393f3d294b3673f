// What the CALLS consumer does with one message: load the outbox batch it points at, place the
// batch's calls, and say what the queue should do with the message. A message may arrive twice, or
// after a consumer died half-way; placeCalls makes every run after the first harmless.

import type { CallsQueueMessage, DispatchMessage } from "../model/outbox";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import { callContextOf } from "./call-context";
import { delaySecondsUntil, MAX_DELAY_SECONDS } from "./due-calls";
import { CLAIM_LEASE_MS, type PlaceCallsDeps, placeCalls } from "./place-calls";

/** The origin of the bulk endpoint's calls (workflow steps use their own). */
export const BULK_ORIGIN = "bulk";
/** When calls lost a claim to a concurrent consumer: look again shortly. */
const CONTENDED_RETRY_MS = 30_000;

export interface DispatchCallBatchDeps extends PlaceCallsDeps {
  outbox: OutboxRepository;
  callsQueue: QueueProducer<CallsQueueMessage>;
}

export type MessageVerdict =
  /** Nothing left to do for this message. */
  | { kind: "ack"; note: "done" | "delayed" | "paused" | "cancelled" | "already_finished" | "unknown_batch" }
  /** Deliver the message again later (the queue's retry, counted against max_retries). */
  | { kind: "retry"; reason: string; minDelaySeconds?: number };

export async function dispatchCallBatch(
  deps: DispatchCallBatchDeps,
  message: DispatchMessage,
): Promise<MessageVerdict> {
  const { importId, batchNo } = message;
  // The batch, its import, campaign and organization in one read: a fixed cost per 500 calls.
  const found = await deps.outbox.findCallBatch(importId, batchNo);
  if (!found) {
    deps.log("call_batch_unknown", { importId, batchNo });
    return { kind: "ack", note: "unknown_batch" };
  }
  const { batch, import: imp, campaign, organization } = found;
  if (batch.state === "done" || batch.state === "failed") {
    deps.log("call_batch_already_finished", { importId, batchNo, state: batch.state });
    return { kind: "ack", note: "already_finished" };
  }
  const context = imp && campaign ? callContextOf(imp, campaign, organization) : undefined;
  if (!imp || !context) {
    // The outbox row points at its import by foreign key, so this is a broken database: let the
    // retries and then the dead-letter queue report it rather than guess.
    return { kind: "retry", reason: `import ${importId} or its campaign is missing` };
  }

  await deps.outbox.markProcessing(batch.id, deps.clock.now());
  const result = await placeCalls(deps, {
    ...context,
    batchNo,
    origin: BULK_ORIGIN,
    agentId: imp.agentId,
    dispositionId: imp.dispositionId,
    customerIds: batch.customerIds,
  });
  const now = deps.clock.now();
  deps.log("call_batch_processed", {
    importId,
    batchNo,
    dispatched: result.dispatched,
    skipped: result.skipped,
    failed: result.failed,
    delayed: result.delayed,
    ...(result.paused ? { paused: result.paused } : {}),
    ...(result.cancelled ? { cancelled: result.cancelled } : {}),
    ...(result.delayedUntil ? { delayedUntil: new Date(result.delayedUntil).toISOString() } : {}),
    ...(result.retry ? { retry: result.retry.reason } : {}),
  });

  if (result.retry) {
    await deps.outbox.recordError(batch.id, result.retry.reason, now);
    return { kind: "retry", reason: result.retry.reason, minDelaySeconds: result.retry.retryAfterSeconds };
  }
  if (context.importState === "cancelled") {
    await deps.outbox.markDone(batch.id, now);
    return { kind: "ack", note: "cancelled" };
  }
  if (context.importState === "paused" || context.campaignState === "paused" || result.pausedMeanwhile) {
    // The batch stays unfinished and holds no message: resuming sends it again.
    deps.log("call_batch_paused", { importId, batchNo });
    return { kind: "ack", note: "paused" };
  }
  const claimedElsewhere = result.calls.some((c) => c.status === "dispatching");
  const contended = result.calls.some((c) => c.status === "queued");
  const wake = Math.min(
    result.delayedUntil ?? Number.POSITIVE_INFINITY,
    contended ? now + CONTENDED_RETRY_MS : Number.POSITIVE_INFINITY,
  );
  if (Number.isFinite(wake)) {
    // A fresh message rather than message.retry(): waiting for a window or a limit is not a failure
    // and must not use up the retries that lead to the dead-letter queue. If the send throws, the
    // message is retried instead, so the batch is never left without a message.
    const delaySeconds = Math.max(1, delaySecondsUntil(wake, now));
    await deps.callsQueue.sendBatch([{ body: { kind: "call", importId, batchNo }, delaySeconds }]);
    await deps.outbox.markRequeued(batch.id, now);
    deps.log("call_batch_delayed", { importId, batchNo, delaySeconds });
    return { kind: "ack", note: "delayed" };
  }
  if (claimedElsewhere) {
    // Another consumer holds a live claim on some rows (a duplicate delivery running right now, or
    // one that died less than a lease ago). Look again once that claim has finished or expired.
    const outstanding = result.calls.filter((c) => c.status === "dispatching").length;
    const reason = `${outstanding} call(s) are being handed to the dialer by another attempt`;
    await deps.outbox.recordError(batch.id, reason, now);
    return { kind: "retry", reason, minDelaySeconds: Math.ceil(CLAIM_LEASE_MS / 1000) };
  }
  await deps.outbox.markDone(batch.id, now);
  return { kind: "ack", note: "done" };
}

/**
 * Exponential backoff for the queue's retry: 30 s, 1 min, 2 min, ... capped at 1 h, and never
 * shorter than what the dialer asked for (Retry-After). `attempts` is the message's delivery count.
 */
export function retryDelaySeconds(attempts: number, minDelaySeconds = 0): number {
  const backoff = Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));
  return Math.min(MAX_DELAY_SECONDS, Math.max(backoff, Math.ceil(minDelaySeconds)));
}
