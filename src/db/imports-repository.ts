import { and, asc, eq, isNotNull, lt, ne, or, sql } from "drizzle-orm";
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
     * since before `abandonedBefore`: its Worker died), for a new attempt. Returns the new attempt's
     * number when this caller won, undefined otherwise.
     */
    async claimForRetry(id: string, abandonedBefore: number, at: number): Promise<number | undefined> {
      const rows = await db
        .update(imports)
        .set({ state: "processing", startedAt: at, attempt: sql`${imports.attempt} + 1`, completedAt: null })
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
        .returning({ attempt: imports.attempt });
      return rows[0]?.attempt;
    },

    /**
     * Attempt `attempt` ended with an error: the key is free for a retry, which resumes this import.
     * An attempt that has been taken over changes nothing.
     */
    async markFailed(id: string, attempt: number, at: number): Promise<void> {
      await db
        .update(imports)
        .set({ state: "failed", completedAt: at })
        .where(and(eq(imports.id, id), eq(imports.state, "processing"), eq(imports.attempt, attempt)));
    },

    /**
     * Completes the import as attempt `attempt`; with `response.body` (requests with an
     * Idempotency-Key) the packed answer is stored with it, in one atomic batch. Returns false, and
     * changes nothing, when another attempt has taken the import over.
     */
    async complete(
      id: string,
      attempt: number,
      counts: ImportCounts,
      response: { status: number; body: string | null },
      completedAt: number,
    ): Promise<boolean> {
      // The answer's statements run only if the first one completed the import as this attempt.
      const mine = sql`EXISTS (SELECT 1 FROM imports WHERE id = ${id} AND attempt = ${attempt}
        AND state = 'completed' AND completed_at = ${completedAt})`;
      const parts: ReturnType<typeof db.run>[] = [];
      for (
        let i = 0, part = 0;
        response.body !== null && i < response.body.length;
        i += RESPONSE_PART_CHARS, part++
      ) {
        const data = response.body.slice(i, i + RESPONSE_PART_CHARS);
        parts.push(
          db.run(
            sql`INSERT INTO import_responses (import_id, part, data) SELECT ${id}, ${part}, ${data} WHERE ${mine}`,
          ),
        );
      }
      const [completed] = await db.batch([
        db
          .update(imports)
          .set({ ...counts, state: "completed", responseStatus: response.status, completedAt })
          .where(and(eq(imports.id, id), eq(imports.attempt, attempt), eq(imports.state, "processing")))
          .returning({ id: imports.id }),
        db.run(sql`DELETE FROM import_responses WHERE import_id = ${id} AND ${mine}`),
        ...parts,
      ]);
      return completed.length > 0;
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
        // An attempt still running keeps its key until it ends.
        .where(
          and(
            isNotNull(imports.idempotencyKey),
            lt(imports.createdAt, before),
            ne(imports.state, "processing"),
          ),
        )
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
