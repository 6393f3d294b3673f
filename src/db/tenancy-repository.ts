import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { apiKeys, organizations } from "./schema";

export interface Organization {
  id: string;
  name: string;
  createdAt: number;
}

export function createTenancyRepository(db: Db) {
  return {
    async createOrganization(org: { id: string; name: string; createdAt: number }): Promise<Organization> {
      await db.insert(organizations).values(org);
      return org;
    },

    async findOrganization(id: string): Promise<Organization | undefined> {
      return db.select().from(organizations).where(eq(organizations.id, id)).get();
    },

    async createApiKey(key: {
      id: string;
      organizationId: string;
      name: string;
      keyHash: string;
      createdAt: number;
    }) {
      await db.insert(apiKeys).values(key);
    },

    /** The organization that owns the live key with this SHA-256 digest. */
    async findOrganizationIdByKeyHash(keyHash: string): Promise<string | undefined> {
      const row = await db
        .select({ organizationId: apiKeys.organizationId })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
        .get();
      return row?.organizationId;
    },

    /** Marks a key revoked; false when no live key has that id. */
    async revokeApiKey(id: string, at: number): Promise<boolean> {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      return rows.length > 0;
    },
  };
}
export type TenancyRepository = ReturnType<typeof createTenancyRepository>;
