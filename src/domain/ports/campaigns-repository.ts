import type { CallingWindow, Campaign, CampaignDialingState, NamedResource } from "../model/campaign";
import type { CampaignContactLimits, RetryPolicy } from "../model/policy";

/** A campaign to store: the dialing policy defaults (no blackout dates, the default retry policy). */
export interface CampaignToStore
  extends Omit<Campaign, "pk" | "callingWindow" | "retry" | "contactPolicy" | "dialingState" | "pausedAt"> {
  callingWindow: Omit<CallingWindow, "blackoutDates"> & { blackoutDates?: string[] };
  retry?: RetryPolicy;
  contactPolicy?: CampaignContactLimits | null;
}

/** Agents or dispositions: an id and a name per organization. */
export interface NamedResourceRepository {
  /** Inserts the resource; false when the organization already has one with that id. */
  create(organizationId: string, resource: NamedResource): Promise<boolean>;
  find(organizationId: string, id: string): Promise<NamedResource | undefined>;
  /** Ordered by id; `after` is the last id of the previous page. */
  list(organizationId: string, limit: number, after?: string): Promise<NamedResource[]>;
}

export interface CampaignsRepository {
  agents: NamedResourceRepository;
  dispositions: NamedResourceRepository;
  /** Inserts the campaign; undefined when the organization already has one with that id. */
  createCampaign(campaign: CampaignToStore): Promise<Campaign | undefined>;
  findCampaign(organizationId: string, id: string): Promise<Campaign | undefined>;
  /** By row id, for work that starts from a stored row (queue messages carry no organization). */
  findCampaignByPk(pk: number): Promise<Campaign | undefined>;
  /** Replaces the campaign's retry policy, contact limits and blackout dates; undefined when unknown. */
  updatePolicy(
    organizationId: string,
    id: string,
    policy: Pick<Campaign, "retry" | "contactPolicy" | "callingWindow">,
  ): Promise<Campaign | undefined>;
  /** Pauses (keeping the first pause's time) or resumes the campaign's dialing. */
  setDialingState(pk: number, state: CampaignDialingState, at: number): Promise<Campaign | undefined>;
  /** Ordered by id; `after` is the last id of the previous page. */
  listCampaigns(organizationId: string, limit: number, after?: string): Promise<Campaign[]>;
}
