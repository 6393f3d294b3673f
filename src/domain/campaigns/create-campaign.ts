// Creating a campaign: its workflow's call steps may only name agents and dispositions of the same
// organization, and its id is unique per organization.
import { DomainError } from "../errors";
import { type Campaign, DEFAULT_CALLING_WINDOW } from "../model/campaign";
import { type CampaignContactLimits, DEFAULT_CONTACT_LIMITS, type RetryPolicy } from "../model/policy";
import type { WorkflowDefinition } from "../model/workflow";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { TenancyRepository } from "../ports/tenancy-repository";
import type { WebhooksRepository } from "../ports/webhooks-repository";
import { checkCampaignLimits } from "./campaign-policy";

export interface NewCampaign
  extends Omit<
    Campaign,
    | "pk"
    | "createdAt"
    | "callingWindow"
    | "workflow"
    | "retry"
    | "contactPolicy"
    | "dialingState"
    | "pausedAt"
    | "agentId"
    | "dispositionId"
    | "deletedAt"
  > {
  callingWindow?: Campaign["callingWindow"];
  workflow?: WorkflowDefinition;
  retry?: RetryPolicy;
  contactPolicy?: CampaignContactLimits;
  agentId?: string | null;
  dispositionId?: string | null;
}

/**
 * Stores a new campaign (the default calling window and retry policy when none is given). Throws
 * unknown_agent / unknown_disposition (400) naming the workflow step or the default,
 * validation_error (400) when only one of agentId and dispositionId is given or for contact limits
 * looser than the organization's, or conflict (409) when the id is taken.
 */
export async function createCampaign(
  deps: {
    campaigns: CampaignsRepository;
    webhooks: WebhooksRepository;
    tenancy: TenancyRepository;
    clock: Clock;
  },
  input: NewCampaign,
): Promise<Campaign> {
  await checkWorkflowReferences(deps, input.organizationId, input.workflow);
  await checkDefaultCallConfig(deps, input.organizationId, {
    agentId: input.agentId ?? null,
    dispositionId: input.dispositionId ?? null,
  });
  if (input.contactPolicy) {
    const organization = await deps.tenancy.findOrganization(input.organizationId);
    checkCampaignLimits(organization?.contactPolicy ?? DEFAULT_CONTACT_LIMITS, input.contactPolicy);
  }
  const created = await deps.campaigns.createCampaign({
    ...input,
    callingWindow: input.callingWindow ?? {
      ...DEFAULT_CALLING_WINDOW,
      days: [...DEFAULT_CALLING_WINDOW.days],
      blackoutDates: [],
    },
    workflow: input.workflow ?? null,
    contactPolicy:
      input.contactPolicy && Object.keys(input.contactPolicy).length > 0 ? input.contactPolicy : null,
    createdAt: deps.clock.now(),
  });
  if (!created) {
    throw new DomainError("conflict", `Campaign "${input.id}" already exists.`, [
      { path: "id", message: "already taken" },
    ]);
  }
  return created;
}

/**
 * Agents and dispositions a workflow's call steps name, and webhooks its webhook steps name, must
 * exist in the organization. Throws unknown_agent / unknown_disposition / unknown_webhook (400).
 */
export async function checkWorkflowReferences(
  deps: { campaigns: CampaignsRepository; webhooks: WebhooksRepository },
  organizationId: string,
  workflow: WorkflowDefinition | undefined | null,
): Promise<void> {
  const { campaigns } = deps;
  for (const [index, step] of (workflow?.steps ?? []).entries()) {
    if (step.type === "webhook" && !(await deps.webhooks.find(organizationId, step.webhookId))) {
      throw new DomainError("unknown_webhook", `Webhook "${step.webhookId}" does not exist.`, [
        {
          path: `workflow.steps.${index}.webhookId`,
          message: "no webhook with this id (POST /api/v1/webhooks)",
        },
      ]);
    }
    if (step.type !== "call") continue;
    if (step.agentId && !(await campaigns.agents.find(organizationId, step.agentId))) {
      throw new DomainError("unknown_agent", `Agent "${step.agentId}" does not exist.`, [
        { path: `workflow.steps.${index}.agentId`, message: "no agent with this id" },
      ]);
    }
    if (step.dispositionId && !(await campaigns.dispositions.find(organizationId, step.dispositionId))) {
      throw new DomainError("unknown_disposition", `Disposition "${step.dispositionId}" does not exist.`, [
        { path: `workflow.steps.${index}.dispositionId`, message: "no disposition with this id" },
      ]);
    }
  }
}

/**
 * A campaign's default agent and disposition: both or neither (a call needs both), each one of the
 * organization's. Throws validation_error, unknown_agent or unknown_disposition (400).
 */
export async function checkDefaultCallConfig(
  deps: { campaigns: CampaignsRepository },
  organizationId: string,
  defaults: { agentId: string | null; dispositionId: string | null },
): Promise<void> {
  const { agentId, dispositionId } = defaults;
  if ((agentId === null) !== (dispositionId === null)) {
    const missing = agentId === null ? "agentId" : "dispositionId";
    throw new DomainError("validation_error", "A campaign's default agentId and dispositionId go together.", [
      { path: missing, message: "is required with the other default (set both, or clear both)" },
    ]);
  }
  if (agentId !== null && !(await deps.campaigns.agents.find(organizationId, agentId))) {
    throw new DomainError("unknown_agent", `Agent "${agentId}" does not exist.`, [
      { path: "agentId", message: "no agent with this id" },
    ]);
  }
  if (dispositionId !== null && !(await deps.campaigns.dispositions.find(organizationId, dispositionId))) {
    throw new DomainError("unknown_disposition", `Disposition "${dispositionId}" does not exist.`, [
      { path: "dispositionId", message: "no disposition with this id" },
    ]);
  }
}
