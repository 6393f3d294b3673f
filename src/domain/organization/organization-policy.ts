// An organization's dialing policy: the contact limits every campaign obeys (a campaign may only
// tighten them) and the dates on which nobody is called.
import { DomainError } from "../errors";
import type { Organization } from "../model/organization";
import type { ContactLimits } from "../model/policy";
import type { TenancyRepository } from "../ports/tenancy-repository";

export async function getOrganization(
  deps: { tenancy: TenancyRepository },
  organizationId: string,
): Promise<Organization> {
  const organization = await deps.tenancy.findOrganization(organizationId);
  if (!organization) throw new DomainError("not_found", "Organization not found.");
  return organization;
}

/**
 * Changes the contact limits (any of them) and the blackout dates. Campaigns' own limits looser
 * than new, tighter organization limits are not refused: the tighter of the two applies to every
 * call judged from now on. Throws not_found (404) for an unknown organization.
 */
export async function updateOrganizationPolicy(
  deps: { tenancy: TenancyRepository },
  organizationId: string,
  change: { contactPolicy?: Partial<ContactLimits>; blackoutDates?: string[] },
): Promise<Organization> {
  const current = await getOrganization(deps, organizationId);
  const updated = await deps.tenancy.updateOrganizationPolicy(organizationId, {
    contactPolicy: { ...current.contactPolicy, ...change.contactPolicy },
    blackoutDates: change.blackoutDates ?? current.blackoutDates,
  });
  if (!updated) throw new DomainError("not_found", "Organization not found.");
  return updated;
}
