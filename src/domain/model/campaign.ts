// Campaigns, and the agents and dispositions their calls use. A leaf of the domain model: it imports
// nothing of bulkcall's, so the db schema, the HTTP schemas and the domain all read the same names.
import type { WorkflowDefinition } from "./workflow";

/** emi / edi: existing loans (equated monthly / daily instalments); lead: lead follow-up. */
export const CAMPAIGN_TYPES = ["emi", "edi", "lead"] as const;
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local hours (HH:MM, start inclusive, end exclusive) on the allowed weekdays. */
export interface CallingWindow {
  start: string;
  end: string;
  days: string[];
}

/** 08:00–19:00 local time every day: the RBI rule for recovery calls. */
export const DEFAULT_CALLING_WINDOW: Readonly<CallingWindow> = Object.freeze({
  start: "08:00",
  end: "19:00",
  days: [...WEEKDAYS],
});

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
