// POST /api/v1/customers/add/bulk, as a transport-free domain function: judge every record on its
// own, store the valid ones in atomic chunks (each with the outbox batches of the customers it
// hands over, and with onExisting "update" the payments it records), hand those batches to the call
// or workflow queue, and answer with the contract's counts. Idempotency-Key handling
// (idempotency.ts) wraps all of it.
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { newId } from "../ids";
import type { Campaign } from "../model/campaign";
import type { DispatchMessage } from "../model/outbox";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository, OnExisting } from "../ports/customers-repository";
import type { ChunkCompletion, ImportsRepository, StoredCounts } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import { dedupeFieldOf } from "../records/record-rules";
import { type StoredChunks, storeChunks } from "./chunking";
import { type PreviewDeps, previewCalls } from "./dry-run";
import {
  DISPATCH_BATCH_SIZE,
  everyBatchSent,
  type HandOffResult,
  recordSends,
  sendBatches,
} from "./hand-off";
import {
  type Attempt,
  completedAsPredicted,
  IMPORT_LEASE_MS,
  type ImportWork,
  runAsImport,
} from "./idempotency";
import { judgeRecords } from "./judge-records";
import { type CallConfig, importRow, newImportClaim, prepareImport } from "./prepare-import";
import {
  type BulkOutcome,
  type BulkResponseBody,
  type BulkStatus,
  bulkStatus,
  type DryRunBulkBody,
  type RecordError,
} from "./results";
import { packResponse } from "./stored-response";

/** The contract's per-request maximum. */
export const MAX_RECORDS = 10_000;

export interface BulkInput {
  organizationId: string;
  campaignId: string;
  /**
   * The records as parsed, which the import consumes: each slot is set to undefined once its record
   * is judged (judgeRecords), so that a 20 MB body's parsed records can be collected while its
   * rows are encoded and written (a Worker isolate has 128 MB). The caller must hold no other
   * reference to them.
   */
  records: unknown[];
  initiateCall: boolean;
  useWorkflow: boolean;
  /** Optional when the campaign has a default agent and disposition. */
  callConfig?: CallConfig;
  /**
   * What happens to a record whose key the campaign already holds: skip (the default: reported as
   * duplicate_existing) or update (the stored customer is refreshed in place).
   */
  onExisting?: OnExisting;
  /** The Idempotency-Key and the SHA-256 of the body it was sent with. */
  idempotency?: { key: string; bodyHash: string };
}

export interface BulkDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  imports: ImportsRepository;
  outbox: OutboxRepository;
  suppressions: PreviewDeps["suppressions"];
  tenancy: PreviewDeps["tenancy"];
  callsQueue: QueueProducer<DispatchMessage>;
  workflowsQueue: QueueProducer<DispatchMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * Adds up to MAX_RECORDS customers to a campaign (and with onExisting "update" refreshes the ones
 * it holds). Throws DomainError for envelope problems found before anything is written
 * (campaign_not_found, unknown_agent, unknown_disposition, validation_error, and the
 * Idempotency-Key codes); every record problem is reported in the answer.
 */
export async function addCustomersInBulk(deps: BulkDeps, input: BulkInput): Promise<BulkOutcome> {
  const claim = newImportClaim(input, {
    id: newId("imp"),
    kind: "bulk",
    total: input.records.length,
    createdAt: deps.clock.now(),
  });
  const prepared = await prepareImport(deps, { ...input, claim });
  if ("replay" in prepared) return prepared.replay as BulkOutcome;
  const { campaign, earlier, begun } = prepared;
  const outcome = await runAsImport(
    deps,
    {
      row: importRow(claim, prepared),
      earlier,
      idempotency: input.idempotency,
      begun,
    },
    (attempt) => runImport(deps, input, campaign, attempt),
  );
  return outcome as BulkOutcome;
}

/**
 * The answer addCustomersInBulk would give to `input` now, with nothing written (dry-run.ts): the
 * same status, counts and errors, the hand-off the write would make, and with initiateCall a
 * preview of the calls. It neither reads nor claims an Idempotency-Key: there is nothing to
 * de-duplicate, and a key it claimed would refuse the real request that follows (another body).
 * Throws DomainError like addCustomersInBulk for the envelope.
 */
