// The only place that turns the Worker's `env` into the domain's dependencies. The fetch, queue and
// scheduled handlers all call createDeps, so the three entry points cannot drift apart.
import { createCampaignsRepository } from "./db/campaigns-repository";
import { createD1Db, type Db } from "./db/client";
import { createCustomersRepository } from "./db/customers-repository";
import { createImportsRepository } from "./db/imports-repository";
import { createOutboxRepository } from "./db/outbox-repository";
import { createTenancyRepository } from "./db/tenancy-repository";
import { type Clock, systemClock } from "./domain/ports";
import type { AppEnv } from "./env";
import type { DispatchMessage } from "./queues/messages";

export function log(event: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ event, ...fields }));
}

export function createRepositories(db: Db) {
  return {
    db,
    tenancy: createTenancyRepository(db),
    campaigns: createCampaignsRepository(db),
    customers: createCustomersRepository(db),
    imports: createImportsRepository(db),
    outbox: createOutboxRepository(db),
  };
}

export function createDeps(env: AppEnv, overrides: { clock?: Clock } = {}) {
  return {
    ...createRepositories(createD1Db(env.DB)),
    callsQueue: env.CALLS as Queue<DispatchMessage>,
    workflowsQueue: env.WORKFLOWS as Queue<DispatchMessage>,
    clock: overrides.clock ?? systemClock,
    log,
  };
}
export type Deps = ReturnType<typeof createDeps>;
