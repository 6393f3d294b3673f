// The WEBHOOKS consumer and its dead-letter consumer: each message names one delivery; the domain
// makes the attempt and says ack or retry, and this file only talks to the queue.
import { describeError } from "../domain/errors";
import { WebhookMessage } from "../domain/model/webhook";
import {
  type DeliverDeps,
  deliverWebhook,
  markDeadLettered,
  webhookRetryDelaySeconds,
} from "../domain/webhooks/deliver";

export async function consumeWebhooks(batch: MessageBatch<unknown>, deps: DeliverDeps): Promise<void> {
  // Deliveries are independent, so a slow receiver holds up only its own message.
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = WebhookMessage.safeParse(message.body);
      if (!parsed.success) {
        // No retry can make a malformed message valid.
        deps.log("webhook_message_malformed", { messageId: message.id, body: message.body });
        message.ack();
        return;
      }
      const { deliveryId } = parsed.data;
      try {
        const verdict = await deliverWebhook(deps, deliveryId, message.attempts);
        if (verdict.kind === "ack") {
          message.ack();
          return;
        }
        deps.log("webhook_delivery_retry", {
          deliveryId,
          attempts: message.attempts,
          delaySeconds: verdict.delaySeconds,
          reason: verdict.reason,
        });
        message.retry({ delaySeconds: verdict.delaySeconds });
      } catch (err) {
        // The database failed, not the receiver: the same backoff, and the delivery stays pending.
        deps.log("webhook_delivery_error", {
          deliveryId,
          attempts: message.attempts,
          error: describeError(err),
        });
        message.retry({ delaySeconds: webhookRetryDelaySeconds(message.attempts) });
      }
    }),
  );
}

export async function consumeWebhookDeadLetters(
  batch: MessageBatch<unknown>,
  deps: DeliverDeps,
): Promise<void> {
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (!parsed.success) {
      deps.log("webhook_dead_letter_malformed", { messageId: message.id, body: message.body });
      message.ack();
      continue;
    }
    try {
      await markDeadLettered(deps, parsed.data.deliveryId);
      message.ack();
    } catch (err) {
      deps.log("webhook_dead_letter_failed", { ...parsed.data, error: describeError(err) });
      message.retry({ delaySeconds: 60 });
    }
  }
}
