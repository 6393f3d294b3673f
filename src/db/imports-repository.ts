import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { imports } from "./schema";

export type ImportRow = typeof imports.$inferSelect;

export interface ImportCounts {
  total: number;
  valid: number;
  invalid: number;
  successful: number;
  failed: number;
  batchesProcessed: number;
}

export function createImportsRepository(db: Db) {
  return {
    /**
     * Records the start of a bulk request. With an idempotency key this is also the lock: the
     * unique (organization, key) index lets exactly one request claim it, and false is returned
     * to every other.
     */
    async begin(row: typeof imports.$inferInsert): Promise<boolean> {
      const rows = await db.insert(imports).values(row).onConflictDoNothing().returning({ id: imports.id });
      return rows.length > 0;
    },

    async findByIdempotencyKey(organizationId: string, key: string): Promise<ImportRow | undefined> {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.idempotencyKey, key)))
        .get();
    },

    async find(organizationId: string, id: string): Promise<ImportRow | undefined> {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.id, id)))
        .get();
    },

    /**
     * Frees the idempotency key of a request that never completed (its Worker died mid-way) so a
     * retry can run; true when this caller took it over.
     */
    async releaseAbandoned(id: string, startedBefore: number): Promise<boolean> {
      const rows = await db
        .update(imports)
        .set({ idempotencyKey: null })
        .where(and(eq(imports.id, id), eq(imports.state, "processing"), lt(imports.createdAt, startedBefore)))
        .returning({ id: imports.id });
      return rows.length > 0;
    },

    async complete(
      id: string,
      counts: ImportCounts,
      response: { status: number; body: string },
      completedAt: number,
    ) {
      await db
        .update(imports)
        .set({
          ...counts,
          state: "completed",
          responseStatus: response.status,
          responseBody: response.body,
          completedAt,
        })
        .where(eq(imports.id, id));
    },

    /** Forgets idempotency keys older than the retention window; their imports stay readable. */
    async expireIdempotencyKeys(before: number): Promise<number> {
      const rows = await db
        .update(imports)
        .set({ idempotencyKey: null, responseBody: null })
        .where(and(sql`${imports.idempotencyKey} IS NOT NULL`, lt(imports.createdAt, before)))
        .returning({ id: imports.id });
      return rows.length;
    },
  };
}
export type ImportsRepository = ReturnType<typeof createImportsRepository>;
