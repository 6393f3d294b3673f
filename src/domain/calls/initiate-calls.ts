// POST /api/v1/initiate/{campaignId}/calls: call customers the campaign already holds ("bounced,
// Hindi-speaking borrowers"), chosen by filters. An initiation is an import of kind `initiation`: it
// selects its customers in SQL straight into outbox batches of 500 (the campaign is never loaded
// into memory), hands them to the call queue, and from there every call goes through the same
// consumer, eligibility rules, calling window, claim and dialer as the bulk endpoint's. So:
// - one initiation never dials a customer twice: each customer is in one of its batches, and the
//   consumer's call rows are unique per (import, customer);
// - a re-run is a new initiation; it does not select customers who still have a call waiting or
//   being dialled in the campaign (from any request, including one whose batch the consumer has not
//   reached yet), so running the same initiation twice in a row does not ring anyone twice. A re-run with the same Idempotency-Key is a replay: the first answer,
//   and nothing new is selected.
// - paid and received customers are not selected unless the payment_status filter names them (they
//   would only be skipped at dial time); suppressed numbers are selected and skipped at dial time,
//   like every call, so the progress shows them.
import { DomainError } from "../errors";
import { newId } from "../ids";
import { DISPATCH_BATCH_SIZE, sendPendingBatches } from "../intake/hand-off";
import { type Attempt, type ImportOutcome, type ImportWork, runAsImport } from "../intake/idempotency";
import { importRow, newImportClaim, prepareImport } from "../intake/prepare-import";
import type { Campaign } from "../model/campaign";
import { PAYMENT_STATUSES, type PaymentStatus, type VariableValue } from "../model/customer";
import type { DispatchMessage } from "../model/outbox";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomerFilter, CustomersRepository } from "../ports/customers-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import { normalizeKey } from "../records/keys";
import { LIMITS } from "../records/record-rules";
import { readChoice } from "../records/validate-record";

/** Keys in `ids` or `exclude_ids`: the bulk endpoint's per-request maximum of records. */
export const MAX_FILTER_IDS = 10_000;
/**
 * Variables in a `custom` filter: each takes three of the 100 parameters D1 binds per statement,
 * and the selection statement needs about twenty of its own.
 */
export const MAX_CUSTOM_FILTERS = 10;
/** Outbox batches per atomic write of the selection: 10,000 customers per round trip. */
const BATCHES_PER_WRITE = 20;

export interface InitiationFilters {
  ids?: unknown[];
  exclude_ids?: unknown[];
  payment_status?: unknown[];
  language?: unknown[];
  custom?: Record<string, unknown>;
}

export interface InitiateCallsInput {
  organizationId: string;
  campaignId: string;
  /** Both, or neither when the campaign has a default agent and disposition. */
  agentId?: string;
  dispositionId?: string;
  /** At most this many customers (the lowest ids among those matching). */
  limit?: number;
  filters?: InitiationFilters;
  idempotency?: { key: string; bodyHash: string };
}

export type InitiationError =
  | { code: "unknown_id"; key: string; message: string }
  | { code: "not_queued"; batch: number; customers: number; message: string };

export interface InitiationResults {
  /** Customers the filters match now (not paid unless asked for, no call already waiting). */
  totalMatched: number;
  /** Those the initiation took: totalMatched, or `limit` of them. */
  customersSelected: number;
  /** Selected customers handed to the call queue. */
  initiated: number;
  /** Selected customers not handed over yet: they stay in the outbox and the cron hands them over. */
  failed: number;
  /** Outbox batches (of up to 500 customers) written. */
  batchesProcessed: number;
  errors: InitiationError[];
}

export interface InitiationBody {
  success: boolean;
  message: string;
  results: InitiationResults;
  initiationId: string;
}

/** 200 every selected customer initiated, 207 some, 400 none (nothing matched, or nothing handed over). */
export type InitiationOutcome = ImportOutcome<InitiationBody, 200 | 207 | 400>;

export interface InitiateCallsDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  imports: ImportsRepository;
  outbox: OutboxRepository;
  callsQueue: QueueProducer<DispatchMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * Selects and hands over the campaign's matching customers. Throws DomainError before anything is
 * written: validation_error (filters the record rules refuse, no agent), campaign_not_found (404),
 * unknown_agent / unknown_disposition, and the Idempotency-Key codes.
 */
export async function initiateCalls(
  deps: InitiateCallsDeps,
  input: InitiateCallsInput,
): Promise<InitiationOutcome> {
  const filter = readFilters(input.filters);
  const callConfig =
    input.agentId !== undefined && input.dispositionId !== undefined
      ? { agentId: input.agentId, dispositionId: input.dispositionId }
      : undefined;
  const request = {
    organizationId: input.organizationId,
    campaignId: input.campaignId,
    initiateCall: true,
    useWorkflow: false,
    callConfig,
    callConfigAt: "top-level" as const,
    idempotency: input.idempotency,
  };
  const prepared = await prepareImport(deps, request);
  if ("replay" in prepared) return prepared.replay as InitiationOutcome;
  const { campaign, earlier } = prepared;
  const claim = newImportClaim(request, {
    id: newId("ini"),
    kind: "initiation",
    createdAt: deps.clock.now(),
  });
  const outcome = await runAsImport(
    deps,
    {
      // Always with an agent and disposition: prepareImport refuses an initiation without them.
      row: importRow(claim, prepared),
      earlier,
      idempotency: input.idempotency,
    },
    (attempt) => initiate(deps, campaign, filter, input.limit, attempt),
  );
  return outcome as InitiationOutcome;
}

