// POST /api/v1/customers/add/bulk, as a transport-free domain function: judge every record on its
// own, store the valid ones in atomic chunks, hand the added customers to the call or workflow
// queue, and answer with the contract's counts. Idempotency-Key handling wraps all of it.
import type { Campaign, CampaignsRepository } from "../../db/campaigns-repository";
import { type CustomersRepository, encodeCustomerRow } from "../../db/customers-repository";
import type { ImportRow, ImportsRepository } from "../../db/imports-repository";
import type { OutboxRepository } from "../../db/outbox-repository";
import type { DispatchMessage } from "../../queues/messages";
import { DomainError } from "../errors";
import type { Clock, QueueProducer } from "../ports";
import { newId } from "../ports";
import { needsCallConfig, workflowOf } from "../workflows/definition";
import { type HandOffResult, handOff } from "./hand-off";
import { dedupeFieldOf, type FieldError } from "./record-rules";
import { packResponse, unpackResponse } from "./stored-response";
import { validateRecord } from "./validate-record";

export const MAX_RECORDS = 10_000;
/** Records per transactional chunk. */
export const CHUNK_MAX_RECORDS = 1_000;
/**
 * Bytes of JSON per chunk. D1 refuses a bound value over 2 MB, and one chunk is one JSON parameter,
 * so chunks of unusually large records close early.
 */
export const CHUNK_MAX_BYTES = 1_500_000;
/** A request still `processing` after this long is taken as abandoned (its Worker died). */
export const IDEMPOTENCY_ABANDONED_AFTER_MS = 10 * 60 * 1000;

export type RecordErrorCode =
  | "invalid_record"
  | "duplicate_in_request"
  | "duplicate_existing"
  | "storage_error";

export interface RecordError {
  index: number;
  key?: string;
  code: RecordErrorCode;
  message: string;
  fields?: FieldError[];
}

export interface BulkResults {
  total: number;
  valid: number;
  invalid: number;
  successful: number;
  failed: number;
  batchesProcessed: number;
  errors: RecordError[];
}

export interface BulkResponseBody {
  success: boolean;
  message: string;
  results: BulkResults;
  callResults?: HandOffResult;
  workflowTriggered?: boolean;
  importId: string;
}

