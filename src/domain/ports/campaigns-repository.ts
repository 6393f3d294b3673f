import type { Campaign, NamedResource } from "../model/campaign";

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
  createCampaign(campaign: Omit<Campaign, "pk">): Promise<Campaign | undefined>;
  findCampaign(organizationId: string, id: string): Promise<Campaign | undefined>;
  /** By row id, for work that starts from a stored row (queue messages carry no organization). */
  findCampaignByPk(pk: number): Promise<Campaign | undefined>;
  /** Ordered by id; `after` is the last id of the previous page. */
  listCampaigns(organizationId: string, limit: number, after?: string): Promise<Campaign[]>;
}
