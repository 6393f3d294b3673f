// Consumer of the dead-letter queues: each message is one outbox batch whose retries ran out, or (on
// the calls queue) a message naming waiting calls.
import { type DeadLetterDeps, markDeadLettered, markDueCallsDeadLettered } from "../domain/calls/dead-letter";
import { describeError } from "../domain/errors";
import { DispatchMessage, DueCallsMessage } from "../domain/model/outbox";

export async function consumeDeadLetters(batch: MessageBatch<unknown>, deps: DeadLetterDeps): Promise<void> {
  for (const message of batch.messages) {
    const due = DueCallsMessage.safeParse(message.body);
    const parsed = DispatchMessage.safeParse(message.body);
    if (!due.success && !parsed.success) {
      deps.log("dead_letter_malformed", { queue: batch.queue, messageId: message.id, body: message.body });
      message.ack();
      continue;
    }
    try {
      if (due.success) await markDueCallsDeadLettered(deps, due.data);
      else if (parsed.success) await markDeadLettered(deps, parsed.data);
      message.ack();
    } catch (err) {
      deps.log("dead_letter_failed", {
        body: message.body,
        error: describeError(err),
      });
      message.retry({ delaySeconds: 60 });
    }
  }
}
