// The CALLS consumer: translates each message's verdict into ack / retry. All decisions live in
// src/domain/calls; this file only talks to the queue.
import {
  type DispatchCallBatchDeps,
  dispatchCallBatch,
  retryDelaySeconds,
} from "../domain/calls/dispatch-call-batch";
import { DispatchMessage } from "./messages";

export async function consumeCalls(batch: MessageBatch<unknown>, deps: DispatchCallBatchDeps): Promise<void> {
  // Messages are independent (each points at its own outbox batch), so they run side by side.
  await Promise.all(batch.messages.map((message) => consumeOne(message, deps)));
}

async function consumeOne(message: Message<unknown>, deps: DispatchCallBatchDeps): Promise<void> {
  const parsed = DispatchMessage.safeParse(message.body);
  if (!parsed.success || parsed.data.kind !== "call") {
    // No retry can make a malformed message valid.
    deps.log("calls_message_malformed", { messageId: message.id, body: message.body });
    message.ack();
    return;
  }
  try {
    const verdict = await dispatchCallBatch(deps, parsed.data);
    if (verdict.kind === "ack") {
      message.ack();
      return;
    }
    const delaySeconds = retryDelaySeconds(message.attempts, verdict.minDelaySeconds);
    deps.log("calls_message_retry", {
      ...parsed.data,
      attempts: message.attempts,
      delaySeconds,
      reason: verdict.reason,
    });
    message.retry({ delaySeconds });
  } catch (err) {
    // A crash half-way (storage error, bug): nothing is lost, because the rows already claimed
    // are only re-claimed after their lease, and everything else is simply done again.
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    deps.log("calls_message_failed", { ...parsed.data, attempts: message.attempts, error });
    await recordError(deps, parsed.data, error);
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

async function recordError(deps: DispatchCallBatchDeps, body: DispatchMessage, error: string) {
  try {
    const row = await deps.calls.batches.find(body.importId, "call", body.batchNo);
    if (row) await deps.calls.batches.recordError(row.id, error, deps.clock.now());
  } catch {
    // The database is what failed; the retry is what matters.
  }
}
