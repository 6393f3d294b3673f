// What every request that writes customers checks before it writes anything: a stored answer to
// replay, the campaign, and the agent and disposition its calls will use (the request's callConfig,
// or the campaign's defaults).
import { DomainError } from "../errors";
import type { Campaign } from "../model/campaign";
import type { Import } from "../model/imports";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import { needsCallConfig, workflowOf } from "../workflows/definition";
import { type IdempotencyDeps, type ImportOutcome, replayIfCompleted } from "./idempotency";

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
    if (replay) return { replay };
  }

  // Checked before any claim, so a request refused here leaves the key exactly as it was.
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
