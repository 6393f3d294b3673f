// What the CALLS consumer does with one message: load the outbox batch it points at, place the
// batch's calls, and say what the queue should do with the message. A message may arrive twice, or
// after a consumer died half-way; placeCalls makes every run after the first harmless.

import type { DispatchMessage } from "../model/outbox";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import { CLAIM_LEASE_MS, type PlaceCallsDeps, placeCalls } from "./place-calls";

/** The origin of the bulk endpoint's calls (workflow steps use their own). */
export const BULK_ORIGIN = "bulk";
/** Queues refuses a delivery delay above 12 hours; a longer wait is delayed again on arrival. */
export const MAX_DELAY_SECONDS = 12 * 60 * 60;

export interface DispatchCallBatchDeps extends PlaceCallsDeps {
  campaigns: CampaignsRepository;
  calls: CallsRepository;
  imports: ImportsRepository;
  outbox: OutboxRepository;
  callsQueue: QueueProducer<DispatchMessage>;
}

export type MessageVerdict =
  /** Nothing left to do for this message. */
  | { kind: "ack"; note: "done" | "delayed" | "already_finished" | "unknown_batch" }
  /** Deliver the message again later (the queue's retry, counted against max_retries). */
  | { kind: "retry"; reason: string; minDelaySeconds?: number };

export async function dispatchCallBatch(
  deps: DispatchCallBatchDeps,
  message: DispatchMessage,
): Promise<MessageVerdict> {
  const { importId, batchNo } = message;
  const batch = await deps.outbox.find(importId, "call", batchNo);
  if (!batch) {
    deps.log("call_batch_unknown", { importId, batchNo });
    return { kind: "ack", note: "unknown_batch" };
  }
  if (batch.state === "done" || batch.state === "failed") {
    deps.log("call_batch_already_finished", { importId, batchNo, state: batch.state });
    return { kind: "ack", note: "already_finished" };
  }
  const imp = await deps.imports.findById(importId);
  const campaign = imp ? await deps.campaigns.findCampaignByPk(imp.campaignPk) : undefined;
  if (!imp || !campaign) {
    // The outbox row points at its import by foreign key, so this is a broken database: let the
    // retries and then the dead-letter queue report it rather than guess.
    return { kind: "retry", reason: `import ${importId} or its campaign is missing` };
  }

  await deps.outbox.markProcessing(batch.id, deps.clock.now());
  const result = await placeCalls(deps, {
    organizationId: imp.organizationId,
    campaign,
    importId,
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
    ...(result.delayedUntil ? { delayedUntil: new Date(result.delayedUntil).toISOString() } : {}),
    ...(result.retry ? { retry: result.retry.reason } : {}),
  });

  if (result.retry) {
    await deps.outbox.recordError(batch.id, result.retry.reason, now);
    return { kind: "retry", reason: result.retry.reason, minDelaySeconds: result.retry.retryAfterSeconds };
  }
  if (result.delayedUntil !== undefined) {
    // A fresh message rather than message.retry(): waiting for a window is not a failure and must
    // not use up the retries that lead to the dead-letter queue. If the send throws, the message is
    // retried instead, so the batch is never left without a message.
    const delaySeconds = Math.min(
      MAX_DELAY_SECONDS,
      Math.max(1, Math.ceil((result.delayedUntil - now) / 1000)),
    );
    await deps.callsQueue.sendBatch([{ body: { kind: "call", importId, batchNo }, delaySeconds }]);
    await deps.outbox.markRequeued(batch.id, now);
    deps.log("call_batch_delayed", { importId, batchNo, delaySeconds });
    return { kind: "ack", note: "delayed" };
  }
  const outstanding = result.calls.filter(
    (c) => c.status === "queued" || c.status === "delayed" || c.status === "dispatching",
  );
  if (outstanding.length > 0) {
    // Another consumer holds a live claim on some rows (a duplicate delivery running right now, or
    // one that died less than a lease ago). Look again once that claim has finished or expired.
    const reason = `${outstanding.length} call(s) are being handed to the dialer by another attempt`;
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
