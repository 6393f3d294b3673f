import { and, asc, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import type { Campaign } from "../domain/model/campaign";
import { type CampaignContactLimits, DEFAULT_RETRY_POLICY, type RetryPolicy } from "../domain/model/policy";
import type { WorkflowDefinition } from "../domain/model/workflow";
import type {
  CampaignChange,
  CampaignsRepository,
  NamedResourceRepository,
} from "../domain/ports/campaigns-repository";
import type { Db } from "./client";
import { agents, campaigns, dispositions } from "./schema";

type CampaignRow = typeof campaigns.$inferSelect;

export function toCampaign(row: CampaignRow): Campaign {
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
    agentId: row.agentId,
    dispositionId: row.dispositionId,
    createdAt: row.createdAt,
    deletedAt: row.deletedAt,
  };
}

/** The stored form of a campaign's own contact limits: NULL for none (an empty object is none). */
function contactPolicyColumn(limits: CampaignContactLimits | null | undefined): string | null {
  return limits == null || Object.keys(limits).length === 0 ? null : JSON.stringify(limits);
}

/** The stored form of blackout dates: NULL for none. */
function blackoutColumn(dates: readonly string[]): string | null {
  return dates.length === 0 ? null : JSON.stringify(dates);
}

/** The stored columns of the campaign fields a change may set. */
function changedColumns(change: CampaignChange): Partial<typeof campaigns.$inferInsert> {
  const columns: Partial<typeof campaigns.$inferInsert> = {};
  if (change.name !== undefined) columns.name = change.name;
  if (change.timezone !== undefined) columns.timezone = change.timezone;
  if (change.defaultCountry !== undefined) columns.defaultCountry = change.defaultCountry;
  if (change.callingWindow !== undefined) {
    columns.windowStart = change.callingWindow.start;
    columns.windowEnd = change.callingWindow.end;
    columns.windowDays = JSON.stringify(change.callingWindow.days);
    const dates = change.callingWindow.blackoutDates;
    if (dates !== undefined) columns.blackoutDates = blackoutColumn(dates);
  }
  if (change.workflow !== undefined) {
    columns.workflow = change.workflow === null ? null : JSON.stringify(change.workflow);
  }
  if (change.agentId !== undefined) columns.agentId = change.agentId;
  if (change.dispositionId !== undefined) columns.dispositionId = change.dispositionId;
  if (change.retry !== undefined) columns.retry = JSON.stringify(change.retry);
  if (change.contactPolicy !== undefined) columns.contactPolicy = contactPolicyColumn(change.contactPolicy);
  return columns;
}

const live = isNull(campaigns.deletedAt);

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
          // NULL stands for the defaults: the default retry policy, no limits, no dates.
          retry: c.retry === undefined ? null : JSON.stringify(c.retry),
          contactPolicy: contactPolicyColumn(c.contactPolicy),
          blackoutDates: blackoutColumn(c.callingWindow.blackoutDates ?? []),
          agentId: c.agentId ?? null,
          dispositionId: c.dispositionId ?? null,
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
        .where(and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id), live))
        .get();
      return row ? toCampaign(row) : undefined;
    },

    async updateCampaign(organizationId, id, change) {
      const columns = changedColumns(change);
      const where = and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id), live);
      if (Object.keys(columns).length === 0) {
        const row = await db.select().from(campaigns).where(where).get();
        return row ? toCampaign(row) : undefined;
      }
      const [row] = await db.update(campaigns).set(columns).where(where).returning();
      return row ? toCampaign(row) : undefined;
    },

    async markDeleted(organizationId, id, at) {
      const [row] = await db
        .update(campaigns)
        .set({ deletedAt: at })
        .where(and(eq(campaigns.organizationId, organizationId), eq(campaigns.id, id), live))
        .returning();
      return row ? toCampaign(row) : undefined;
    },

    async listUnpurged(limit) {
      const rows = await db
        .select()
        .from(campaigns)
        .where(and(isNotNull(campaigns.deletedAt), isNull(campaigns.purgedAt)))
        .orderBy(asc(campaigns.deletedAt))
        .limit(limit);
      return rows.map(toCampaign);
    },

    async markPurged(pk, at) {
      await db.update(campaigns).set({ purgedAt: at }).where(eq(campaigns.pk, pk));
    },

    // Raw SQL: three counts over three tables in one round trip, each through an index
    // (calls_campaign_status, imports_campaign + outbox_batches_import_kind_no, workflow_runs_import).
    async activeWork(campaignPk) {
      const row = await db.get<{ calls: number; batches: number; runs: number }>(sql`SELECT
          (SELECT count(*) FROM calls WHERE campaign_pk = ${campaignPk}
            AND status IN ('queued', 'delayed', 'dispatching')) AS calls,
          (SELECT count(*) FROM outbox_batches o JOIN imports i ON i.id = o.import_id
            WHERE i.campaign_pk = ${campaignPk} AND o.state IN ('pending', 'sent', 'processing')) AS batches,
          (SELECT count(*) FROM workflow_runs r JOIN imports i ON i.id = r.import_id
            WHERE i.campaign_pk = ${campaignPk} AND r.status IN ('queued', 'started', 'running')) AS runs`);
      return {
        calls: Number(row?.calls ?? 0),
        batches: Number(row?.batches ?? 0),
        runs: Number(row?.runs ?? 0),
      };
    },

    async findCampaignByPk(pk) {
      const row = await db.select().from(campaigns).where(eq(campaigns.pk, pk)).get();
      return row ? toCampaign(row) : undefined;
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
            live,
            after === undefined ? undefined : gt(campaigns.id, after),
          ),
        )
        .orderBy(asc(campaigns.id))
        .limit(limit);
      return rows.map(toCampaign);
    },
  };
}
