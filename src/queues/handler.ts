// The Worker's queue entry point: routes a batch to its consumer by queue name (the names are the
// ones in wrangler.jsonc).
import type { Deps } from "../deps";
import { consumeDeadLetters } from "./dead-letter-consumer";
import { consumeCalls, consumeWorkflows } from "./dispatch-consumer";

export const QUEUES = {
  calls: "bulkcall-calls",
  callsDeadLetter: "bulkcall-calls-dlq",
  workflows: "bulkcall-workflows",
  workflowsDeadLetter: "bulkcall-workflows-dlq",
} as const;

export async function handleQueue(batch: MessageBatch<unknown>, deps: Deps): Promise<void> {
  switch (batch.queue) {
    case QUEUES.calls:
      return consumeCalls(batch, deps);
    case QUEUES.workflows:
      return consumeWorkflows(batch, deps);
    case QUEUES.callsDeadLetter:
    case QUEUES.workflowsDeadLetter:
      return consumeDeadLetters(batch, deps);
    default:
      deps.log("queue_without_consumer", { queue: batch.queue, messages: batch.messages.length });
      batch.retryAll({ delaySeconds: 300 });
  }
}
