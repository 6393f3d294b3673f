// POST /api/v1/customers/add: one customer, through exactly the path of the bulk endpoint (the same
// record rules and messages, the same atomic write with its outbox batch, the same Idempotency-Key
// handling), as an import of kind `single`, answered in the platform's single-customer shape.
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { type ErrorBody, errorBody } from "../errors";
import { newId } from "../ids";
import type { Campaign } from "../model/campaign";
import type { StoredCounts } from "../ports/imports-repository";
import type { SendRecord } from "../ports/outbox-repository";
import { dedupeFieldOf } from "../records/record-rules";
import type { BulkDeps } from "./add-customers-in-bulk";
import { storeChunks, type WouldHandOver } from "./chunking";
import { type DryRunPreview, previewCalls } from "./dry-run";
import { DISPATCH_BATCH_SIZE, sendBatches } from "./hand-off";
import {
  type Attempt,
  IMPORT_LEASE_MS,
  type ImportOutcome,
  type ImportWork,
  runAsImport,
} from "./idempotency";
import { judgeRecords } from "./judge-records";
import { type CallConfig, importRow, newImportClaim, prepareImport } from "./prepare-import";

export interface AddCustomerInput {
  organizationId: string;
  campaignId: string;
  /** The record, judged like one record of a bulk request. */
  data: unknown;
  initiateCall: boolean;
  /** Optional when the campaign has a default agent and disposition. */
  callConfig?: CallConfig;
  idempotency?: { key: string; bodyHash: string };
}

export interface AddCustomerBody {
  success: true;
  message: "Customer added to campaign successfully";
  /** `id` is the customer's key: its loan_id, or lead_id in a lead campaign. */
  data: { id: string; campaignId: string };
  /** Only with initiateCall: the customer was handed to the call queue. */
  callInitiated?: boolean;
  /** Only when the hand-off has to wait: why (the call is handed over automatically later). */
  callError?: string;
  importId: string;
}

/** A dry run's answer: the real one without an import, with the call's preview (initiateCall). */
export interface DryRunAddCustomerBody extends Omit<AddCustomerBody, "importId"> {
  dryRun: true;
  preview?: DryRunPreview;
}

/** 201 added, 400 the record breaks a rule, 409 the campaign already holds its key. */
export type AddCustomerOutcome = ImportOutcome<AddCustomerBody | ErrorBody, 201 | 400 | 409>;

/**
 * Adds one customer. Throws DomainError for what is refused before anything is written (see
 * prepareImport); a record that breaks a rule (400 invalid_record, with every field error) and a
 * key the campaign already holds (409 duplicate_existing) are answers, stored for replays like the
 * success. A write that fails throws (500), and a retry with the same key resumes the same import.
 */
export async function addCustomer(deps: BulkDeps, input: AddCustomerInput): Promise<AddCustomerOutcome> {
  const request = { ...input, useWorkflow: false };
  const claim = newImportClaim(request, {
    id: newId("imp"),
    kind: "single",
    total: 1,
    createdAt: deps.clock.now(),
  });
  const prepared = await prepareImport(deps, { ...request, claim });
  if ("replay" in prepared) return prepared.replay as AddCustomerOutcome;
  const { campaign, earlier, begun } = prepared;
  const outcome = await runAsImport(
    deps,
    {
      row: importRow(claim, prepared),
      earlier,
      idempotency: input.idempotency,
      begun,
    },
    (attempt) => addOne(deps, input, campaign, attempt),
  );
  return outcome as AddCustomerOutcome;
}

/**
 * The answer addCustomer would give to `input` now, with nothing written (see dryRunBulk): the same
 * status and body, with `dryRun: true` instead of an importId, and with initiateCall `callInitiated`
 * as the hand-off would report it and a preview of the call. The Idempotency-Key is neither read
 * nor claimed. Throws DomainError like addCustomer.
 */
