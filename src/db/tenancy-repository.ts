import { and, eq, isNull } from "drizzle-orm";
import type { TenancyRepository } from "../domain/ports/tenancy-repository";
import type { Db } from "./client";
import { apiKeys, organizations } from "./schema";

export function createTenancyRepository(db: Db): TenancyRepository {
  return {
    async createOrganization(org) {
      await db.insert(organizations).values(org);
      return org;
    },

    async findOrganization(id) {
      return db.select().from(organizations).where(eq(organizations.id, id)).get();
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
