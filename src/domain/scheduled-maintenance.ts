// What the cron trigger does on every tick: re-drive outbox batches whose hand-off was lost and
// delayed calls whose message was lost, forget Idempotency-Keys past their retention (their imports
// stay readable), and hand webhook deliveries that were never queued, or whose message was lost, to
// the queue (deleting old finished ones).

import { redriveOverdueCalls } from "./calls/due-calls";
import { type RedriveDeps, type RedriveResult, redriveOutbox } from "./calls/redrive-outbox";
import type { DueCallsMessage } from "./model/outbox";
import type { CallsRepository } from "./ports/calls-repository";
import type { ImportsRepository } from "./ports/imports-repository";
import type { QueueProducer } from "./ports/queue";
import { type HandOffDeps, redriveDeliveries } from "./webhooks/hand-off";

/** How long a stored answer can be replayed with its Idempotency-Key (the contract asks >= 24 h). */
export const IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface MaintenanceDeps extends RedriveDeps, HandOffDeps {
  imports: ImportsRepository;
  calls: CallsRepository;
  callsQueue: QueueProducer<DueCallsMessage> & RedriveDeps["callsQueue"];
}

export async function runScheduledMaintenance(deps: MaintenanceDeps): Promise<{
  redrive: RedriveResult;
  overdueCalls: number;
  expiredIdempotencyKeys: number;
  webhooks: Awaited<ReturnType<typeof redriveDeliveries>>;
}> {
  const redrive = await redriveOutbox(deps);
  const overdueCalls = await redriveOverdueCalls(deps);
  const webhooks = await redriveDeliveries(deps);
  const expiredIdempotencyKeys = await deps.imports.expireIdempotencyKeys(
    deps.clock.now() - IDEMPOTENCY_RETENTION_MS,
  );
  if (expiredIdempotencyKeys > 0) deps.log("idempotency_keys_expired", { count: expiredIdempotencyKeys });
  return { redrive, overdueCalls, expiredIdempotencyKeys, webhooks };
}
