// Consumer of the dead-letter queues: each message is one outbox batch whose retries ran out.
import { type DeadLetterDeps, markDeadLettered } from "../domain/calls/dead-letter";
import { describeError } from "../domain/errors";
import { DispatchMessage } from "../domain/model/outbox";

export async function consumeDeadLetters(batch: MessageBatch<unknown>, deps: DeadLetterDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = DispatchMessage.safeParse(message.body);
    if (!parsed.success) {
      deps.log("dead_letter_malformed", { queue: batch.queue, messageId: message.id, body: message.body });
      message.ack();
      continue;
    }
    try {
      await markDeadLettered(deps, parsed.data);
      message.ack();
    } catch (err) {
      deps.log("dead_letter_failed", {
        ...parsed.data,
        error: describeError(err),
      });
      message.retry({ delaySeconds: 60 });
    }
  }
}
