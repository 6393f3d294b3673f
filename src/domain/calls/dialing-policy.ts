// The rules one campaign's calls obey, put together once per message: the campaign's window with
// its own and its organization's blackout dates, the organization's contact limits tightened by the
// campaign's, and the campaign's retry policy.

import type { CallingWindow, Campaign } from "../model/campaign";
import type { Organization } from "../model/organization";
import {
  type ContactLimits,
  DEFAULT_CONTACT_LIMITS,
  effectiveLimits,
  type RetryPolicy,
  UNREPORTED_CALL_HOLD_MINUTES,
} from "../model/policy";

export interface DialingPolicy {
  timezone: string;
  /** The window, its blackout dates the union of the campaign's and the organization's. */
  window: CallingWindow;
  limits: ContactLimits;
  retry: RetryPolicy;
  /** How long an attempt with no reported outcome holds its number, in ms. */
  unreportedHoldMs: number;
}

export function dialingPolicy(campaign: Campaign, organization: Organization | undefined): DialingPolicy {
  const blackoutDates = [
    ...new Set([...campaign.callingWindow.blackoutDates, ...(organization?.blackoutDates ?? [])]),
  ].sort();
  return {
    timezone: campaign.timezone,
    window: { ...campaign.callingWindow, blackoutDates },
    limits: effectiveLimits(organization?.contactPolicy ?? DEFAULT_CONTACT_LIMITS, campaign.contactPolicy),
    retry: campaign.retry,
    unreportedHoldMs: UNREPORTED_CALL_HOLD_MINUTES * 60_000,
  };
}
