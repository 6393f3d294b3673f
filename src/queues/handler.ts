// The Worker's queue entry point: routes a batch to its consumer by queue name (the names are the
// ones in wrangler.jsonc).
import type { Deps } from "../deps";
import { handOffDeliveriesQuietly } from "../domain/webhooks/hand-off";
import { consumeDeadLetters } from "./dead-letter-consumer";
import { consumeCalls, consumeWorkflows } from "./dispatch-consumer";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./webhooks-consumer";

export const QUEUES = {
  calls: "bulkcall-calls",
  callsDeadLetter: "bulkcall-calls-dlq",
  workflows: "bulkcall-workflows",
  workflowsDeadLetter: "bulkcall-workflows-dlq",
  webhooks: "bulkcall-webhooks",
  webhooksDeadLetter: "bulkcall-webhooks-dlq",
} as const;

export async function handleQueue(batch: MessageBatch<unknown>, deps: Deps): Promise<void> {
  switch (batch.queue) {
    case QUEUES.calls:
      await consumeCalls(batch, deps);
      // Calls that ended (skipped, refused by the dialer) recorded their outcome events.
      return handOffDeliveriesQuietly(deps);
    case QUEUES.workflows:
      return consumeWorkflows(batch, deps);
    case QUEUES.callsDeadLetter:
    case QUEUES.workflowsDeadLetter:
      await consumeDeadLetters(batch, deps);
      // Calls and runs the dead letters failed recorded their outcome events.
      return handOffDeliveriesQuietly(deps);
    case QUEUES.webhooks:
      return consumeWebhooks(batch, deps);
    case QUEUES.webhooksDeadLetter:
      return consumeWebhookDeadLetters(batch, deps);
    default:
      deps.log("queue_without_consumer", { queue: batch.queue, messages: batch.messages.length });
      batch.retryAll({ delaySeconds: 300 });
  }
}
