// The one description of bulkcall's tables. `npm run db:generate` turns changes here into a new
// SQL file in migrations/, the folder that wrangler, the libSQL migrator and the tests all read.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { CALL_OUTCOMES, CALL_STATUSES } from "../domain/model/call";
import { CAMPAIGN_DIALING_STATES, CAMPAIGN_TYPES } from "../domain/model/campaign";
import { IMPORT_DIALING_STATES, IMPORT_KINDS, IMPORT_STATES } from "../domain/model/imports";
import { DISPATCH_KINDS, OUTBOX_STATES } from "../domain/model/outbox";
import { DELIVERY_STATUSES } from "../domain/model/webhook";
import { WORKFLOW_RUN_STATUSES } from "../domain/model/workflow";
import { nowMs as now } from "./sql";

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  // JSON {maxPerDay, maxPer7Days, minGapMinutes}; NULL = the documented defaults.
  contactPolicy: text("contact_policy"),
  // JSON array of YYYY-MM-DD dates on which no campaign of the organization calls; NULL = none.
  blackoutDates: text("blackout_dates"),
  createdAt: integer("created_at").notNull().default(now),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    // SHA-256 of the key, hex. The key itself is shown once and never stored.
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_key_hash").on(t.keyHash)],
);

// Campaigns, agents and dispositions have a caller-chosen `id` that is unique per organization
// only, so one tenant can never learn another's ids through a conflict. The integer `pk` is what
// the high-volume tables point at: it keeps every customer row a few bytes smaller.
export const campaigns = sqliteTable(
  "campaigns",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    id: text("id").notNull(),
    name: text("name").notNull(),
    campaignType: text("campaign_type", { enum: CAMPAIGN_TYPES }).notNull(),
    timezone: text("timezone").notNull(),
    defaultCountry: text("default_country").notNull(),
    windowStart: text("window_start").notNull(),
    windowEnd: text("window_end").notNull(),
    // JSON array of lower-case weekday names.
    windowDays: text("window_days").notNull(),
    // JSON workflow definition, or NULL for the documented default.
    workflow: text("workflow"),
    // JSON retry policy, or NULL for the documented default.
    retry: text("retry"),
    // JSON contact limits tighter than the organization's (any of them), or NULL for none.
    contactPolicy: text("contact_policy"),
    // JSON array of YYYY-MM-DD dates on which the campaign does not call, or NULL for none.
    blackoutDates: text("blackout_dates"),
    dialingState: text("dialing_state", { enum: CAMPAIGN_DIALING_STATES }).notNull().default("active"),
    pausedAt: integer("paused_at"),
    // The agent and disposition of calls whose request names none (callConfig is then optional).
    // Both set or both NULL.
    agentId: text("agent_id"),
    dispositionId: text("disposition_id"),
    createdAt: integer("created_at").notNull().default(now),
    // A deleted campaign keeps its row (its imports and de-identified calls point at it, for audit)
    // but leaves the API at once; its id may be given to a new campaign. `purged_at` is set once
    // every customer's personal data has been erased (large campaigns finish on the cron).
    deletedAt: integer("deleted_at"),
    purgedAt: integer("purged_at"),
  },
  (t) => [uniqueIndex("campaigns_org_id").on(t.organizationId, t.id).where(sql`deleted_at IS NULL`)],
);

export const agents = sqliteTable(
  "agents",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    id: text("id").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("agents_org_id").on(t.organizationId, t.id)],
);

export const dispositions = sqliteTable(
  "dispositions",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    id: text("id").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("dispositions_org_id").on(t.organizationId, t.id)],
);

export const customers = sqliteTable(
  "customers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    campaignPk: integer("campaign_pk")
      .notNull()
      .references(() => campaigns.pk),
    // loan_id for emi/edi campaigns, lead_id for lead campaigns: the contract's uniqueness key.
    dedupeKey: text("dedupe_key").notNull(),
    loanId: text("loan_id"),
    leadId: text("lead_id"),
    firstName: text("first_name").notNull(),
    lastName: text("last_name"),
    phoneNumber: text("phone_number").notNull(),
    loanAmount: real("loan_amount"),
    emiAmount: real("emi_amount"),
    loanPeriod: integer("loan_period"),
    currentEmi: integer("current_emi"),
    emiDueDate: text("emi_due_date"),
    paymentStatus: text("payment_status"),
    language: text("language"),
    leadDate: text("lead_date"),
    // Extra record keys, kept as the agent's variables (JSON object), NULL when there are none.
    variables: text("variables"),
    importId: text("import_id").notNull(),
    createdAt: integer("created_at").notNull(),
    // When an update last changed the row; NULL while it is as it was added.
    updatedAt: integer("updated_at"),
    // Set when the customer's personal data was erased: every field above is cleared, and
    // dedupe_key becomes a tombstone no record key can equal (see customers-repository.ts).
    erasedAt: integer("erased_at"),
  },
  (t) => [
    uniqueIndex("customers_campaign_key").on(t.campaignPk, t.dedupeKey),
    // A campaign's customers in id order (the rowid follows the indexed column): listings and the
    // selection of an initiation walk it with a keyset instead of sorting the campaign.
    index("customers_campaign").on(t.campaignPk),
  ],
);

