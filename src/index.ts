import { createApp } from "./app";
import { createDeps, type Deps } from "./deps";
import { runScheduledMaintenance } from "./domain/scheduled-maintenance";
import type { AppEnv } from "./env";
import { handleQueue } from "./queues/handler";

export interface WorkerOptions {
  /** How an invocation gets its dependencies; tests pass one with a pinned clock or a dialer. */
  deps?: (env: AppEnv) => Deps;
}

/** The three entry points, all built on the same createDeps. */
export function createWorker(options: WorkerOptions = {}) {
  const makeDeps = options.deps ?? ((env: AppEnv) => createDeps(env));
  const app = createApp({ deps: makeDeps });
  return {
    fetch: app.fetch,
    async queue(batch: MessageBatch<unknown>, env: AppEnv) {
      await handleQueue(batch, makeDeps(env));
    },
    // Cron (wrangler.jsonc triggers.crons): re-sends outbox batches whose hand-off was lost and
    // expires old Idempotency-Keys.
    async scheduled(_controller: ScheduledController, env: AppEnv) {
      await runScheduledMaintenance(makeDeps(env));
    },
  } satisfies ExportedHandler<AppEnv, unknown>;
}

export default createWorker();

export { CustomerWorkflow } from "./workflows/customer-workflow";