async function initiate(
  deps: InitiateCallsDeps,
  campaign: Campaign,
  filter: CustomerFilter,
  limit: number | undefined,
  attempt: Attempt,
): Promise<ImportWork<InitiationBody>> {
  const { importId } = attempt;
  // A customer handed over by another request moments ago has no call row until the consumer
  // reaches its batch; it is waiting all the same.
  const awaiting = await deps.outbox.customersAwaitingConsumer(campaign.pk, importId);
  const selection = awaiting.length > 0 ? { ...filter, excludeCustomerIds: awaiting } : filter;
  const [totalMatched, known] = await Promise.all([
    deps.customers.countMatching(campaign.pk, selection),
    filter.ids ? deps.customers.findKeys(campaign.pk, filter.ids) : undefined,
  ]);
  await deps.outbox.selectIntoBatches(importId, campaign.pk, selection, {
    batchSize: DISPATCH_BATCH_SIZE,
    limit: limit ?? Number.MAX_SAFE_INTEGER,
    batchesPerWrite: BATCHES_PER_WRITE,
    at: attempt.startedAt,
  });
  // Every batch of the initiation, also those an earlier attempt of it wrote (and maybe sent).
  const handed = await sendPendingBatches(deps, deps.callsQueue, importId, "call");
  const errors: InitiationError[] = [
    ...(filter.ids ?? [])
      .filter((key) => !known?.has(key))
      .map((key) => ({
        code: "unknown_id" as const,
        key,
        message: `The campaign holds no customer with this ${campaign.campaignType === "lead" ? "lead_id" : "loan_id"}.`,
      })),
    ...handed.errors.map((e) => ({ code: "not_queued" as const, ...e })),
  ];
  const results: InitiationResults = {
    totalMatched,
    customersSelected: handed.requested,
    initiated: handed.queued,
    failed: handed.failed,
    batchesProcessed: handed.batches + handed.errors.length,
    errors,
  };
  const status = handed.queued === 0 ? 400 : handed.failed === 0 ? 200 : 207;
  deps.log("initiation_selected", {
    importId,
    totalMatched,
    selected: handed.requested,
    initiated: handed.queued,
  });
  return {
    status,
    body: {
      success: status === 200,
      message: `Calls initiated for ${handed.queued} customers`,
      results,
      initiationId: importId,
    },
    counts: {
      total: handed.requested,
      valid: handed.requested,
      invalid: 0,
      successful: handed.queued,
      failed: handed.failed,
      batchesProcessed: results.batchesProcessed,
      matched: totalMatched,
    },
  };
}

function invalid(path: string, message: string): DomainError {
  return new DomainError("validation_error", "The filters are not valid.", [{ path, message }]);
}

/** The filters as stored values: keys normalized, statuses and languages read by the record rules. */
function readFilters(filters: InitiationFilters | undefined): CustomerFilter {
  const filter: CustomerFilter = { withoutWaitingCall: true };
  if (!filters) return filter;
  const keys = (values: unknown[], path: string) =>
    values.map((value, i) => {
      const key = typeof value === "string" ? normalizeKey(value) : undefined;
      if (!key?.ok || key.key.length > LIMITS.keyMax) {
        throw invalid(`${path}.${i}`, `must be a loan_id or lead_id (1 to ${LIMITS.keyMax} characters)`);
      }
      return key.key;
    });
  if (filters.ids) filter.ids = [...new Set(keys(filters.ids, "filters.ids"))];
  if (filters.exclude_ids) filter.excludeIds = keys(filters.exclude_ids, "filters.exclude_ids");
  if (filters.payment_status) {
    filter.paymentStatuses = filters.payment_status.map((value, i) => {
      const status = readChoice("payment_status", value);
      if (!status)
        throw invalid(`filters.payment_status.${i}`, `must be one of ${PAYMENT_STATUSES.join(", ")}`);
      return status as PaymentStatus;
    });
  }
  if (filters.language) {
    filter.languages = filters.language.map((value, i) => {
      const language = readChoice("language", value);
      if (!language)
        throw invalid(`filters.language.${i}`, "must be a language a record may carry (hindi, hi, hi-IN, …)");
      return language;
    });
  }
  if (filters.custom) {
    const entries = Object.entries(filters.custom);
    if (entries.length > MAX_CUSTOM_FILTERS) {
      throw invalid("filters.custom", `may name at most ${MAX_CUSTOM_FILTERS} variables`);
    }
    filter.variables = entries.map(([name, value]) => {
      // The name becomes a JSON path; SQLite matches a quoted path label against the key as written
      // in the stored JSON, so names JSON escapes (quotes, backslashes, control characters) cannot be
      // matched reliably.
      if (name === "" || name.length > LIMITS.variableNameMax || JSON.stringify(name) !== `"${name}"`) {
        throw invalid(
          `filters.custom.${name}`,
          `a variable name of 1 to ${LIMITS.variableNameMax} characters without quotes, backslashes or control characters`,
        );
      }
      const scalar =
        value === null || typeof value === "string" || typeof value === "boolean" || Number.isFinite(value);
      if (!scalar) throw invalid(`filters.custom.${name}`, "must be a string, number, boolean or null");
      return [name, value as VariableValue] as const;
    });
  }
  return filter;
}