// One row per request that writes customers or hands them to a queue (`kind`: bulk, single,
// initiation): its counts and the hand-off it asked for. With an Idempotency-Key it is
// also the key's lock: `processing` while an attempt runs (since `started_at`), `failed` when an
// attempt died with an error (a retry with the same key resumes it), `completed` with the answer
// kept in import_responses for replays.
export const imports = sqliteTable(
  "imports",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    campaignPk: integer("campaign_pk")
      .notNull()
      .references(() => campaigns.pk),
    idempotencyKey: text("idempotency_key"),
    bodyHash: text("body_hash"),
    kind: text("kind", { enum: IMPORT_KINDS }).notNull().default("bulk"),
    state: text("state", { enum: IMPORT_STATES }).notNull(),
    total: integer("total").notNull().default(0),
    valid: integer("valid").notNull().default(0),
    invalid: integer("invalid").notNull().default(0),
    successful: integer("successful").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    batchesProcessed: integer("batches_processed").notNull().default(0),
    // A bulk request with onExisting "update": how its successful records split. NULL otherwise.
    added: integer("added"),
    updated: integer("updated"),
    unchanged: integer("unchanged"),
    // An initiation: the customers its filters matched (it selected `total` of them).
    matched: integer("matched"),
    initiateCall: integer("initiate_call", { mode: "boolean" }).notNull().default(false),
    useWorkflow: integer("use_workflow", { mode: "boolean" }).notNull().default(false),
    agentId: text("agent_id"),
    dispositionId: text("disposition_id"),
    responseStatus: integer("response_status"),
    createdAt: integer("created_at").notNull(),
    // When the current attempt started (a resumed import keeps its createdAt), and which attempt it
    // is: completing or failing the import is conditional on it, so an attempt that was taken over
    // can no longer change the import its successor now runs.
    startedAt: integer("started_at"),
    attempt: integer("attempt").notNull().default(1),
    // While `processing`: until when the running attempt holds the key. The attempt renews it with
    // every chunk it writes; once it has lapsed (the Worker died), a retry takes the import over.
    leaseExpiresAt: integer("lease_expires_at"),
    completedAt: integer("completed_at"),
    // Whether the import's calls may go to the dialer; the claim reads it in the same statement.
    dialingState: text("dialing_state", { enum: IMPORT_DIALING_STATES }).notNull().default("active"),
    pausedAt: integer("paused_at"),
    cancelledAt: integer("cancelled_at"),
  },
  (t) => [
    uniqueIndex("imports_org_idempotency_key").on(t.organizationId, t.idempotencyKey),
    index("imports_campaign").on(t.campaignPk),
  ],
);

// An Idempotency-Key's stored answer, gzip-compressed and base64-encoded, in parts of at most 1 MB:
// a 10,000-record answer listing every error can be larger than D1's 2 MB ceiling for one value.
export const importResponses = sqliteTable(
  "import_responses",
  {
    importId: text("import_id")
      .notNull()
      .references(() => imports.id),
    part: integer("part").notNull(),
    data: text("data").notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.part] })],
);

// The outbox: one row per batch of <= 500 customers handed (or to be handed) to a queue. The rows
// are written in the same atomic batch as the customers they list, so no stored customer can miss
// its hand-off: a send that fails, or a request that dies, leaves `pending` rows the cron re-drives.
export const outboxBatches = sqliteTable(
  "outbox_batches",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    importId: text("import_id")
      .notNull()
      .references(() => imports.id),
    kind: text("kind", { enum: DISPATCH_KINDS }).notNull(),
    batchNo: integer("batch_no").notNull(),
    // JSON array of customer ids in this batch.
    customerIds: text("customer_ids").notNull(),
    size: integer("size").notNull(),
    // The batch's highest customer id: the import's next chunk hands over only customers above it.
    maxCustomerId: integer("max_customer_id"),
    state: text("state", { enum: OUTBOX_STATES }).notNull(),
    sendAttempts: integer("send_attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("outbox_batches_import_kind_no").on(t.importId, t.kind, t.batchNo),
    index("outbox_batches_state").on(t.state, t.updatedAt),
  ],
);

