// Everything a message's calls are judged with, read once: the import's and the campaign's dialing
// states and the rules of the campaign within its organization.
import type { Campaign } from "../model/campaign";
import type { Import } from "../model/imports";
import type { Organization } from "../model/organization";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { TenancyRepository } from "../ports/tenancy-repository";
import { dialingPolicy } from "./dialing-policy";
import type { CallContext } from "./place-calls";

export interface CallContextDeps {
  campaigns: CampaignsRepository;
  tenancy: TenancyRepository;
}

/** The context of an import's calls; undefined when its campaign is gone (a broken database). */
export async function loadCallContext(deps: CallContextDeps, imp: Import): Promise<CallContext | undefined> {
  const [campaign, organization] = await Promise.all([
    deps.campaigns.findCampaignByPk(imp.campaignPk),
    deps.tenancy.findOrganization(imp.organizationId),
  ]);
  return campaign ? callContextOf(imp, campaign, organization) : undefined;
}

/** The context of an import's calls from its campaign and organization as read. */
export function callContextOf(
  imp: Import,
  campaign: Campaign,
  organization: Organization | undefined,
): CallContext {
  return {
    organizationId: imp.organizationId,
    campaign,
    importId: imp.id,
    policy: dialingPolicy(campaign, organization),
    importState: imp.dialingState,
    campaignState: campaign.dialingState,
  };
}
