// What the cron trigger does on every tick: re-drive outbox batches whose hand-off was lost and
// delayed calls whose message was lost, forget Idempotency-Keys past their retention (their imports
// stay readable), hand webhook deliveries that were never queued, or whose message was lost, to the
// queue (deleting old finished ones), and go on erasing the customers of deleted campaigns.

import { redriveOverdueCalls } from "./calls/due-calls";
import { type RedriveDeps, type RedriveResult, redriveOutbox } from "./calls/redrive-outbox";
import { purgeDeletedCampaigns } from "./campaigns/delete-campaign";
import type { DueCallsMessage } from "./model/outbox";
import type { CallsRepository } from "./ports/calls-repository";
import type { CampaignsRepository } from "./ports/campaigns-repository";
import type { CustomersRepository } from "./ports/customers-repository";
import type { ImportsRepository } from "./ports/imports-repository";
import type { QueueProducer } from "./ports/queue";
import { type HandOffDeps, redriveDeliveries } from "./webhooks/hand-off";

/** How long a stored answer can be replayed with its Idempotency-Key (the contract asks >= 24 h). */
export const IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Abandoned imports resolved per cron run; a backlog drains over the next runs. */
const ABANDONED_PER_RUN = 100;

export interface MaintenanceDeps extends RedriveDeps, HandOffDeps {
  imports: ImportsRepository;
  calls: CallsRepository;
  callsQueue: QueueProducer<DueCallsMessage> & RedriveDeps["callsQueue"];
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
}

export async function runScheduledMaintenance(deps: MaintenanceDeps): Promise<{
  redrive: RedriveResult;
  overdueCalls: number;
  expiredIdempotencyKeys: number;
  abandonedImports: number;
  webhooks: Awaited<ReturnType<typeof redriveDeliveries>>;
  purge: Awaited<ReturnType<typeof purgeDeletedCampaigns>>;
}> {
  // An import whose attempt died and was never retried is failed with what it stored, so its key
  // stops being held and expires like any other; the customers it stored were written with their
  // outbox batches, which the re-drive below hands over.
  const abandoned = await deps.imports.resolveAbandoned(deps.clock.now(), ABANDONED_PER_RUN);
  if (abandoned.length > 0)
    deps.log("imports_abandoned", { count: abandoned.length, importIds: abandoned.slice(0, 10) });
  const redrive = await redriveOutbox(deps);
  const overdueCalls = await redriveOverdueCalls(deps);
  const webhooks = await redriveDeliveries(deps);
  const expiredIdempotencyKeys = await deps.imports.expireIdempotencyKeys(
    deps.clock.now() - IDEMPOTENCY_RETENTION_MS,
  );
  if (expiredIdempotencyKeys > 0) deps.log("idempotency_keys_expired", { count: expiredIdempotencyKeys });
  const purge = await purgeDeletedCampaigns(deps);
  return {
    redrive,
    overdueCalls,
    expiredIdempotencyKeys,
    abandonedImports: abandoned.length,
    webhooks,
    purge,
  };
}
