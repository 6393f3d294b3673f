// A campaign's dialing policy: its retry policy, its own contact limits (which may only tighten the
// organization's) and its blackout dates. createCampaign checks them on creation; the campaign PATCH
// route calls updateCampaignPolicy for a change.
import { DomainError, type ErrorDetail } from "../errors";
import type { Campaign } from "../model/campaign";
import {
  type CampaignContactLimits,
  type ContactLimits,
  DEFAULT_CONTACT_LIMITS,
  type RetryPolicy,
} from "../model/policy";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { TenancyRepository } from "../ports/tenancy-repository";

/**
 * Refuses (400 validation_error, one detail per field) campaign limits looser than the
 * organization's: a higher cap or a shorter gap. Equal is allowed; the organization may tighten its
 * own limits later, and the tighter of the two then applies.
 */
export function checkCampaignLimits(
  organization: ContactLimits,
  campaign: CampaignContactLimits | null,
): void {
  if (!campaign) return;
  const details: ErrorDetail[] = [];
  for (const field of ["maxPerDay", "maxPer7Days"] as const) {
    const value = campaign[field];
    if (value !== undefined && value > organization[field]) {
      details.push({
        path: `contactPolicy.${field}`,
        message: `may only tighten the organization's ${organization[field]} (PATCH /api/v1/organization to change it)`,
      });
    }
  }
  const gap = campaign.minGapMinutes;
  if (gap !== undefined && gap < organization.minGapMinutes) {
    details.push({
      path: "contactPolicy.minGapMinutes",
      message: `may only lengthen the organization's ${organization.minGapMinutes} minutes (PATCH /api/v1/organization to change it)`,
    });
  }
  if (details.length > 0) {
    throw new DomainError(
      "validation_error",
      "A campaign may tighten the organization's contact limits, not loosen them.",
      details,
    );
  }
}

/** A change of a campaign's policy; absent fields keep their value, `contactPolicy: null` clears it. */
export interface CampaignPolicyChange {
  retry?: RetryPolicy;
  contactPolicy?: CampaignContactLimits | null;
  blackoutDates?: string[];
}

/**
 * Changes a campaign's retry policy, contact limits and blackout dates. Throws campaign_not_found
 * (404) for an unknown campaign or another organization's, validation_error (400) for limits looser
 * than the organization's. Calls already waiting keep their moment; every later judgement (the next
 * retry, the next claim) uses the new policy.
 */
export async function updateCampaignPolicy(
  deps: { campaigns: CampaignsRepository; tenancy: TenancyRepository },
  organizationId: string,
  campaignId: string,
  change: CampaignPolicyChange,
): Promise<Campaign> {
  const current = await deps.campaigns.findCampaign(organizationId, campaignId);
  if (!current) throw new DomainError("campaign_not_found", "Campaign not found.");
  const contactPolicy = change.contactPolicy === undefined ? current.contactPolicy : change.contactPolicy;
  const organization = await deps.tenancy.findOrganization(organizationId);
  checkCampaignLimits(organization?.contactPolicy ?? DEFAULT_CONTACT_LIMITS, contactPolicy);
  const updated = await deps.campaigns.updatePolicy(organizationId, campaignId, {
    retry: change.retry ?? current.retry,
    contactPolicy,
    callingWindow: {
      ...current.callingWindow,
      blackoutDates: change.blackoutDates ?? current.callingWindow.blackoutDates,
    },
  });
  if (!updated) throw new DomainError("campaign_not_found", "Campaign not found.");
  return updated;
}
