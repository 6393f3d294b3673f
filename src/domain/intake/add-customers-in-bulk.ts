// POST /api/v1/customers/add/bulk, as a transport-free domain function: judge every record on its
// own, store the valid ones in atomic chunks (each with the outbox batches of the customers it
// adds), hand those batches to the call or workflow queue, and answer with the contract's counts.
// Idempotency-Key handling (idempotency.ts) wraps all of it.
import { DomainError, describeError } from "../errors";
import { newId } from "../ids";
import type { Campaign } from "../model/campaign";
import type { DispatchMessage } from "../model/outbox";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";
import { dedupeFieldOf } from "../records/record-rules";
import { needsCallConfig, workflowOf } from "../workflows/definition";
import { storeChunks } from "./chunking";
import { DISPATCH_BATCH_SIZE, sendPendingBatches } from "./hand-off";
import { type Attempt, beginAttempt, IMPORT_LEASE_MS, replayIfCompleted } from "./idempotency";
import { judgeRecords } from "./judge-records";
import { type BulkOutcome, type BulkResponseBody, bulkStatus } from "./results";
import { packResponse } from "./stored-response";

/** The contract's per-request maximum. */
export const MAX_RECORDS = 10_000;

export interface BulkInput {
  organizationId: string;
  campaignId: string;
  records: readonly unknown[];
  initiateCall: boolean;
  useWorkflow: boolean;
  callConfig?: { agentId: string; dispositionId: string };
  /** The Idempotency-Key and the SHA-256 of the body it was sent with. */
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

/**
 * Adds up to MAX_RECORDS customers to a campaign. Throws DomainError for envelope problems found
 * before anything is written (campaign_not_found, unknown_agent, unknown_disposition,
 * validation_error, and the Idempotency-Key codes); every record problem is reported in the answer.
 */
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

  const begun = await beginAttempt(
    deps,
    {
      id: newId("imp"),
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
      createdAt: deps.clock.now(),
    },
    earlier,
    input.idempotency,
  );
  if ("replay" in begun) return begun.replay;
  const { attempt } = begun;

  // What this attempt knows once it has run: the counts a failure after that point records.
  let known: BulkResponseBody["results"] | undefined;
  try {
    const body = await runImport(deps, input, campaign, attempt);
    known = body.results;
    const status = bulkStatus(body.results);
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
    // Whatever was stored is kept, with its outbox batches (the cron hands those over); the import
    // is marked failed so that a retry with the same Idempotency-Key resumes it at once.
    deps.log("bulk_import_failed", {
      importId: attempt.importId,
      attempt: attempt.number,
      error: describeError(err),
    });
    const counts = known && {
      total: known.total,
      valid: known.valid,
      invalid: known.invalid,
      successful: known.successful,
      failed: known.failed,
      batchesProcessed: known.batchesProcessed,
    };
    await deps.imports
      .markFailed(attempt.importId, attempt.number, deps.clock.now(), counts)
      .catch(() => undefined);
    throw err;
  }
}

async function runImport(
  deps: BulkDeps,
  input: BulkInput,
  campaign: Campaign,
  attempt: Attempt,
): Promise<BulkResponseBody> {
  const { records } = input;
  const { importId } = attempt;
  const judged = judgeRecords(deps, campaign, records);

  // initiateCall and useWorkflow exclude each other (the envelope refuses both).
  const kind = input.initiateCall ? "call" : input.useWorkflow ? "workflow" : undefined;
  const stored = await storeChunks(deps, judged.valid, {
    campaignPk: campaign.pk,
    importId,
    at: attempt.startedAt,
    resumed: attempt.resumed,
    attempt: attempt.number,
    leaseMs: IMPORT_LEASE_MS,
    dedupeField: dedupeFieldOf(campaign.campaignType),
    handOff: kind ? { kind, batchSize: DISPATCH_BATCH_SIZE } : undefined,
    log: deps.log,
  });
  const errors = [...judged.errors, ...stored.errors].sort((a, b) => a.index - b.index);

  const total = records.length;
  const { successful } = stored;
  const body: BulkResponseBody = {
    success: successful === total,
    message: `Added ${successful} of ${total} records`,
    results: {
      total,
      valid: judged.valid.length,
      // A second record with the same key breaks a record rule too, so it counts as invalid.
      invalid: total - judged.valid.length,
      successful,
      failed: total - successful,
      batchesProcessed: stored.batchesProcessed,
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