export const suppressions = sqliteTable(
  "suppressions",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    phoneNumber: text("phone_number").notNull(),
    reason: text("reason"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.phoneNumber] })],
);

// One row per customer per hand-off: the unique (import, customer, origin) key makes a redelivered
// queue message find the rows it already made instead of making new ones. `origin` is "bulk" for
// the bulk endpoint's initiateCall; a workflow's call step uses its own origin so that each step
// gets exactly one call. `pk` orders the listings; `id` is the opaque id the dialer sees.
export const calls = sqliteTable(
  "calls",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    campaignPk: integer("campaign_pk")
      .notNull()
      .references(() => campaigns.pk),
    importId: text("import_id")
      .notNull()
      .references(() => imports.id),
    batchNo: integer("batch_no").notNull(),
    origin: text("origin").notNull(),
    customerId: integer("customer_id")
      .notNull()
      .references(() => customers.id),
    // The number as it was when the call was created: what was (or will be) dialled.
    phoneNumber: text("phone_number").notNull(),
    // The customer's loan_id when the call was created: contact limits count per loan as well.
    loanId: text("loan_id"),
    // What the dialer is asked to use, so a retry needs nothing but the row.
    agentId: text("agent_id"),
    dispositionId: text("disposition_id"),
    // `dispatching` is a claim: one consumer owns the row while it hands it to the dialer.
    status: text("status", { enum: CALL_STATUSES }).notNull(),
    reason: text("reason"),
    disposition: text("disposition"),
    providerCallId: text("provider_call_id"),
    // Dial attempts begun (call_attempts holds each); a hand-off repeated after a lost answer is the
    // same attempt.
    attempts: integer("attempts").notNull().default(0),
    // While `delayed`: the moment before which the call is not made.
    notBefore: integer("not_before"),
    claimToken: text("claim_token"),
    claimedAt: integer("claimed_at"),
    dispatchedAt: integer("dispatched_at"),
    finishedAt: integer("finished_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("calls_id").on(t.id),
    uniqueIndex("calls_import_customer_origin").on(t.importId, t.customerId, t.origin),
    index("calls_import_batch").on(t.importId, t.batchNo),
    index("calls_campaign").on(t.campaignPk, t.pk),
    index("calls_campaign_status").on(t.campaignPk, t.status, t.pk),
    // The cron's look for waiting calls whose moment has passed but whose message never came.
    index("calls_delayed_due").on(t.notBefore).where(sql`status = 'delayed'`),
    // A customer's calls: stopping its waiting ones (paid, erased) and telling whether it has one.
    index("calls_customer").on(t.customerId, t.status),
  ],
);

// One row per dial attempt: what the contact limits count, per phone number and per loan_id across
// every campaign of the organization. A row is written by the claim that begins the attempt, in the
// same atomic batch, so two consumers can never both pass a limit. The two indexes make the count a
// range scan over the last 7 days of one number (or loan): a borrower's older history costs nothing.
export const callAttempts = sqliteTable(
  "call_attempts",
  {
    callPk: integer("call_pk")
      .notNull()
      .references(() => calls.pk),
    attempt: integer("attempt").notNull(),
    organizationId: text("organization_id").notNull(),
    phoneNumber: text("phone_number").notNull(),
    loanId: text("loan_id"),
    startedAt: integer("started_at").notNull(),
    // When the dialer reported the outcome, or the call ended otherwise; NULL while it may be live.
    endedAt: integer("ended_at"),
    outcome: text("outcome", { enum: CALL_OUTCOMES }),
    reason: text("reason"),
    disposition: text("disposition"),
    // The event that reported the outcome: the first one wins.
    outcomeEventId: text("outcome_event_id"),
  },
  (t) => [
    primaryKey({ columns: [t.callPk, t.attempt] }),
    index("call_attempts_phone").on(t.organizationId, t.phoneNumber, t.startedAt),
    index("call_attempts_loan").on(t.organizationId, t.loanId, t.startedAt).where(sql`loan_id IS NOT NULL`),
  ],
);

