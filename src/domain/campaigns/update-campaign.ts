// PATCH /api/v1/campaigns/{campaignId}: a campaign's name, time zone, default country, calling
// window (blackout dates included), workflow, default agent and disposition, retry policy and own
// contact limits may change; its type may not (it decides which fields its stored customers carry),
// and the HTTP schema refuses it. What a change affects:
// - the calling window, blackout dates and time zone apply at once: they are read when a call is
//   about to be dialled;
// - the retry policy and the contact limits apply to every later judgement (the next retry, the next
//   claim); calls already waiting keep their moment until they are judged again;
// - the workflow applies to runs that start after the change; a running run keeps the steps it
//   started with (a durable run replays its recorded plan);
// - the default agent and disposition apply to requests made after the change (an import records
//   the agent and disposition it was made with).
import { DomainError } from "../errors";
import type { CallingWindow, Campaign } from "../model/campaign";
import { DEFAULT_CONTACT_LIMITS } from "../model/policy";
import type { CampaignChange, CampaignsRepository } from "../ports/campaigns-repository";
import type { TenancyRepository } from "../ports/tenancy-repository";
import type { WebhooksRepository } from "../ports/webhooks-repository";
import { checkCampaignLimits } from "./campaign-policy";
import { checkDefaultCallConfig, checkWorkflowReferences } from "./create-campaign";

/** A campaign change as requested: a calling window names only the fields that change. */
export type CampaignUpdate = Omit<CampaignChange, "callingWindow"> & {
  callingWindow?: Partial<CallingWindow>;
};

/**
 * Applies the change and returns the campaign as stored. Throws campaign_not_found (404, also for
 * another organization's campaign), the errors of checkWorkflowReferences and
 * checkDefaultCallConfig (400), and validation_error (400) for contact limits looser than the
 * organization's or a window whose start would not be before its end.
 */
export async function updateCampaign(
  deps: { campaigns: CampaignsRepository; webhooks: WebhooksRepository; tenancy: TenancyRepository },
  organizationId: string,
  campaignId: string,
  request: CampaignUpdate,
): Promise<Campaign> {
  const current = await deps.campaigns.findCampaign(organizationId, campaignId);
  if (!current) throw new DomainError("campaign_not_found", `Campaign "${campaignId}" does not exist.`);
  const { callingWindow: windowPatch, ...rest } = request;
  const change: CampaignChange = { ...rest };
  if (windowPatch) {
    // Only the fields named change; the others keep the campaign's values.
    const window = {
      start: windowPatch.start ?? current.callingWindow.start,
      end: windowPatch.end ?? current.callingWindow.end,
      days: windowPatch.days ?? current.callingWindow.days,
      blackoutDates: windowPatch.blackoutDates,
    };
    if (window.start >= window.end) {
      throw new DomainError("validation_error", "The request is not valid.", [
        {
          path: "callingWindow.end",
          message: `must be after start (the window would be ${window.start}-${window.end})`,
        },
      ]);
    }
    change.callingWindow = window;
  }
  await checkWorkflowReferences(deps, organizationId, change.workflow);
  if (change.agentId !== undefined || change.dispositionId !== undefined) {
    await checkDefaultCallConfig(deps, organizationId, {
      agentId: change.agentId === undefined ? current.agentId : change.agentId,
      dispositionId: change.dispositionId === undefined ? current.dispositionId : change.dispositionId,
    });
  }
  if (change.contactPolicy) {
    const organization = await deps.tenancy.findOrganization(organizationId);
    checkCampaignLimits(organization?.contactPolicy ?? DEFAULT_CONTACT_LIMITS, change.contactPolicy);
  }
  const updated = await deps.campaigns.updateCampaign(organizationId, campaignId, change);
  if (!updated) throw new DomainError("campaign_not_found", `Campaign "${campaignId}" does not exist.`);
  return updated;
}
