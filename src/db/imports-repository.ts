import { and, asc, eq, isNotNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { importResponses, imports } from "./schema";

export type ImportRow = typeof imports.$inferSelect;

export interface ImportCounts {
  total: number;
  valid: number;
  invalid: number;
  successful: number;
  failed: number;
  batchesProcessed: number;
}

/** Characters per stored answer part: well under D1's 2 MB ceiling for one value. */
const RESPONSE_PART_CHARS = 1_000_000;

export function createImportsRepository(db: Db) {
  return {
    /**
     * Records the start of a bulk request. With an idempotency key this is also the lock: the
     * unique (organization, key) index lets exactly one request claim it, and false is returned
     * to every other.
     */
    async begin(row: typeof imports.$inferInsert): Promise<boolean> {
      const rows = await db
        .insert(imports)
        .values({ startedAt: row.createdAt, ...row })
        .onConflictDoNothing()
        .returning({ id: imports.id });
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
     * Claims an import whose attempt failed, or whose attempt was abandoned (still `processing`
     * since before `abandonedBefore`: its Worker died), for a new attempt; true when this caller won.
     */
    async claimForRetry(id: string, abandonedBefore: number, at: number): Promise<boolean> {
      const rows = await db
        .update(imports)
        .set({ state: "processing", startedAt: at })
        .where(
          and(
            eq(imports.id, id),
            or(
              eq(imports.state, "failed"),
              and(
                eq(imports.state, "processing"),
                lt(sql`COALESCE(${imports.startedAt}, ${imports.createdAt})`, abandonedBefore),
              ),
            ),
          ),
        )
        .returning({ id: imports.id });
      return rows.length > 0;
    },

    /** An attempt ended with an error: the key is free for a retry, which resumes this import. */
    async markFailed(id: string, at: number): Promise<void> {
      await db
        .update(imports)
        .set({ state: "failed", completedAt: at })
        .where(and(eq(imports.id, id), eq(imports.state, "processing")));
    },

    /**
     * Completes the import; with `response.body` (requests with an Idempotency-Key) the packed
     * answer is stored with it, atomically, for replays.
     */
    async complete(
      id: string,
      counts: ImportCounts,
      response: { status: number; body: string | null },
      completedAt: number,
    ): Promise<void> {
      const parts: { importId: string; part: number; data: string }[] = [];
      for (let i = 0; response.body !== null && i < response.body.length; i += RESPONSE_PART_CHARS) {
        parts.push({
          importId: id,
          part: parts.length,
          data: response.body.slice(i, i + RESPONSE_PART_CHARS),
        });
      }
      await db.batch([
        db.delete(importResponses).where(eq(importResponses.importId, id)),
        ...parts.map((p) => db.insert(importResponses).values(p)),
        db
          .update(imports)
          .set({ ...counts, state: "completed", responseStatus: response.status, completedAt })
          .where(eq(imports.id, id)),
      ]);
    },

    /** The packed answer stored by `complete`, or undefined when none was stored. */
    async storedResponse(id: string): Promise<string | undefined> {
      const parts = await db
        .select({ data: importResponses.data })
        .from(importResponses)
        .where(eq(importResponses.importId, id))
        .orderBy(asc(importResponses.part));
      return parts.length > 0 ? parts.map((p) => p.data).join("") : undefined;
    },

    /** Forgets idempotency keys older than the retention window; their imports stay readable. */
    async expireIdempotencyKeys(before: number): Promise<number> {
      const rows = await db
        .update(imports)
        .set({ idempotencyKey: null })
        .where(and(isNotNull(imports.idempotencyKey), lt(imports.createdAt, before)))
        .returning({ id: imports.id });
      if (rows.length > 0) {
        const ids = JSON.stringify(rows.map((r) => r.id));
        await db
          .delete(importResponses)
          .where(sql`${importResponses.importId} IN (SELECT value FROM json_each(${ids}))`);
      }
      return rows.length;
    },
  };
}
export type ImportsRepository = ReturnType<typeof createImportsRepository>;