export async function dryRunBulk(
  deps: BulkDeps,
  input: Omit<BulkInput, "idempotency">,
): Promise<{ status: BulkStatus; body: DryRunBulkBody }> {
  const prepared = await prepareImport(deps, input);
  if ("replay" in prepared) throw new Error("a request without an Idempotency-Key has nothing to replay");
  const { campaign } = prepared;
  const at = deps.clock.now();
  const { counts, errors, stored } = await storeRecords(
    deps,
    input,
    campaign,
    {
      importId: "",
      number: 0,
      startedAt: at,
      resumed: false,
    },
    true,
  );
  const body: DryRunBulkBody = { ...message(counts), results: { ...counts, errors }, dryRun: true };
  // The hand-off the write would make, sent without a failure.
  const handedOver = stored.handedOver ?? { records: [], batches: 0 };
  const requested = handedOver.records.length;
  if (input.initiateCall) {
    body.callResults = { requested, queued: requested, batches: handedOver.batches, failed: 0, errors: [] };
    body.preview = await previewCalls(deps, campaign, handedOver.records);
  }
  if (input.useWorkflow) body.workflowTriggered = requested > 0;
  return { status: bulkStatus(counts), body };
}

const message = (counts: StoredCounts) => ({
  success: counts.successful === counts.total,
  message: `Added ${counts.successful} of ${counts.total} records`,
});

/**
 * Answers of at most this many characters (packed) ride along with every chunk write of an import
 * that may complete in its writes (ChunkCompletion): a usual answer is a few hundred characters,
 * and one listing thousands of refused records is left to the completion's own write.
 */
const COMPLETION_IN_WRITE_MAX_CHARS = 32_768;

async function runImport(
  deps: BulkDeps,
  input: BulkInput,
  campaign: Campaign,
  attempt: Attempt,
): Promise<ImportWork<BulkResponseBody>> {
  const { importId } = attempt;
  // initiateCall and useWorkflow exclude each other (the envelope refuses both).
  const kind = input.initiateCall ? "call" : input.useWorkflow ? "workflow" : undefined;
  // A first attempt that skips held keys knows its answer before it writes, if every valid record
  // turns out new and every batch is sent: its chunk writes then complete the import with that
  // answer, and the request waits on no completion round trip (ARCHITECTURE.md, "round trips").
  let predicted:
    | { body: BulkResponseBody; counts: StoredCounts; errors: RecordError[]; completedAt: number }
    | undefined;
  const predict: Predict | undefined =
    kind && !attempt.resumed && (input.onExisting ?? "skip") === "skip"
      ? async (counts, errors, chunkSizes) => {
          if (chunkSizes.length === 0) return undefined;
          const everySent = everyBatchSent(chunkSizes, DISPATCH_BATCH_SIZE);
          const body = answer(counts, errors, importId, kind, everySent);
          // An error takes about 20 characters packed: an answer with more errors than a tenth of
          // the limit is not packed to be thrown away (its completion packs it). Only a heuristic:
          // what decides is the packed length below.
          if (input.idempotency && errors.length > COMPLETION_IN_WRITE_MAX_CHARS / 10) return undefined;
          const packed = input.idempotency ? await packResponse(body) : null;
          if (packed !== null && packed.length > COMPLETION_IN_WRITE_MAX_CHARS) return undefined;
          predicted = { body, counts, errors, completedAt: deps.clock.now() };
          return {
            importId,
            attempt: attempt.number,
            kind,
            customers: counts.valid,
            counts,
            answer: { status: bulkStatus(counts), body: packed },
            completedAt: predicted.completedAt,
          };
        }
      : undefined;
  const result = await storeRecords(deps, input, campaign, attempt, false, predict);
  const { stored } = result;
  const completed = predicted
    ? await inWriteCompletion(deps, importId, attempt, predicted, stored)
    : undefined;
  // When a chunk write completed the import, every valid record is stored (the completion's
  // condition): the counts and errors are the predicted ones, and a chunk reported failed had in
  // fact committed, its answer lost on the way back.
  const { counts, errors } = completed && predicted ? predicted : result;
  // A first attempt knows every batch of its import from its own writes; a resumed one reads them,
  // as does one with a write reported failed (it may have committed, its answer lost).
  const written = attempt.resumed || stored.someWriteFailed ? undefined : stored.batches;
  const queue = kind === "call" ? deps.callsQueue : deps.workflowsQueue;
  const handOff = kind ? await sendBatches(deps, queue, importId, kind, written) : undefined;
  const body = answer(counts, errors, importId, kind, handOff?.result);
  const sends = handOff?.records ?? [];
  const work: ImportWork<BulkResponseBody> = { status: bulkStatus(counts), body, counts, sends };
  if (predicted && !completed && stored.someWriteFailed) {
    work.predicted = {
      status: bulkStatus(predicted.counts),
      body: predicted.body,
      completedAt: predicted.completedAt,
    };
  }
  if (completed && predicted) {
    // A minute after the completion a retry may have been given the stored answer: it stands, and
    // batches not sent are the cron's, which makes it true.
    const late = deps.clock.now() - predicted.completedAt >= IMPORT_LEASE_MS;
    if (late) work.body = predicted.body;
    work.completedInWrite = {
      notifies: completed.notifies,
      completedAt: predicted.completedAt,
      answerStands: late || JSON.stringify(body) === JSON.stringify(predicted.body),
    };
    work.afterAnswer = () => recordSends(deps, importId, sends);
  }
  return work;
}

