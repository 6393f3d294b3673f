// Producer side of webhook delivery, shaped like the call outbox: deliveries are rows written
// atomically with the state change they report (by the store's triggers), and this hands them to
// the WEBHOOKS queue. It runs after every operation that may have produced some (the calls
// consumer, the dialer's events endpoint, a bulk request's completion, a workflow run's end, a
// redelivery) and on every cron tick; a hand-off that fails or never runs leaves rows the next one
// picks up. Claims are atomic, so concurrent hand-offs never send a delivery twice.

import { describeError } from "../errors";
import type { WebhookMessage } from "../model/webhook";
import type { Clock } from "../ports/clock";
import type { QueueProducer } from "../ports/queue";
import type { WebhookDeliveriesRepository } from "../ports/webhooks-repository";

/** Messages per `sendBatch` call: the Queues limit. */
const SEND_BATCH_MAX_MESSAGES = 100;
/** Deliveries one hand-off claims; the rest wait for the next operation or cron tick. */
const HAND_OFF_LIMIT = 1000;
/**
 * A pending delivery whose next attempt is this overdue lost its queue message (a Worker died
 * between claiming and sending, or the message was dropped): the cron sends it again. Queue
 * deliveries run seconds late, not an hour.
 */
const OVERDUE_AFTER_MS = 60 * 60 * 1000;
/** Finished deliveries stay listable for 30 days, then the cron deletes them. */
const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Finished deliveries deleted per cron tick; a backlog drains over the next ticks. */
const RETENTION_BATCH = 1000;

export interface HandOffDeps {
  webhookDeliveries: WebhookDeliveriesRepository;
  webhooksQueue: QueueProducer<WebhookMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface HandOffResult {
  sent: number;
  failed: number;
}

/** Hands pending deliveries that have not been queued yet to the WEBHOOKS queue. */
export async function handOffDeliveries(deps: HandOffDeps, limit = HAND_OFF_LIMIT): Promise<HandOffResult> {
  const ids = await deps.webhookDeliveries.claimUnqueued(limit, deps.clock.now());
  return sendClaimed(deps, ids);
}

/**
 * Never lets a hand-off fail the operation it follows: the rows stay pending and the next hand-off
 * or the cron sends them.
 */
export async function handOffDeliveriesQuietly(deps: HandOffDeps): Promise<void> {
  try {
    await handOffDeliveries(deps);
  } catch (err) {
    deps.log("webhook_handoff_failed", { error: describeError(err) });
  }
}

/**
 * The cron's part: deliveries never queued, deliveries whose message was lost, and the deletion of
 * finished deliveries past DELIVERY_RETENTION_MS.
 */
export async function redriveDeliveries(
  deps: HandOffDeps,
): Promise<{ unqueued: HandOffResult; overdue: HandOffResult; expired: number }> {
  const now = deps.clock.now();
  const unqueued = await handOffDeliveries(deps);
  const overdueIds = await deps.webhookDeliveries.claimOverdue(now - OVERDUE_AFTER_MS, HAND_OFF_LIMIT, now);
  const overdue = await sendClaimed(deps, overdueIds);
  const expired = await deps.webhookDeliveries.deleteFinished(now - DELIVERY_RETENTION_MS, RETENTION_BATCH);
  if (unqueued.sent + unqueued.failed + overdue.sent + overdue.failed + expired > 0) {
    deps.log("webhook_deliveries_redriven", { unqueued, overdue, expired });
  }
  return { unqueued, overdue, expired };
}

async function sendClaimed(deps: HandOffDeps, ids: readonly string[]): Promise<HandOffResult> {
  const result: HandOffResult = { sent: 0, failed: 0 };
  for (let i = 0; i < ids.length; i += SEND_BATCH_MAX_MESSAGES) {
    const group = ids.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await deps.webhooksQueue.sendBatch(group.map((deliveryId) => ({ body: { deliveryId } })));
      result.sent += group.length;
    } catch (err) {
      const error = `could not be handed to the queue: ${describeError(err)}`;
      deps.log("webhook_handoff_send_failed", { deliveries: group.length, error });
      await deps.webhookDeliveries.releaseClaims(group, error, deps.clock.now());
      result.failed += group.length;
    }
  }
  return result;
}
