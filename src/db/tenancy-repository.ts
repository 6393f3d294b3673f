import { and, eq, isNull } from "drizzle-orm";
import type { Organization } from "../domain/model/organization";
import { type ContactLimits, DEFAULT_CONTACT_LIMITS } from "../domain/model/policy";
import type { TenancyRepository } from "../domain/ports/tenancy-repository";
import type { Db } from "./client";
import { apiKeys, organizations } from "./schema";

export function toOrganization(row: typeof organizations.$inferSelect): Organization {
  return {
    id: row.id,
    name: row.name,
    contactPolicy:
      row.contactPolicy === null
        ? { ...DEFAULT_CONTACT_LIMITS }
        : (JSON.parse(row.contactPolicy) as ContactLimits),
    blackoutDates: row.blackoutDates === null ? [] : (JSON.parse(row.blackoutDates) as string[]),
    createdAt: row.createdAt,
  };
}

export function createTenancyRepository(db: Db): TenancyRepository {
  return {
    async createOrganization(org) {
      await db.insert(organizations).values({ id: org.id, name: org.name, createdAt: org.createdAt });
      return { ...org, contactPolicy: { ...DEFAULT_CONTACT_LIMITS }, blackoutDates: [] };
    },

    async findOrganization(id) {
      const row = await db.select().from(organizations).where(eq(organizations.id, id)).get();
      return row ? toOrganization(row) : undefined;
    },

    async updateOrganizationPolicy(id, policy) {
      const rows = await db
        .update(organizations)
        .set({
          contactPolicy: JSON.stringify(policy.contactPolicy),
          blackoutDates: policy.blackoutDates.length === 0 ? null : JSON.stringify(policy.blackoutDates),
        })
        .where(eq(organizations.id, id))
        .returning();
      return rows[0] ? toOrganization(rows[0]) : undefined;
    },

    async createApiKey(key) {
      await db.insert(apiKeys).values(key);
    },

    async findOrganizationIdByKeyHash(keyHash) {
      const row = await db
        .select({ organizationId: apiKeys.organizationId })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
        .get();
      return row?.organizationId;
    },

    async revokeApiKey(id, at) {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ keyHash: apiKeys.keyHash });
      return rows[0]?.keyHash;
    },
  };
}