/**
 * Whether a chunk write completed the import with the predicted answer: one said so, or, when a
 * chunk's write was reported failed (its answer may have been lost after it committed, and it may
 * have been the completing one), the import reads completed by this attempt at the predicted moment.
 * `notifies` is then unknown and taken as true (the webhook hand-off finds nothing to do).
 */
async function inWriteCompletion(
  deps: BulkDeps,
  importId: string,
  attempt: Attempt,
  predicted: { completedAt: number },
  stored: StoredChunks,
): Promise<{ notifies: boolean } | undefined> {
  if (stored.completed) return stored.completed;
  if (!stored.someWriteFailed) return undefined;
  const ours = await completedAsPredicted(deps, { importId, number: attempt.number }, predicted.completedAt);
  return ours ? { notifies: true } : undefined;
}

/** The answer to a bulk request that stored `counts` and handed over as `handOff` says. */
function answer(
  counts: StoredCounts,
  errors: RecordError[],
  importId: string,
  kind: "call" | "workflow" | undefined,
  handOff: HandOffResult | undefined,
): BulkResponseBody {
  const body: BulkResponseBody = { ...message(counts), results: { ...counts, errors }, importId };
  if (kind === "call" && handOff) body.callResults = handOff;
  if (kind === "workflow" && handOff) body.workflowTriggered = handOff.requested > 0 && handOff.failed === 0;
  return body;
}

/**
 * The completion a request's chunk writes may carry, from the counts and errors it would answer
 * with if every valid record is new (its judgement, and the number of records in each chunk).
 */
type Predict = (
  counts: StoredCounts,
  errors: RecordError[],
  chunkSizes: readonly number[],
) => Promise<ChunkCompletion | undefined>;

/** Judges and stores the records (or, `dryRun`, reads what storing them would do) and counts them. */
async function storeRecords(
  deps: BulkDeps,
  input: Omit<BulkInput, "idempotency">,
  campaign: Campaign,
  attempt: Attempt,
  dryRun: boolean,
  predict?: Predict,
): Promise<{ counts: StoredCounts; errors: RecordError[]; stored: StoredChunks }> {
  const { records } = input;
  const total = records.length;
  const { importId } = attempt;
  const onExisting = input.onExisting ?? "skip";
  // Consumes the records: from here on they live on as their encoded rows (see BulkInput.records).
  const judged = judgeRecords(deps, campaign, records);
  const valid = judged.valid.length;
  // The counts of the answer, the prediction's (every valid record stored) and the real ones, in
  // one key order: runImport compares the two answers as JSON.
  const countsOf = (successful: number, batchesProcessed: number, refresh?: Partial<StoredCounts>) => ({
    total,
    valid,
    // A second record with the same key breaks a record rule too, so it counts as invalid.
    invalid: total - valid,
    successful,
    failed: total - successful,
    batchesProcessed,
    ...refresh,
  });

  // initiateCall and useWorkflow exclude each other (the envelope refuses both).
  const kind = input.initiateCall ? "call" : input.useWorkflow ? "workflow" : undefined;
  // Customers other requests handed to the call queue moments ago have a call waiting but no call
  // row yet: a refresh must not hand them over again. Read once, not once per chunk.
  const awaitingConsumer =
    kind === "call" && onExisting === "update"
      ? await deps.outbox.customersAwaitingConsumer(campaign.pk, importId)
      : undefined;
  const stored = await storeChunks(deps, judged.valid, {
    campaignPk: campaign.pk,
    importId,
    at: attempt.startedAt,
    resumed: attempt.resumed,
    attempt: attempt.number,
    leaseMs: IMPORT_LEASE_MS,
    dedupeField: dedupeFieldOf(campaign.campaignType),
    onExisting,
    handOff: kind ? { kind, batchSize: DISPATCH_BATCH_SIZE } : undefined,
    leaseExpiredBefore: deps.clock.now() - CLAIM_LEASE_MS,
    awaitingConsumer,
    log: deps.log,
    dryRun,
    completion: predict
      ? (chunkSizes) => predict(countsOf(valid, chunkSizes.length), judged.errors, chunkSizes)
      : undefined,
  });
  const errors = [...judged.errors, ...stored.errors].sort((a, b) => a.index - b.index);

  const refresh =
    onExisting === "update"
      ? { added: stored.added, updated: stored.updated, unchanged: stored.unchanged }
      : undefined;
  return { counts: countsOf(stored.successful, stored.batchesProcessed, refresh), errors, stored };
}