export interface BulkOutcome {
  status: 201 | 207 | 400;
  body: BulkResponseBody;
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface BulkInput {
  organizationId: string;
  campaignId: string;
  records: readonly unknown[];
  initiateCall: boolean;
  useWorkflow: boolean;
  callConfig?: { agentId: string; dispositionId: string };
  idempotency?: { key: string; bodyHash: string };
}

export interface BulkDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  imports: ImportsRepository;
  outbox: OutboxRepository;
  callsQueue: QueueProducer<DispatchMessage>;
  workflowsQueue: QueueProducer<DispatchMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export async function addCustomersInBulk(deps: BulkDeps, input: BulkInput): Promise<BulkOutcome> {
  const { organizationId } = input;
  const [campaign, agent, disposition, earlier] = await Promise.all([
    deps.campaigns.findCampaign(organizationId, input.campaignId),
    input.callConfig ? deps.campaigns.agents.find(organizationId, input.callConfig.agentId) : undefined,
    input.callConfig
      ? deps.campaigns.dispositions.find(organizationId, input.callConfig.dispositionId)
      : undefined,
    input.idempotency ? deps.imports.findByIdempotencyKey(organizationId, input.idempotency.key) : undefined,
  ]);

  // A stored answer is replayed before anything else is looked at, so a retry sees exactly what
  // the first request saw even if the campaign has changed since.
  if (earlier && input.idempotency) {
    const replay = await replayOrRefuse(deps, earlier, input.idempotency.bodyHash);
    if (replay) return replay;
  }

  if (!campaign) {
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`, [
      { path: "campaignId", message: "no campaign with this id" },
    ]);
  }
  if (input.useWorkflow && !input.callConfig && needsCallConfig(workflowOf(campaign))) {
    throw new DomainError("validation_error", "The campaign's workflow places calls: send callConfig.", [
      {
        path: "callConfig",
        message: "is required: the campaign's workflow has call steps that name no agent",
      },
    ]);
  }
  if (input.callConfig && !agent) {
    throw new DomainError("unknown_agent", `Agent "${input.callConfig.agentId}" does not exist.`, [
      { path: "callConfig.agentId", message: "no agent with this id" },
    ]);
  }
  if (input.callConfig && !disposition) {
    throw new DomainError(
      "unknown_disposition",
      `Disposition "${input.callConfig.dispositionId}" does not exist.`,
      [{ path: "callConfig.dispositionId", message: "no disposition with this id" }],
    );
  }

  const importId = newId("imp");
  const startedAt = deps.clock.now();
  const claimed = await deps.imports.begin({
    id: importId,
    organizationId,
    campaignPk: campaign.pk,
    idempotencyKey: input.idempotency?.key ?? null,
    bodyHash: input.idempotency?.bodyHash ?? null,
    state: "processing",
    total: input.records.length,
    initiateCall: input.initiateCall,
    useWorkflow: input.useWorkflow,
    agentId: input.callConfig?.agentId ?? null,
    dispositionId: input.callConfig?.dispositionId ?? null,
    createdAt: startedAt,
  });
  if (!claimed && input.idempotency) {
    // Another request claimed the key between our look-up and our insert.
    const winner = await deps.imports.findByIdempotencyKey(organizationId, input.idempotency.key);
    const replay = winner ? await replayOrRefuse(deps, winner, input.idempotency.bodyHash) : undefined;
    if (replay) return replay;
    throw inFlight();
  }

  const body = await runImport(deps, input, campaign, importId, startedAt);
  const status =
    body.results.successful === body.results.total ? 201 : body.results.successful > 0 ? 207 : 400;
  const { errors: _errors, ...counts } = body.results;
  await deps.imports.complete(importId, counts, { status, body: await packResponse(body) }, deps.clock.now());
  deps.log("bulk_import_completed", { importId, status, ...counts });
  return { status, body, replayed: false };
}

function inFlight(): DomainError {
  return new DomainError(
    "idempotency_request_in_flight",
    "A request with this Idempotency-Key is still being processed; retry after it completes.",
  );
}

async function replayOrRefuse(
  deps: BulkDeps,
  earlier: ImportRow,
  bodyHash: string,
): Promise<BulkOutcome | undefined> {
  if (earlier.bodyHash !== bodyHash) {
    throw new DomainError(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request body.",
      [{ path: "Idempotency-Key", message: "use a new key for a different request" }],
    );
  }
  if (earlier.state === "completed" && earlier.responseBody !== null && earlier.responseStatus !== null) {
    const body = (await unpackResponse(earlier.responseBody)) as BulkResponseBody;
    return { status: earlier.responseStatus as BulkOutcome["status"], body, replayed: true };
  }
  const abandonedBefore = deps.clock.now() - IDEMPOTENCY_ABANDONED_AFTER_MS;
  if (
    earlier.createdAt < abandonedBefore &&
    (await deps.imports.releaseAbandoned(earlier.id, abandonedBefore))
  ) {
    // The first attempt died mid-way: run again. What it stored is reported as duplicate_existing.
    deps.log("idempotency_key_taken_over", { abandonedImportId: earlier.id });
    return undefined;
  }
  throw inFlight();
}

interface ValidRecord {
  index: number;
  key: string;
  encoded: string;
}

async function runImport(
  deps: BulkDeps,
  input: BulkInput,
  campaign: Campaign,
  importId: string,
  startedAt: number,
): Promise<BulkResponseBody> {
  const { records } = input;
  const dedupeField = dedupeFieldOf(campaign.campaignType);
  const errors: RecordError[] = [];
  const valid: ValidRecord[] = [];
  const firstIndexOfKey = new Map<string, number>();

  for (let index = 0; index < records.length; index++) {
    const raw = records[index];
    const verdict = validateRecord(raw, campaign.campaignType, campaign.defaultCountry);
    if (!verdict.ok) {
      errors.push({
        index,
        ...keyOf(raw, dedupeField),
        code: "invalid_record",
        message: `Record failed validation: ${verdict.fields.map((f) => f.field).join(", ")}`,
        fields: verdict.fields,
      });
      continue;
    }
    const key = verdict.record[dedupeField] as string;
    const first = firstIndexOfKey.get(key);
    if (first !== undefined) {
      errors.push({
        index,
        key,
        code: "duplicate_in_request",
        message: `${dedupeField} "${key}" already appears at index ${first} of this request`,
      });
      continue;
    }
    firstIndexOfKey.set(key, index);
    valid.push({ index, key, encoded: encodeCustomerRow({ dedupeKey: key, record: verdict.record }) });
  }

  const chunks = chunk(valid);
  // Chunks are independent atomic writes; sending them together overlaps the round trips.
  const outcomes = await Promise.allSettled(
    chunks.map((c) =>
      deps.customers.insertChunk(
        campaign.pk,
        importId,
        startedAt,
        c.map((r) => r.encoded),
      ),
    ),
  );

  const added: { index: number; id: number }[] = [];
  outcomes.forEach((outcome, i) => {
    const members = chunks[i] as ValidRecord[];
    if (outcome.status === "rejected") {
      deps.log("chunk_failed", {
        importId,
        chunk: i,
        records: members.length,
        error: String(outcome.reason),
      });
      for (const r of members) {
        errors.push({
          index: r.index,
          key: r.key,
          code: "storage_error",
          message:
            "The chunk holding this record could not be stored and was rolled back whole; retry the record.",
        });
      }
      return;
    }
    for (const r of members) {
      const id = outcome.value.get(r.key);
      if (id === undefined) {
        errors.push({
          index: r.index,
          key: r.key,
          code: "duplicate_existing",
          message: `The campaign already holds a customer with ${dedupeField} "${r.key}"`,
        });
      } else {
        added.push({ index: r.index, id });
      }
    }
  });
  errors.sort((a, b) => a.index - b.index);
  added.sort((a, b) => a.index - b.index);

  const total = records.length;
  const successful = added.length;
  const body: BulkResponseBody = {
    success: successful === total,
    message: `Added ${successful} of ${total} records`,
    results: {
      total,
      valid: valid.length,
      // A second record with the same key breaks a record rule too, so it counts as invalid.
      invalid: total - valid.length,
      successful,
      failed: total - successful,
      batchesProcessed: chunks.length,
      errors,
    },
    importId,
  };
  const addedIds = added.map((a) => a.id);
  if (input.initiateCall) {
    body.callResults = await handOff(deps, deps.callsQueue, importId, "call", addedIds);
  }
  if (input.useWorkflow) {
    const workflows = await handOff(deps, deps.workflowsQueue, importId, "workflow", addedIds);
    body.workflowTriggered = workflows.requested > 0 && workflows.failed === 0;
  }
  return body;
}

function keyOf(raw: unknown, field: "loan_id" | "lead_id"): { key?: string } {
  if (typeof raw !== "object" || raw === null) return {};
  const value = (raw as Record<string, unknown>)[field];
  if (typeof value !== "string") return {};
  const key = value.trim();
  return key === "" ? {} : { key: key.slice(0, 128) };
}

function chunk(valid: ValidRecord[]): ValidRecord[][] {
  const chunks: ValidRecord[][] = [];
  let current: ValidRecord[] = [];
  let bytes = 0;
  for (const r of valid) {
    if (
      current.length === CHUNK_MAX_RECORDS ||
      (current.length > 0 && bytes + r.encoded.length > CHUNK_MAX_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.encoded.length + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
