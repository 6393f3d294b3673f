import type { CallingWindow, Campaign, CampaignDialingState, NamedResource } from "../model/campaign";
import type { CampaignContactLimits, RetryPolicy } from "../model/policy";
import type { WorkflowDefinition } from "../model/workflow";

/** Agents or dispositions: an id and a name per organization. */
export interface NamedResourceRepository {
  /** Inserts the resource; false when the organization already has one with that id. */
  create(organizationId: string, resource: NamedResource): Promise<boolean>;
  find(organizationId: string, id: string): Promise<NamedResource | undefined>;
  /** Ordered by id; `after` is the last id of the previous page. */
  list(organizationId: string, limit: number, after?: string): Promise<NamedResource[]>;
}

/**
 * A campaign to insert: no default agent and disposition unless given, and the dialing policy
 * defaults (the default retry policy, no limits of its own, no blackout dates, active).
 */
export type NewCampaignRow = Omit<
  Campaign,
  | "pk"
  | "deletedAt"
  | "agentId"
  | "dispositionId"
  | "callingWindow"
  | "retry"
  | "contactPolicy"
  | "dialingState"
  | "pausedAt"
> &
  Partial<Pick<Campaign, "agentId" | "dispositionId">> & {
    callingWindow: WindowChange;
    retry?: RetryPolicy;
    contactPolicy?: CampaignContactLimits | null;
  };

/** A calling window as written: blackout dates left out are none (on insert) or kept (on change). */
export type WindowChange = Omit<CallingWindow, "blackoutDates"> & { blackoutDates?: string[] };

/** The fields a campaign change may set; absent ones stay, null clears the nullable ones. */
export interface CampaignChange {
  name?: string;
  timezone?: string;
  defaultCountry?: string;
  /** Replaces the window; its blackout dates stay unless given. */
  callingWindow?: WindowChange;
  workflow?: WorkflowDefinition | null;
  agentId?: string | null;
  dispositionId?: string | null;
  /** Replaces the retry policy. */
  retry?: RetryPolicy;
  /** The campaign's own contact limits; null follows the organization's. */
  contactPolicy?: CampaignContactLimits | null;
}

/** Work of a campaign that is still waiting or under way. */
export interface ActiveWork {
  /** Calls queued, delayed or being handed to the dialer. */
  calls: number;
  /** Outbox batches (calls or workflows) not finished yet. */
  batches: number;
  /** Workflow runs queued, started or running. */
  runs: number;
}

export interface CampaignsRepository {
  agents: NamedResourceRepository;
  dispositions: NamedResourceRepository;
  /** Inserts the campaign; undefined when the organization already has one with that id. */
  createCampaign(campaign: NewCampaignRow): Promise<Campaign | undefined>;
  /** One of the organization's campaigns; a deleted one is not found. */
  findCampaign(organizationId: string, id: string): Promise<Campaign | undefined>;
  /**
   * By row id, for work that starts from a stored row (queue messages carry no organization). A
   * deleted campaign is found too (with deletedAt), so that work under way can end cleanly.
   */
  findCampaignByPk(pk: number): Promise<Campaign | undefined>;
  /** Applies the change to a campaign that is not deleted; undefined when there is none. */
  updateCampaign(organizationId: string, id: string, change: CampaignChange): Promise<Campaign | undefined>;
  /** Pauses (keeping the first pause's time) or resumes the campaign's dialing. */
  setDialingState(pk: number, state: CampaignDialingState, at: number): Promise<Campaign | undefined>;
  /** Marks the campaign deleted (its id becomes free); undefined when there was no such campaign. */
  markDeleted(organizationId: string, id: string, at: number): Promise<Campaign | undefined>;
  /** Deleted campaigns whose customers are not all erased yet, the oldest deletion first. */
  listUnpurged(limit: number): Promise<Campaign[]>;
  /** Every customer of the deleted campaign has been erased. */
  markPurged(pk: number, at: number): Promise<void>;
  /** What of the campaign is still waiting or under way. */
  activeWork(campaignPk: number): Promise<ActiveWork>;
  /** Ordered by id, deleted campaigns left out; `after` is the last id of the previous page. */
  listCampaigns(organizationId: string, limit: number, after?: string): Promise<Campaign[]>;
}
