// Campaigns, and the agents and dispositions their calls use. A leaf of the domain model: it imports
// nothing of bulkcall's, so the db schema, the HTTP schemas and the domain all read the same names.
import type { CampaignContactLimits, RetryPolicy } from "./policy";
import type { WorkflowDefinition } from "./workflow";

/** emi / edi: existing loans (equated monthly / daily instalments); lead: lead follow-up. */
export const CAMPAIGN_TYPES = ["emi", "edi", "lead"] as const;
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * Local hours (HH:MM, start inclusive, end exclusive) on the allowed weekdays, except on the
 * blackout dates (YYYY-MM-DD, local to the campaign's time zone).
 */
export interface CallingWindow {
  start: string;
  end: string;
  days: string[];
  blackoutDates: string[];
}

/** 08:00–19:00 local time every day: the RBI rule for recovery calls. */
export const DEFAULT_CALLING_WINDOW: Readonly<CallingWindow> = Object.freeze({
  start: "08:00",
  end: "19:00",
  days: [...WEEKDAYS],
  blackoutDates: [],
});

/** Whether a campaign's calls may go to the dialer; `paused` holds them where they are. */
export const CAMPAIGN_DIALING_STATES = ["active", "paused"] as const;
export type CampaignDialingState = (typeof CAMPAIGN_DIALING_STATES)[number];

export interface Campaign {
  /** Row id the high-volume tables point at; never shown to callers. */
  pk: number;
  organizationId: string;
  /** Caller-chosen id, unique per organization. */
  id: string;
  name: string;
  campaignType: CampaignType;
  /** IANA time zone of the calling window and of workflow dates. */
  timezone: string;
  /** ISO 3166 alpha-2 country used to read phone numbers written without a country code. */
  defaultCountry: string;
  callingWindow: CallingWindow;
  /** The campaign's own workflow, or null for the default of its type. */
  workflow: WorkflowDefinition | null;
  /** When unanswered calls are tried again. */
  retry: RetryPolicy;
  /** The campaign's own contact limits (tighter than the organization's), or null for none. */
  contactPolicy: CampaignContactLimits | null;
  dialingState: CampaignDialingState;
  /** Unix ms of the pause in force, or null. */
  pausedAt: number | null;
  /**
   * The agent and disposition of calls (initiateCall, useWorkflow, initiations) whose request names
   * none; both set or both null.
   */
  agentId: string | null;
  dispositionId: string | null;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms when the campaign was deleted; a deleted campaign is only seen by work already under way. */
  deletedAt: number | null;
}

/** An agent or a disposition set: an id and a name per organization. */
export interface NamedResource {
  id: string;
  name: string;
  /** Unix ms. */
  createdAt: number;
}
