// What the WEBHOOKS consumer does with one message: one HTTP attempt of one delivery, and what the
// queue should do next. A failing attempt is retried by the queue with exponential backoff for
// about a day; when the retries run out the message is dead-lettered and markDeadLettered fails the
// delivery. A message may arrive twice: a finished delivery is never sent again (only an explicit
// redelivery reopens it), and a pending one that is sent twice carries the same webhook-id both
// times, which receivers de-duplicate on.

import type { Clock } from "../ports/clock";
import type { WebhookResponse, WebhookSender } from "../ports/webhook-sender";
import type { WebhookDeliveriesRepository } from "../ports/webhooks-repository";

/** Delay before the first retry; each next one is three times longer. */
const FIRST_RETRY_SECONDS = 30;
/**
 * Longest wait between two attempts. With it the schedule is 30 s, 1.5 min, 4.5 min, 13.5 min,
 * 40.5 min, 2 h, 6 h, 8 h, 8 h: the tenth attempt comes about 25 hours after the first.
 */
const MAX_BACKOFF_SECONDS = 8 * 60 * 60;
/** Queues refuses a delivery delay above 12 hours, whatever Retry-After asks for. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;
/** Random spread of each delay, so a receiver that comes back is not hit by every retry at once. */
const JITTER = 0.1;

/** Webhooks created by migration 0005 from URL workflow steps have no secret until it is rotated. */
const NO_SECRET =
  "the webhook has no signing secret yet: rotate it (POST /api/v1/webhooks/{id}/rotate-secret) to receive one";

export interface DeliverDeps {
  webhookDeliveries: WebhookDeliveriesRepository;
  webhookSender: WebhookSender;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export type DeliveryVerdict =
  | { kind: "ack"; note: "delivered" | "gave_up" | "already_finished" | "unknown_delivery" }
  | { kind: "retry"; delaySeconds: number; reason: string };

/**
 * Seconds until the next attempt after `attempts` failed ones (the queue message's delivery count):
 * 30 s times 3^(attempts-1), at most 8 h, spread by ±10 %, never sooner than the receiver's
 * Retry-After and never over the queue's 12-hour limit.
 */
export function webhookRetryDelaySeconds(
  attempts: number,
  retryAfterSeconds = 0,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(MAX_BACKOFF_SECONDS, FIRST_RETRY_SECONDS * 3 ** Math.max(0, attempts - 1));
  const spread = Math.round(backoff * (1 - JITTER + 2 * JITTER * random()));
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, spread, Math.ceil(retryAfterSeconds)));
}

/** The secrets a delivery is signed with at `now`: the current one, and the previous one during its grace period. */
function signingSecrets(
  webhook: { secret: string | null; previousSecret: string | null; previousSecretExpiresAt: number | null },
  now: number,
): string[] {
  const secrets: string[] = [];
  if (webhook.secret) secrets.push(webhook.secret);
  if (webhook.previousSecret && (webhook.previousSecretExpiresAt ?? 0) > now)
    secrets.push(webhook.previousSecret);
  return secrets;
}

/** One attempt of delivery `deliveryId`; `messageAttempts` is the queue message's delivery count (1 first). */
export async function deliverWebhook(
  deps: DeliverDeps,
  deliveryId: string,
  messageAttempts: number,
): Promise<DeliveryVerdict> {
  const found = await deps.webhookDeliveries.findForSending(deliveryId);
  if (!found) {
    deps.log("webhook_delivery_unknown", { deliveryId });
    return { kind: "ack", note: "unknown_delivery" };
  }
  const { delivery, webhook } = found;
  if (delivery.status !== "pending") return { kind: "ack", note: "already_finished" };
  if (webhook.deletedAt !== null) {
    await deps.webhookDeliveries.markFailed(deliveryId, "the webhook was deleted", deps.clock.now());
    return { kind: "ack", note: "gave_up" };
  }

  const secrets = signingSecrets(webhook, deps.clock.now());
  const response: WebhookResponse =
    secrets.length === 0
      ? { ok: false, status: null, error: NO_SECRET }
      : await deps.webhookSender.send({
          url: webhook.url,
          messageId: delivery.id,
          payload: delivery.payload,
          secrets,
        });
  const at = deps.clock.now();

  if (response.ok) {
    await deps.webhookDeliveries.recordAttempt(
      deliveryId,
      { outcome: "delivered", responseStatus: response.status },
      at,
    );
    return { kind: "ack", note: "delivered" };
  }
  if (response.status === 410) {
    // 410 Gone: the receiver says it wants no more of these (the specification's advice).
    await deps.webhookDeliveries.recordAttempt(
      deliveryId,
      { outcome: "failed", responseStatus: 410, error: `${response.error} (410 Gone: not retried)` },
      at,
    );
    return { kind: "ack", note: "gave_up" };
  }
  const delaySeconds = webhookRetryDelaySeconds(messageAttempts, response.retryAfterSeconds);
  await deps.webhookDeliveries.recordAttempt(
    deliveryId,
    {
      outcome: "retry",
      responseStatus: response.status,
      error: response.error,
      nextAttemptAt: at + delaySeconds * 1000,
    },
    at,
  );
  return { kind: "retry", delaySeconds, reason: response.error };
}

/**
 * The dead-letter consumer's job: the delivery's retries ran out. It fails with the last error
 * recorded for it.
 */
export async function markDeadLettered(
  deps: { webhookDeliveries: WebhookDeliveriesRepository; clock: Clock; log: DeliverDeps["log"] },
  deliveryId: string,
): Promise<void> {
  const found = await deps.webhookDeliveries.findForSending(deliveryId);
  if (found?.delivery.status !== "pending") return;
  const { attempts, lastError } = found.delivery;
  const reason = `dead_lettered after ${attempts} attempt(s): ${lastError ?? "the consumer failed on every delivery"}`;
  await deps.webhookDeliveries.markFailed(deliveryId, reason, deps.clock.now());
  deps.log("webhook_delivery_dead_lettered", { deliveryId, attempts });
}
