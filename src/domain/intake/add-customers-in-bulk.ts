// POST /api/v1/customers/add/bulk, as a transport-free domain function: judge every record on its
// own, store the valid ones in atomic chunks (each with the outbox rows of the customers it adds),
// hand those batches to the call or workflow queue, and answer with the contract's counts.
// Idempotency-Key handling wraps all of it: a replay gets the stored answer, and a retry after an
// attempt that died resumes the same import instead of starting another.
import type { Campaign, CampaignsRepository } from "../../db/campaigns-repository";
import { type CustomersRepository, encodeCustomerRow } from "../../db/customers-repository";
import type { ImportCounts, ImportRow, ImportsRepository } from "../../db/imports-repository";
import type { OutboxRepository } from "../../db/outbox-repository";
import type { DispatchMessage } from "../../queues/messages";
import { DomainError, describeError } from "../errors";
import type { Clock, QueueProducer } from "../ports";
import { newId } from "../ports";
import { needsCallConfig, workflowOf } from "../workflows/definition";
import { DISPATCH_BATCH_SIZE, type HandOffResult, sendPendingBatches } from "./hand-off";
import { dedupeFieldOf, type FieldError } from "./record-rules";
import { packResponse, unpackResponse } from "./stored-response";
import { validateRecord } from "./validate-record";

export const MAX_RECORDS = 10_000;
/** Records per transactional chunk. */
export const CHUNK_MAX_RECORDS = 1_000;
/**
 * UTF-8 bytes of JSON per chunk. D1 refuses a bound value over 2 MB, and one chunk is one JSON
 * parameter, so chunks of unusually large records close early.
 */
export const CHUNK_MAX_BYTES = 1_500_000;
/**
 * Field errors reported per record. A record may carry up to 50 extra keys, each wrong, and a
 * 10,000-record answer listing all of them would be tens of megabytes; the message gives the count.
 */
export const MAX_FIELD_ERRORS = 10;
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

export interface BulkResults extends ImportCounts {
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
    const replay = await replayIfCompleted(deps, earlier, input.idempotency.bodyHash);
    if (replay) return replay;
  }

  // Checked before any claim, so a request refused here leaves the key exactly as it was.
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

  const startedAt = deps.clock.now();
  let attempt: Attempt;
  if (earlier) {
    attempt = await resumeOrRefuse(deps, earlier, startedAt);
  } else {
    const importId = newId("imp");
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
    if (claimed) {
      attempt = { importId, number: 1, startedAt, resumed: false };
    } else {
      // Another request claimed the key between our look-up and our insert: treat it as `earlier`.
      const winner = input.idempotency
        ? await deps.imports.findByIdempotencyKey(organizationId, input.idempotency.key)
        : undefined;
      if (!winner || !input.idempotency) throw inFlight();
      const replay = await replayIfCompleted(deps, winner, input.idempotency.bodyHash);
      if (replay) return replay;
      attempt = await resumeOrRefuse(deps, winner, startedAt);
    }
  }

  try {
    const body = await runImport(deps, input, campaign, attempt);
    const status =
      body.results.successful === body.results.total ? 201 : body.results.successful > 0 ? 207 : 400;
    const { errors: _errors, ...counts } = body.results;
    // Only a request with an Idempotency-Key can be replayed, so only its answer is kept.
    const stored = input.idempotency ? await packResponse(body) : null;
    const completed = await deps.imports.complete(
      attempt.importId,
      attempt.number,
      counts,
      { status, body: stored },
      deps.clock.now(),
    );
    deps.log(completed ? "bulk_import_completed" : "bulk_import_superseded", {
      importId: attempt.importId,
      attempt: attempt.number,
      status,
      ...counts,
    });
    return { status, body, replayed: false };
  } catch (err) {
    // Whatever was stored is kept, with its outbox rows (the cron hands those over); the import is
    // marked failed so that a retry with the same Idempotency-Key resumes it at once.
    deps.log("bulk_import_failed", {
      importId: attempt.importId,
      attempt: attempt.number,
      error: describeError(err),
    });
    await deps.imports.markFailed(attempt.importId, attempt.number, deps.clock.now()).catch(() => undefined);
    throw err;
  }
}

function inFlight(): DomainError {
  return new DomainError(
    "idempotency_request_in_flight",
    "A request with this Idempotency-Key is still being processed; retry after it completes.",
  );
}

/** The stored answer of a completed request with this key; 422 when the body is not the same. */
async function replayIfCompleted(
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
  if (earlier.state !== "completed") return undefined;
  const packed = await deps.imports.storedResponse(earlier.id);
  if (packed === undefined || earlier.responseStatus === null) {
    throw new DomainError(
      "conflict",
      "The request with this Idempotency-Key completed, but its answer is no longer stored; read it with GET /api/v1/imports/{importId} or use a new key.",
      [{ path: "Idempotency-Key", message: `completed as import ${earlier.id}` }],
    );
  }
  const body = (await unpackResponse(packed)) as BulkResponseBody;
  return { status: earlier.responseStatus as BulkOutcome["status"], body, replayed: true };
}

/**
 * Takes over an import whose last attempt failed or was abandoned (its Worker died), as the next
 * attempt; refuses (409) while an attempt is still running.
 */
async function resumeOrRefuse(deps: BulkDeps, earlier: ImportRow, now: number): Promise<Attempt> {
  const number = await deps.imports.claimForRetry(earlier.id, now - IDEMPOTENCY_ABANDONED_AFTER_MS, now);
  if (number === undefined) throw inFlight();
  deps.log("bulk_import_resumed", { importId: earlier.id, attempt: number, previousState: earlier.state });
  return { importId: earlier.id, number, startedAt: now, resumed: true };
}