// The decision log: every judgement of a call (dispatched, delayed and why until when, skipped,
// paused, cancelled, retry scheduled, failed, completed), written by a trigger of migration 0008 in
// the statement that changes the call, so no code path can change a call without a trace.
export const callDecisions = sqliteTable(
  "call_decisions",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    callPk: integer("call_pk")
      .notNull()
      .references(() => calls.pk),
    at: integer("at").notNull(),
    status: text("status", { enum: CALL_STATUSES }).notNull(),
    reason: text("reason"),
    notBefore: integer("not_before"),
    attempt: integer("attempt").notNull(),
  },
  (t) => [index("call_decisions_call").on(t.callPk, t.pk)],
);

// Outcomes reported by the dialer. The event id is unique per organization (the organization of the
// call it names), so a redelivered event is recognised and applied at most once, and one tenant's
// ids never collide with another's. `receipt` marks the request that stored the event: only events
// new to that request are applied.
export const callEvents = sqliteTable(
  "call_events",
  {
    organizationId: text("organization_id").notNull(),
    eventId: text("event_id").notNull(),
    callId: text("call_id")
      .notNull()
      .references(() => calls.id),
    // The attempt the event reports on; NULL when the dialer did not say (the call's attempt then).
    attempt: integer("attempt"),
    receipt: text("receipt"),
    status: text("status", { enum: CALL_OUTCOMES }).notNull(),
    reason: text("reason"),
    disposition: text("disposition"),
    providerCallId: text("provider_call_id"),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    // The event as the dialer sent it (JSON), for audits.
    payload: text("payload").notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.eventId] }), index("call_events_call").on(t.callId)],
);

// One durable workflow run per customer per import. The instance id is derived from the two, so a
// redelivered WORKFLOWS message finds its runs (and Workflows refuses a second instance) instead of
// starting new ones. `status` mirrors the run for the import's progress: queued (row written, no
// instance yet), started (instance created), running, completed (finished, or stopped because the
// customer paid: see `outcome`), failed.
export const workflowRuns = sqliteTable(
  "workflow_runs",
  {
    instanceId: text("instance_id").primaryKey(),
    importId: text("import_id")
      .notNull()
      .references(() => imports.id),
    batchNo: integer("batch_no").notNull(),
    customerId: integer("customer_id")
      .notNull()
      .references(() => customers.id),
    status: text("status", { enum: WORKFLOW_RUN_STATUSES }).notNull(),
    outcome: text("outcome"),
    step: integer("step"),
    lastError: text("last_error"),
    // When the Workflows instance was created; NULL while queued, and for runs never started.
    startedAt: integer("started_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("workflow_runs_import").on(t.importId, t.status)],
);

// Outcome webhooks an organization registered. A deleted webhook keeps its row (its deliveries point
// at it) but loses its secrets and receives nothing more. The triggers of migration 0005 read
// `events` (JSON array of event types) to decide which webhooks an event goes to.
export const webhooks = sqliteTable(
  "webhooks",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    url: text("url").notNull(),
    events: text("events").notNull(),
    description: text("description"),
    // The Standard Webhooks signing secret (whsec_<base64>), stored as is: signing needs it. After a
    // rotation the previous one signs too until previous_secret_expires_at.
    secret: text("secret"),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    secretRotatedAt: integer("secret_rotated_at"),
    createdAt: integer("created_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    uniqueIndex("webhooks_id").on(t.id),
    // The triggers' first question on every call, import and run that finishes: does the
    // organization have a live webhook at all? One probe of this small index answers it.
    index("webhooks_live_org").on(t.organizationId).where(sql`deleted_at IS NULL`),
  ],
);

// One row per event per webhook. Rows for call, import and workflow outcomes are written by the
// triggers of migration 0005 in the same statement that changes the outcome's row, so an event can
// never be lost between the state change and its recording; `workflow.step` rows are written by the
// workflow step itself. `next_attempt_at` NULL on a pending row means "not handed to the queue yet".
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    webhookPk: integer("webhook_pk")
      .notNull()
      .references(() => webhooks.pk),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    lastAttemptAt: integer("last_attempt_at"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_id").on(t.id),
    index("webhook_deliveries_webhook").on(t.webhookPk),
    index("webhook_deliveries_webhook_status").on(t.webhookPk, t.status),
    // Hand-off (pending, next_attempt_at NULL) and the cron's look for stuck deliveries.
    index("webhook_deliveries_due").on(t.status, t.nextAttemptAt),
    // Retention: finished deliveries are deleted after a while, oldest first.
    index("webhook_deliveries_finished").on(t.status, t.updatedAt),
  ],
);
