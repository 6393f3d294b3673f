// What every request that writes customers checks before it writes anything: a stored answer to
// replay, the campaign, and the agent and disposition its calls will use (the request's callConfig,
// or the campaign's defaults).
import { DomainError, describeError } from "../errors";
import type { Campaign } from "../model/campaign";
import type { Import } from "../model/imports";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportClaim, ImportsRepository } from "../ports/imports-repository";
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
   * (ImportsRepository.beginWhereReady): a request then waits on one round trip fewer. Without
   * it (a dry run), nothing is written.
   */
  claim?: ImportClaim;
}

export interface PrepareImportDeps extends IdempotencyDeps {
  campaigns: CampaignsRepository;
  imports: ImportsRepository;
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
  const looking = Promise.all([
    deps.campaigns.findCampaign(organizationId, input.campaignId),
    input.callConfig ? deps.campaigns.agents.find(organizationId, input.callConfig.agentId) : undefined,
    input.callConfig
      ? deps.campaigns.dispositions.find(organizationId, input.callConfig.dispositionId)
      : undefined,
    input.idempotency ? deps.imports.findByIdempotencyKey(organizationId, input.idempotency.key) : undefined,
  ]);
  const claiming = claim
    ? deps.imports.beginWhereReady(claim, {
        campaignId: input.campaignId,
        callConfig: input.callConfig,
        requireCallConfig: input.initiateCall,
      })
    : Promise.resolve(undefined);
  // Both settle before anything is decided: a claim that succeeded beside a look-up that failed
  // must still be released.
  const [looked, claimedOrNot] = await Promise.allSettled([looking, claiming]);
  const claimedFor = claimedOrNot.status === "fulfilled" ? claimedOrNot.value : undefined;
  const claimed = claimedFor !== undefined && claim ? claim : undefined;
  try {
    if (looked.status === "rejected") throw looked.reason;
    if (claimedOrNot.status === "rejected") throw claimedOrNot.reason;
    const [campaign, agent, disposition, found] = looked.value;
    // The key's look-up and the claim run side by side: the look-up may find the row just claimed.
    const earlier = claimed && found?.id === claimed.id ? undefined : found;
    const prepared = await check(deps, input, { campaign, agent, disposition, earlier });
    if (!claimed) return prepared;
    if ("replay" in prepared || claimedFor !== prepared.campaign.pk) {
      // A replay: the look-up found a completed import whose key was then forgotten (expired)
      // before the claim; the replay stands. Another campaign: the campaign was deleted and one
      // with its id created between the two reads; the import is begun later, on the campaign the
      // records will be judged and stored for.
      await release(deps, claimed.id);
      return prepared;
    }
    return {
      ...prepared,
      begun: { importId: claimed.id, number: 1, startedAt: claimed.createdAt, resumed: false },
    };
  } catch (err) {
    // Refused on reads that changed between the look-ups and the claim (an agent deleted
    // meanwhile), or a look-up failed: the key is freed as if never claimed.
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
async function check(
  deps: PrepareImportDeps,
  input: PrepareImportInput,
  found: { campaign?: Campaign; agent?: unknown; disposition?: unknown; earlier?: Import },
): Promise<Prepared> {
  const { campaign, agent, disposition, earlier } = found;
  // A stored answer is replayed before anything else is looked at, so a retry sees exactly what
  // the first request saw even if the campaign has changed since.
  if (earlier && input.idempotency) {
    const replay = await replayIfCompleted(deps, earlier, input.idempotency.bodyHash);
    if (replay) return { replay };
  }

  // A request refused here leaves its key as it was: the claim's statement makes these checks too,
  // and prepareImport releases a claim made on reads that have changed since.
  if (!campaign) {
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`, [
      { path: "campaignId", message: "no campaign with this id" },
    ]);
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
  if (input.callConfig && !agent) {
    throw new DomainError("unknown_agent", `Agent "${input.callConfig.agentId}" does not exist.`, [
      { path: pathOf("agentId"), message: "no agent with this id" },
    ]);
  }
  if (input.callConfig && !disposition) {
    throw new DomainError(
      "unknown_disposition",
      `Disposition "${input.callConfig.dispositionId}" does not exist.`,
      [{ path: pathOf("dispositionId"), message: "no disposition with this id" }],
    );
  }
  return { campaign, callConfig, earlier };
}