interface ValidRecord {
  index: number;
  key: string;
  encoded: string;
  bytes: number;
}

interface Attempt {
  importId: string;
  /** 1 for the first attempt; each retry that takes the import over counts one up. */
  number: number;
  startedAt: number;
  /** A retry of an import whose earlier attempt may have stored some of these records. */
  resumed: boolean;
}

async function runImport(
  deps: BulkDeps,
  input: BulkInput,
  campaign: Campaign,
  attempt: Attempt,
): Promise<BulkResponseBody> {
  const { records } = input;
  const { importId } = attempt;
  const dedupeField = dedupeFieldOf(campaign.campaignType);
  const errors: RecordError[] = [];
  const valid: ValidRecord[] = [];
  const firstIndexOfKey = new Map<string, number>();

  for (let index = 0; index < records.length; index++) {
    const raw = records[index];
    const verdict = validateRecord(raw, campaign.campaignType, campaign.defaultCountry);
    if (!verdict.ok) {
      errors.push(invalidRecordError(index, raw, dedupeField, verdict.fields));
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
    const encoded = encodeCustomerRow({ dedupeKey: key, record: verdict.record });
    valid.push({ index, key, encoded, bytes: utf8Length(encoded) });
  }

  // initiateCall and useWorkflow exclude each other (the envelope refuses both).
  const kind = input.initiateCall ? "call" : input.useWorkflow ? "workflow" : undefined;
  const handOff = kind ? ({ kind, batchSize: DISPATCH_BATCH_SIZE } as const) : undefined;
  const chunks = chunk(valid);
  // Chunks are independent atomic writes; sending them together overlaps the round trips.
  const outcomes = await Promise.allSettled(
    chunks.map(async (c) => {
      const added = await deps.customers.insertChunk(
        campaign.pk,
        importId,
        attempt.startedAt,
        c.map((r) => r.encoded),
        handOff,
      );
      if (attempt.resumed && added.size < c.length) {
        for (const [key, id] of await ownFromEarlierAttempt(c.filter((r) => !added.has(r.key)))) {
          added.set(key, id);
        }
      }
      return added;
    }),
  );
  // Keys this import's earlier attempt stored are this request's own, not duplicates, and not lost
  // when this attempt's chunk holding them fails.
  async function ownFromEarlierAttempt(records: ValidRecord[]): Promise<Map<string, number>> {
    if (records.length === 0) return new Map();
    return deps.customers.findOwn(
      campaign.pk,
      importId,
      records.map((r) => r.key),
    );
  }
  const ownInFailedChunks = attempt.resumed
    ? await Promise.all(
        outcomes.map((o, i) =>
          o.status === "rejected"
            ? ownFromEarlierAttempt(chunks[i] as ValidRecord[]).catch(() => new Map())
            : new Map(),
        ),
      )
    : [];

  let successful = 0;
  outcomes.forEach((outcome, i) => {
    const members = chunks[i] as ValidRecord[];
    if (outcome.status === "rejected") {
      deps.log("chunk_failed", {
        importId,
        chunk: i,
        records: members.length,
        error: describeError(outcome.reason),
      });
      const own = ownInFailedChunks[i];
      for (const r of members) {
        if (own?.has(r.key)) {
          successful++;
          continue;
        }
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
      if (outcome.value.has(r.key)) {
        successful++;
        continue;
      }
      errors.push({
        index: r.index,
        key: r.key,
        code: "duplicate_existing",
        message: `The campaign already holds a customer with ${dedupeField} "${r.key}"`,
      });
    }
  });
  errors.sort((a, b) => a.index - b.index);

  const total = records.length;
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
  if (input.initiateCall) {
    body.callResults = await sendPendingBatches(deps, deps.callsQueue, importId, "call");
  }
  if (input.useWorkflow) {
    const workflows = await sendPendingBatches(deps, deps.workflowsQueue, importId, "workflow");
    body.workflowTriggered = workflows.requested > 0 && workflows.failed === 0;
  }
  return body;
}

function invalidRecordError(
  index: number,
  raw: unknown,
  dedupeField: "loan_id" | "lead_id",
  fields: FieldError[],
): RecordError {
  const shown = fields
    .slice(0, MAX_FIELD_ERRORS)
    .map((f) => ({ field: clip(f.field, 100), message: f.message }));
  const names = shown.map((f) => f.field).join(", ");
  const more = fields.length - shown.length;
  return {
    index,
    ...keyOf(raw, dedupeField),
    code: "invalid_record",
    message: `Record failed validation: ${names}${more > 0 ? ` and ${more} more` : ""}`,
    fields: shown,
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function keyOf(raw: unknown, field: "loan_id" | "lead_id"): { key?: string } {
  if (typeof raw !== "object" || raw === null) return {};
  const value = (raw as Record<string, unknown>)[field];
  if (typeof value !== "string") return {};
  const key = value.trim();
  return key === "" ? {} : { key: key.slice(0, 128) };
}

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 length of a string; the common all-ASCII row is answered without walking it by hand. */
function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function chunk(valid: ValidRecord[]): ValidRecord[][] {
  const chunks: ValidRecord[][] = [];
  let current: ValidRecord[] = [];
  let bytes = 0;
  for (const r of valid) {
    if (current.length === CHUNK_MAX_RECORDS || (current.length > 0 && bytes + r.bytes > CHUNK_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.bytes + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
