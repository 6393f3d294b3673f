// The only place that turns the Worker's `env` into the domain's dependencies. The fetch, queue and
// scheduled handlers and the Workflow all call createDeps, so the entry points cannot drift apart.
import { createHttpDialer } from "./adapters/dialers/http-dialer";
import { createLogDialer } from "./adapters/dialers/log-dialer";
import { createWebhookSender } from "./adapters/webhook-sender";
import { createWorkflowLauncher } from "./adapters/workflow-launcher";
import { createCallEventsRepository } from "./db/call-events-repository";
import { createCallsRepository } from "./db/calls-repository";
import { createCampaignsRepository } from "./db/campaigns-repository";
import { createDb, type Db } from "./db/client";
import { createCustomersRepository } from "./db/customers-repository";
import { createDialingControlRepository } from "./db/dialing-control-repository";
import { createImportsRepository } from "./db/imports-repository";
import { createOutboxRepository } from "./db/outbox-repository";
import { createSuppressionsRepository } from "./db/suppressions-repository";
import { createTenancyRepository } from "./db/tenancy-repository";
import { createWebhookDeliveriesRepository } from "./db/webhook-deliveries-repository";
import { createWebhooksRepository } from "./db/webhooks-repository";
import { createWorkflowRunsRepository } from "./db/workflow-runs-repository";
import { ApiKeyCache } from "./domain/auth";
import type { CallsQueueMessage, DispatchMessage } from "./domain/model/outbox";
import type { WebhookMessage } from "./domain/model/webhook";
import type { CustomerRunParams } from "./domain/model/workflow";
import { type Clock, systemClock } from "./domain/ports/clock";
import { type Dialer, unconfiguredDialer } from "./domain/ports/dialer";
import type { QueueProducer } from "./domain/ports/queue";
import type { WebhookSender } from "./domain/ports/webhook-sender";
import type { WorkflowLauncher } from "./domain/ports/workflows";
import type { AppEnv } from "./env";

/** One per isolate: every request the isolate serves shares what it has looked up. */
const apiKeyCache = new ApiKeyCache();

function log(event: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ event, ...fields }));
}

function createRepositories(db: Db) {
  return {
    db,
    tenancy: createTenancyRepository(db),
    campaigns: createCampaignsRepository(db),
    customers: createCustomersRepository(db),
    imports: createImportsRepository(db),
    outbox: createOutboxRepository(db),
    calls: createCallsRepository(db),
    callEvents: createCallEventsRepository(db),
    dialingControl: createDialingControlRepository(db),
    suppressions: createSuppressionsRepository(db),
    workflowRuns: createWorkflowRunsRepository(db),
    webhooks: createWebhooksRepository(db),
    webhookDeliveries: createWebhookDeliveriesRepository(db),
  };
}

/** DIALER selects the adapter: "log" (the default) or "http" (needs DIALER_URL and DIALER_SECRET). */
export function createDialer(env: AppEnv): Dialer {
  const kind = env.DIALER ?? "log";
  if (kind === "log") return createLogDialer(log);
  if (kind !== "http") return unconfiguredDialer(`DIALER must be "log" or "http", not "${kind}"`);
  if (!env.DIALER_URL || !env.DIALER_SECRET) {
    return unconfiguredDialer("DIALER=http needs DIALER_URL and the DIALER_SECRET secret");
  }
  // Signatures carry wall-clock time whatever clock the business rules use.
  return createHttpDialer({ url: env.DIALER_URL, secret: env.DIALER_SECRET, clock: systemClock });
}

export interface DepsOverrides {
  clock?: Clock;
  dialer?: Dialer;
  callsQueue?: QueueProducer<CallsQueueMessage>;
  workflowsQueue?: QueueProducer<DispatchMessage>;
  webhooksQueue?: QueueProducer<WebhookMessage>;
  workflowLauncher?: WorkflowLauncher;
  webhookSender?: WebhookSender;
}

export function createDeps(env: AppEnv, overrides: DepsOverrides = {}) {
  return {
    ...createRepositories(createDb(env)),
    callsQueue: overrides.callsQueue ?? (env.CALLS as Queue<CallsQueueMessage>),
    workflowsQueue: overrides.workflowsQueue ?? (env.WORKFLOWS as Queue<DispatchMessage>),
    webhooksQueue: overrides.webhooksQueue ?? (env.WEBHOOKS as Queue<WebhookMessage>),
    clock: overrides.clock ?? systemClock,
    apiKeyCache,
    dialer: overrides.dialer ?? createDialer(env),
    workflowLauncher:
      overrides.workflowLauncher ??
      createWorkflowLauncher(env.CUSTOMER_WORKFLOW as Workflow<CustomerRunParams>),
    // Signatures carry wall-clock time whatever clock the business rules use.
    webhookSender: overrides.webhookSender ?? createWebhookSender({ clock: systemClock }),
    /** Verifies the dialer's outcome reports; the events endpoint is off while it is unset. */
    dialerSecret: env.DIALER_SECRET,
    log,
  };
}
export type Deps = ReturnType<typeof createDeps>;