export async function dryRunAddCustomer(
  deps: BulkDeps,
  input: Omit<AddCustomerInput, "idempotency">,
): Promise<{ status: 201 | 400 | 409; body: DryRunAddCustomerBody | ErrorBody }> {
  const prepared = await prepareImport(deps, { ...input, useWorkflow: false });
  if ("replay" in prepared) throw new Error("a request without an Idempotency-Key has nothing to replay");
  const attempt: Attempt = { importId: "", number: 0, startedAt: deps.clock.now(), resumed: false };
  const { status, body, handedOver } = await addOne(deps, input, prepared.campaign, attempt, true);
  if (status !== 201) return { status: status as 400 | 409, body: body as ErrorBody };
  const { importId: _none, ...added } = body as AddCustomerBody;
  const dry: DryRunAddCustomerBody = { ...added, dryRun: true };
  if (input.initiateCall) {
    dry.callInitiated = (handedOver?.records.length ?? 0) > 0;
    dry.preview = await previewCalls(deps, prepared.campaign, handedOver?.records ?? []);
  }
  return { status, body: dry };
}

const counts = (stored: boolean, valid: boolean): StoredCounts => ({
  total: 1,
  valid: valid ? 1 : 0,
  invalid: valid ? 0 : 1,
  successful: stored ? 1 : 0,
  failed: stored ? 0 : 1,
  batchesProcessed: valid ? 1 : 0,
});

async function addOne(
  deps: BulkDeps,
  input: AddCustomerInput,
  campaign: Campaign,
  attempt: Attempt,
  dryRun = false,
): Promise<ImportWork<AddCustomerBody | ErrorBody> & { handedOver?: WouldHandOver }> {
  const dedupeField = dedupeFieldOf(campaign.campaignType);
  const judged = judgeRecords(deps, campaign, [input.data]);
  const invalid = judged.errors[0];
  if (invalid) {
    const details = (invalid.fields ?? []).map((f) => ({ path: `data.${f.field}`, message: f.message }));
    return {
      status: 400,
      body: errorBody("invalid_record", invalid.message, details),
      counts: counts(false, false),
    };
  }
  const stored = await storeChunks(deps, judged.valid, {
    campaignPk: campaign.pk,
    importId: attempt.importId,
    at: attempt.startedAt,
    resumed: attempt.resumed,
    attempt: attempt.number,
    leaseMs: IMPORT_LEASE_MS,
    dedupeField,
    onExisting: "skip",
    handOff: input.initiateCall ? { kind: "call", batchSize: DISPATCH_BATCH_SIZE } : undefined,
    leaseExpiredBefore: deps.clock.now() - CLAIM_LEASE_MS,
    log: deps.log,
    dryRun,
  });
  const refused = stored.errors[0];
  if (refused?.code === "storage_error") {
    // Nothing was written: fail the attempt, so that a retry with the same key resumes it.
    throw new Error("the customer's chunk could not be stored");
  }
  if (refused) {
    return {
      status: 409,
      body: errorBody("duplicate_existing", refused.message, [
        { path: `data.${dedupeField}`, message: "the campaign already holds a customer with this key" },
      ]),
      counts: counts(false, true),
    };
  }
  const key = judged.valid[0]?.key as string;
  const body: AddCustomerBody = {
    success: true,
    message: "Customer added to campaign successfully",
    data: { id: key, campaignId: campaign.id },
    importId: attempt.importId,
  };
  if (dryRun) return { status: 201, body, counts: counts(true, true), handedOver: stored.handedOver };
  const sends: SendRecord[] = [];
  if (input.initiateCall) {
    // A write reported failed may have committed (its answer lost): then its batch is read.
    const written = attempt.resumed || stored.someWriteFailed ? undefined : stored.batches;
    const { result: handed, records } = await sendBatches(
      deps,
      deps.callsQueue,
      attempt.importId,
      "call",
      written,
    );
    sends.push(...records);
    body.callInitiated = handed.queued > 0;
    if (handed.failed > 0) {
      body.callError =
        "The call could not be handed to the call queue yet; it stays pending and is handed over automatically within minutes.";
    }
  }
  return { status: 201, body, counts: counts(true, true), sends };
}
