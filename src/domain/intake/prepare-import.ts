// What every request that writes customers checks before it writes anything: a stored answer to
// replay, the campaign, and the agent and disposition its calls will use (the request's callConfig,
// or the campaign's defaults).
import { DomainError, describeError } from "../errors";
import type { Campaign } from "../model/campaign";
import type { Import, ImportKind } from "../model/imports";
import type { Clock } from "../ports/clock";
import type { ImportClaim, ImportsRepository, LookedUp, NewImport } from "../ports/imports-repository";
import { needsCallConfig, workflowOf } from "../workflows/definition";
import {
  type Attempt,
  type IdempotencyDeps,
  IMPORT_LEASE_MS,
  type ImportOutcome,
  replayIfCompleted,
} from "./idempotency";

export interface CallConfig {
  agentId: string;
  dispositionId: string;
}

export interface PrepareImportInput {
  organizationId: string;
  campaignId: string;
  initiateCall: boolean;
  useWorkflow: boolean;
  callConfig?: CallConfig;
  idempotency?: { key: string; bodyHash: string };
  /**
   * Where the request carries the agent and disposition, for the error details: `callConfig.agentId`
   * by default; an initiation sends them at the top level (`agentId`).
   */
  callConfigAt?: "callConfig" | "top-level";
  /**
   * The import row to begin in the same round trip as the look-ups, when every check passes
   * (ImportsRepository.lookUpAndBegin): a request then waits on one round trip fewer. Without
   * it (a dry run), nothing is written.
   */
  claim?: ImportClaim;
}

export interface PrepareImportDeps extends IdempotencyDeps {
  imports: ImportsRepository;
  clock: Clock;
}

export type Prepared =
  | { replay: ImportOutcome }
  | {
      campaign: Campaign;
      /** The request's callConfig, else the campaign's default agent and disposition, if any. */
      callConfig: CallConfig | undefined;
      earlier: Import | undefined;
      /** The import's first attempt, when `claim` was begun with the look-ups. */
      begun?: Attempt;
    };

/**
 * The import a request begins, as far as it is known before prepareImport reads the campaign: a
 * new id, the request's Idempotency-Key and flags, its kind and, when it carries them, its records'
 * count. Pass it as `claim` to begin it with the look-ups, and to importRow once prepared.
 */
export function newImportClaim(
  request: Pick<PrepareImportInput, "organizationId" | "initiateCall" | "useWorkflow" | "idempotency">,
  fields: { id: string; kind: ImportKind; total?: number; createdAt: number },
): ImportClaim {
  return {
    ...fields,
    organizationId: request.organizationId,
    idempotencyKey: request.idempotency?.key ?? null,
    bodyHash: request.idempotency?.bodyHash ?? null,
    state: "processing",
    initiateCall: request.initiateCall,
    useWorkflow: request.useWorkflow,
  };
}

/**
 * The whole import row of a request prepareImport accepted: its claim, on the campaign it was
 * prepared for, with the agent and disposition its calls will use (the row lookUpAndBegin writes
 * from the same data in SQL).
 */
export function importRow(
  claim: ImportClaim,
  { campaign, callConfig }: { campaign: Campaign; callConfig: CallConfig | undefined },
): NewImport {
  return {
    ...claim,
    campaignPk: campaign.pk,
    agentId: callConfig?.agentId ?? null,
    dispositionId: callConfig?.dispositionId ?? null,
  };
}

/** The campaign's default agent and disposition, when it has both. */
function campaignCallConfig(campaign: Campaign): CallConfig | undefined {
  return campaign.agentId && campaign.dispositionId
    ? { agentId: campaign.agentId, dispositionId: campaign.dispositionId }
    : undefined;
}

/**
 * Looks up what the request needs and refuses it before anything is written. Throws DomainError:
 * campaign_not_found, validation_error (calls without an agent), unknown_agent,
 * unknown_disposition, and the Idempotency-Key codes; returns the stored answer to replay when an
 * earlier request with the same key and body completed.
 */
