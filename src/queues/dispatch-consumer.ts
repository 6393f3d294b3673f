// The CALLS and WORKFLOWS consumers: each message points at one outbox batch (or, on CALLS, names
// waiting calls); the domain decides what to do with it and says ack or retry, and this file only
// talks to the queue.

import {
  dispatchCallBatch,
  type MessageVerdict,
  retryDelaySeconds,
} from "../domain/calls/dispatch-call-batch";
import { dispatchDueCalls } from "../domain/calls/due-calls";
import { describeError } from "../domain/errors";
import { CallsQueueMessage, DispatchMessage } from "../domain/model/outbox";
import type { Clock } from "../domain/ports/clock";
import type { OutboxRepository } from "../domain/ports/outbox-repository";
import { startWorkflowBatch } from "../domain/workflows/start-workflow-batch";

interface ConsumerDeps {
  outbox: OutboxRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

interface Parser<M> {
  safeParse(body: unknown): { success: true; data: M } | { success: false };
}

function consumer<M extends { kind: string; importId: string }, D extends ConsumerDeps>(
  name: string,
  schema: Parser<M>,
  handle: (deps: D, message: M) => Promise<MessageVerdict>,
) {
  async function consumeOne(message: Message<unknown>, deps: D): Promise<void> {
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      // No retry can make a malformed message valid.
      deps.log(`${name}_message_malformed`, { messageId: message.id, body: message.body });
      message.ack();
      return;
    }
    const body = parsed.data;
    const fields =
      "callIds" in body
        ? { kind: body.kind, importId: body.importId, calls: (body.callIds as string[]).length }
        : body;
    try {
      const verdict = await handle(deps, body);
      if (verdict.kind === "ack") {
        message.ack();
        return;
      }
      const delaySeconds = retryDelaySeconds(message.attempts, verdict.minDelaySeconds);
      deps.log(`${name}_message_retry`, {
        ...fields,
        attempts: message.attempts,
        delaySeconds,
        reason: verdict.reason,
      });
      message.retry({ delaySeconds });
    } catch (err) {
      // A crash half-way (storage error, bug): nothing is lost, because every step is idempotent
      // (claimed call rows are only re-claimed after their lease; runs already started are kept).
      const error = describeError(err);
      deps.log(`${name}_message_failed`, { ...fields, attempts: message.attempts, error });
      await recordError(deps, body, error);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }

  return async (batch: MessageBatch<unknown>, deps: D): Promise<void> => {
    // Messages are independent (each points at its own outbox batch or calls), so they run side by side.
    await Promise.all(batch.messages.map((message) => consumeOne(message, deps)));
  };
}

/** The last error is kept on the message's outbox batch, for the dead-letter consumer to report. */
async function recordError(deps: ConsumerDeps, body: { kind: string }, error: string) {
  const parsed = DispatchMessage.safeParse(body);
  if (!parsed.success) return;
  try {
    const row = await deps.outbox.find(parsed.data.importId, parsed.data.kind, parsed.data.batchNo);
    if (row) await deps.outbox.recordError(row.id, error, deps.clock.now());
  } catch {
    // The database is what failed; the retry is what matters.
  }
}

type CallsDeps = Parameters<typeof dispatchCallBatch>[0] & Parameters<typeof dispatchDueCalls>[0];

/** A schema narrowed to the messages one queue may carry. */
function only<M>(schema: Parser<M>, accept: (m: M) => boolean): Parser<M> {
  return {
    safeParse: (body) => {
      const parsed = schema.safeParse(body);
      return parsed.success && accept(parsed.data) ? parsed : { success: false };
    },
  };
}

export const consumeCalls = consumer(
  "calls",
  only(CallsQueueMessage, (m) => m.kind !== "workflow"),
  (deps: CallsDeps, message: CallsQueueMessage) =>
    message.kind === "due" ? dispatchDueCalls(deps, message) : dispatchCallBatch(deps, message),
);
export const consumeWorkflows = consumer(
  "workflows",
  only(DispatchMessage, (m) => m.kind === "workflow"),
  startWorkflowBatch,
);
