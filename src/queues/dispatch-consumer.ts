// The CALLS and WORKFLOWS consumers: each message points at one outbox batch; the domain decides
// what to do with it and says ack or retry, and this file only talks to the queue.

import {
  dispatchCallBatch,
  type MessageVerdict,
  retryDelaySeconds,
} from "../domain/calls/dispatch-call-batch";
import { describeError } from "../domain/errors";
import { DispatchMessage } from "../domain/model/outbox";
import type { Clock } from "../domain/ports/clock";
import type { OutboxRepository } from "../domain/ports/outbox-repository";
import { startWorkflowBatch } from "../domain/workflows/start-workflow-batch";

interface ConsumerDeps {
  outbox: OutboxRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

function dispatchConsumer<D extends ConsumerDeps>(
  kind: DispatchMessage["kind"],
  handle: (deps: D, message: DispatchMessage) => Promise<MessageVerdict>,
) {
  async function consumeOne(message: Message<unknown>, deps: D): Promise<void> {
    const parsed = DispatchMessage.safeParse(message.body);
    if (!parsed.success || parsed.data.kind !== kind) {
      // No retry can make a malformed message valid.
      deps.log(`${kind}s_message_malformed`, { messageId: message.id, body: message.body });
      message.ack();
      return;
    }
    try {
      const verdict = await handle(deps, parsed.data);
      if (verdict.kind === "ack") {
        message.ack();
        return;
      }
      const delaySeconds = retryDelaySeconds(message.attempts, verdict.minDelaySeconds);
      deps.log(`${kind}s_message_retry`, {
        ...parsed.data,
        attempts: message.attempts,
        delaySeconds,
        reason: verdict.reason,
      });
      message.retry({ delaySeconds });
    } catch (err) {
      // A crash half-way (storage error, bug): nothing is lost, because every step is idempotent
      // (claimed call rows are only re-claimed after their lease; runs already started are kept).
      const error = describeError(err);
      deps.log(`${kind}s_message_failed`, { ...parsed.data, attempts: message.attempts, error });
      await recordError(deps, parsed.data, error);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }

  return async (batch: MessageBatch<unknown>, deps: D): Promise<void> => {
    // Messages are independent (each points at its own outbox batch), so they run side by side.
    await Promise.all(batch.messages.map((message) => consumeOne(message, deps)));
  };
}

async function recordError(deps: ConsumerDeps, body: DispatchMessage, error: string) {
  try {
    const row = await deps.outbox.find(body.importId, body.kind, body.batchNo);
    if (row) await deps.outbox.recordError(row.id, error, deps.clock.now());
  } catch {
    // The database is what failed; the retry is what matters.
  }
}

export const consumeCalls = dispatchConsumer("call", dispatchCallBatch);
export const consumeWorkflows = dispatchConsumer("workflow", startWorkflowBatch);
