// A campaign's own contact limits may only tighten the organization's: createCampaign and
// updateCampaign (POST and PATCH /api/v1/campaigns) check them.
import { DomainError, type ErrorDetail } from "../errors";
import type { CampaignContactLimits, ContactLimits } from "../model/policy";

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
