import { and, asc, eq, gt } from "drizzle-orm";
import type { CampaignType } from "../domain/intake/record-rules";
import type { Db } from "./client";
import { agents, campaigns, dispositions } from "./schema";

export interface CallingWindow {
  start: string;
  end: string;
  days: string[];
}

export interface Campaign {
  pk: number;
  organizationId: string;
  id: string;
  name: string;
  campaignType: CampaignType;
  timezone: string;
  defaultCountry: string;
  callingWindow: CallingWindow;
  workflow: unknown;
  createdAt: number;
}

export interface NamedResource {
  id: string;
  name: string;
  createdAt: number;
}

type CampaignRow = typeof campaigns.$inferSelect;

function toCampaign(row: CampaignRow): Campaign {
  return {
    pk: row.pk,
    organizationId: row.organizationId,
    id: row.id,
    name: row.name,
    campaignType: row.campaignType,
    timezone: row.timezone,
    defaultCountry: row.defaultCountry,
    callingWindow: {
      start: row.windowStart,
      end: row.windowEnd,
      days: JSON.parse(row.windowDays) as string[],
    },
    workflow: row.workflow === null ? null : JSON.parse(row.workflow),
    createdAt: row.createdAt,
  };
}

export function createCampaignsRepository(db: Db) {
  // Agents and dispositions are the same shape of resource: an id and a name per organization.
  function named(table: typeof agents | typeof dispositions) {
    return {
      /** Inserts the resource; false when the organization already has one with that id. */
      async create(organizationId: string, r: NamedResource): Promise<boolean> {
        const rows = await db
          .insert(table)
          .values({ organizationId, ...r })
          .onConflictDoNothing()
          .returning({ pk: table.pk });
        return rows.length > 0;
      },
      async find(organizationId: string, id: string): Promise<NamedResource | undefined> {
        return db
          .select({ id: table.id, name: table.name, createdAt: table.createdAt })
          .from(table)
          .where(and(eq(table.organizationId, organizationId), eq(table.id, id)))
          .get();
      },
      async list(organizationId: string, limit: number, after?: string): Promise<NamedResource[]> {
        return db
          .select({ id: table.id, name: table.name, createdAt: table.createdAt })
          .from(table)
          .where(
            and(
              eq(table.organizationId, organizationId),
              after === undefined ? undefined : gt(table.id, after),
            ),
          )
          .orderBy(asc(table.id))
          .limit(limit);
      },
    };
  }

  return {
    agents: named(agents),
    dispositions: named(dispositions),

    /** Inserts the campaign; undefined when the organization already has one with that id. */
    async createCampaign(c: Omit<Campaign, "pk">): Promise<Campaign | undefined> {
      const rows = await db
        .insert(campaigns)
        .values({
          organizationId: c.organizationId,
          id: c.id,
          name: c.name,
          campaignType: c.campaignType,
          timezone: c.timezone,
          defaultCountry: c.defaultCountry,
          windowStart: c.callingWindow.start,
          windowEnd: c.callingWindow.end,
          windowDays: JSON.stringify(c.callingWindow.days),
          workflow: c.workflow == null ? null : JSON.stringify(c.workflow),
          createdAt: c.createdAt,
        })
        .onConflictDoNothing()
        .returning();
      return rows[0] ? toCampaign(rows[0]) : undefined;
    },

    async findCampaign(organizationId: string, id: string): Promise<Campaign | undefined> {
      const row = await db
        .select()
        .from(campaigns)
        .where(and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id)))
        .get();
      return row ? toCampaign(row) : undefined;
    },

    async findCampaignByPk(pk: number): Promise<Campaign | undefined> {
      const row = await db.select().from(campaigns).where(eq(campaigns.pk, pk)).get();
      return row ? toCampaign(row) : undefined;
    },

    async listCampaigns(organizationId: string, limit: number, after?: string): Promise<Campaign[]> {
      const rows = await db
        .select()
        .from(campaigns)
        .where(
          and(
            eq(campaigns.organizationId, organizationId),
            after === undefined ? undefined : gt(campaigns.id, after),
          ),
        )
        .orderBy(asc(campaigns.id))
        .limit(limit);
      return rows.map(toCampaign);
    },
  };
}
export type CampaignsRepository = ReturnType<typeof createCampaignsRepository>;