export async function prepareImport(deps: PrepareImportDeps, input: PrepareImportInput): Promise<Prepared> {
  const { organizationId } = input;
  // A workflow's need for an agent is read from its definition in code, not in SQL: such a
  // request claims its key after the look-ups, as runAsImport does without a claim.
  const claim =
    input.claim && !(input.useWorkflow && !input.callConfig)
      ? { ...input.claim, leaseExpiresAt: input.claim.createdAt + IMPORT_LEASE_MS }
      : undefined;
  let found: LookedUp;
  try {
    found = await deps.imports.lookUpAndBegin(
      {
        organizationId,
        campaignId: input.campaignId,
        callConfig: input.callConfig,
        idempotencyKey: input.idempotency?.key,
      },
      claim ? { row: claim, requireCallConfig: input.initiateCall } : undefined,
    );
  } catch (err) {
    // The batch may have committed before its answer was lost: the claim, if written, is freed.
    if (claim) await release(deps, claim.id);
    throw err;
  }
  const claimed = found.claimedFor !== undefined ? claim : undefined;
  try {
    const prepared = await check(deps, input, found);
    // A claim is written only where no import held the key (nothing to replay) and on the campaign
    // the look-up read: one snapshot.
    if (!claimed || "replay" in prepared) return prepared;
    return {
      ...prepared,
      begun: { importId: claimed.id, number: 1, startedAt: claimed.createdAt, resumed: false },
    };
  } catch (err) {
    // The claim's statement makes these checks too, on the same snapshot; were the two ever to
    // disagree, the key is freed as if never claimed.
    if (claimed) await release(deps, claimed.id);
    throw err;
  }
}

/**
 * Deletes a claim its request will not run. If that fails too, the request's own answer still
 * stands; the claim then holds the key like an attempt that died (its lease lapses within
 * IMPORT_LEASE_MS, and the cron resolves it).
 */
async function release(deps: PrepareImportDeps, importId: string): Promise<void> {
  try {
    await deps.imports.release(importId);
  } catch (err) {
    deps.log("import_claim_release_failed", { importId, error: describeError(err) });
  }
}

/** The checks of prepareImport on what its look-ups found. */
async function check(deps: PrepareImportDeps, input: PrepareImportInput, found: LookedUp): Promise<Prepared> {
  const { campaign, agentFound, dispositionFound, earlier } = found;
  // A stored answer is replayed before anything else is looked at, so a retry sees exactly what
  // the first request saw even if the campaign has changed since.
  if (earlier && input.idempotency) {
    const replay = await replayIfCompleted(deps, earlier, input.idempotency.bodyHash, deps.clock.now());
    if (replay) return { replay };
  }

  // A request refused here leaves its key as it was: the claim's statement makes these checks too.
  if (!campaign) {
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`, [
      { path: "campaignId", message: "no campaign with this id" },
    ]);
  }
  // The key's import began on a campaign since deleted and created again under its id: resuming it
  // would store this request's records apart from the first attempt's.
  if (earlier && earlier.campaignPk !== campaign.pk) {
    throw new DomainError(
      "conflict",
      `This Idempotency-Key began import ${earlier.id} on a campaign "${input.campaignId}" that has since been deleted; send this request with a new key.`,
      [{ path: "Idempotency-Key", message: `held by import ${earlier.id} of a deleted campaign` }],
    );
  }
  const callConfig = input.callConfig ?? campaignCallConfig(campaign);
  const topLevel = input.callConfigAt === "top-level";
  const pathOf = (field: "agentId" | "dispositionId") => (topLevel ? field : `callConfig.${field}`);
  if (input.initiateCall && !callConfig) {
    throw new DomainError("validation_error", "The request is not valid.", [
      {
        path: topLevel ? "agentId" : "callConfig",
        message: topLevel
          ? "is required, with dispositionId, when the campaign has no default agentId and dispositionId"
          : "is required when initiateCall is true and the campaign has no default agentId and dispositionId",
      },
    ]);
  }
  if (input.useWorkflow && !callConfig && needsCallConfig(workflowOf(campaign))) {
    throw new DomainError("validation_error", "The campaign's workflow places calls: send callConfig.", [
      {
        path: "callConfig",
        message:
          "is required: the campaign's workflow has call steps that name no agent, and the campaign has no default agentId and dispositionId",
      },
    ]);
  }
  if (input.callConfig && !agentFound) {
    throw new DomainError("unknown_agent", `Agent "${input.callConfig.agentId}" does not exist.`, [
      { path: pathOf("agentId"), message: "no agent with this id" },
    ]);
  }
  if (input.callConfig && !dispositionFound) {
    throw new DomainError(
      "unknown_disposition",
      `Disposition "${input.callConfig.dispositionId}" does not exist.`,
      [{ path: pathOf("dispositionId"), message: "no disposition with this id" }],
    );
  }
  return { campaign, callConfig, earlier };
}
