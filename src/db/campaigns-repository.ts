import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Campaign } from "../domain/model/campaign";
import { type CampaignContactLimits, DEFAULT_RETRY_POLICY, type RetryPolicy } from "../domain/model/policy";
import type { WorkflowDefinition } from "../domain/model/workflow";
import type { CampaignsRepository, NamedResourceRepository } from "../domain/ports/campaigns-repository";
import type { Db } from "./client";
import { agents, campaigns, dispositions } from "./schema";

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
      blackoutDates: row.blackoutDates === null ? [] : (JSON.parse(row.blackoutDates) as string[]),
    },
    // Validated when the campaign was stored.
    workflow: row.workflow === null ? null : (JSON.parse(row.workflow) as WorkflowDefinition),
    retry:
      row.retry === null
        ? {
            ...DEFAULT_RETRY_POLICY,
            intervalsMinutes: [...DEFAULT_RETRY_POLICY.intervalsMinutes],
            on: [...DEFAULT_RETRY_POLICY.on],
          }
        : (JSON.parse(row.retry) as RetryPolicy),
    contactPolicy:
      row.contactPolicy === null ? null : (JSON.parse(row.contactPolicy) as CampaignContactLimits),
    dialingState: row.dialingState,
    pausedAt: row.pausedAt,
    createdAt: row.createdAt,
  };
}

/** The policy columns; NULL stands for the defaults (the default retry policy, no limits, no dates). */
function policyColumns(c: {
  retry?: RetryPolicy;
  contactPolicy?: CampaignContactLimits | null;
  callingWindow: { blackoutDates?: string[] };
}) {
  const dates = c.callingWindow.blackoutDates ?? [];
  return {
    retry: c.retry === undefined ? null : JSON.stringify(c.retry),
    contactPolicy: c.contactPolicy == null ? null : JSON.stringify(c.contactPolicy),
    blackoutDates: dates.length === 0 ? null : JSON.stringify(dates),
  };
}

export function createCampaignsRepository(db: Db): CampaignsRepository {
  // Agents and dispositions are the same shape of resource: an id and a name per organization.
  function named(table: typeof agents | typeof dispositions): NamedResourceRepository {
    return {
      async create(organizationId, r) {
        const rows = await db
          .insert(table)
          .values({ organizationId, ...r })
          .onConflictDoNothing()
          .returning({ pk: table.pk });
        return rows.length > 0;
      },
      async find(organizationId, id) {
        return db
          .select({ id: table.id, name: table.name, createdAt: table.createdAt })
          .from(table)
          .where(and(eq(table.organizationId, organizationId), eq(table.id, id)))
          .get();
      },
      async list(organizationId, limit, after) {
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

    async createCampaign(c) {
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
          ...policyColumns(c),
          createdAt: c.createdAt,
        })
        .onConflictDoNothing()
        .returning();
      return rows[0] ? toCampaign(rows[0]) : undefined;
    },

    async findCampaign(organizationId, id) {
      const row = await db
        .select()
        .from(campaigns)
        .where(and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id)))
        .get();
      return row ? toCampaign(row) : undefined;
    },

    async findCampaignByPk(pk) {
      const row = await db.select().from(campaigns).where(eq(campaigns.pk, pk)).get();
      return row ? toCampaign(row) : undefined;
    },

    async updatePolicy(organizationId, id, policy) {
      const rows = await db
        .update(campaigns)
        .set(policyColumns(policy))
        .where(and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id)))
        .returning();
      return rows[0] ? toCampaign(rows[0]) : undefined;
    },

    async setDialingState(pk, state, at) {
      const rows = await db
        .update(campaigns)
        .set({
          dialingState: state,
          pausedAt: state === "paused" ? sql`coalesce(${campaigns.pausedAt}, ${at})` : null,
        })
        .where(eq(campaigns.pk, pk))
        .returning();
      return rows[0] ? toCampaign(rows[0]) : undefined;
    },

    async listCampaigns(organizationId, limit, after) {
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
