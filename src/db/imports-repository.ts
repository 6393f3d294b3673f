import { and, asc, eq, isNotNull, lt, ne, or, sql } from "drizzle-orm";
import type { ImportsRepository } from "../domain/ports/imports-repository";
import type { Db } from "./client";
import { importResponses, imports } from "./schema";
import { inList } from "./sql";

/** Characters per stored answer part: well under D1's 2 MB ceiling for one value. */
const RESPONSE_PART_CHARS = 1_000_000;

export function createImportsRepository(db: Db): ImportsRepository {
  return {
    // The unique (organization, idempotency key) index lets exactly one request claim a key.
    async begin(row) {
      const rows = await db
        .insert(imports)
        .values({ startedAt: row.createdAt, ...row })
        .onConflictDoNothing()
        .returning({ id: imports.id });
      return rows.length > 0;
    },

    async findByIdempotencyKey(organizationId, key) {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.idempotencyKey, key)))
        .get();
    },

    async find(organizationId, id) {
      return db
        .select()
        .from(imports)
        .where(and(eq(imports.organizationId, organizationId), eq(imports.id, id)))
        .get();
    },

    async findById(id) {
      return db.select().from(imports).where(eq(imports.id, id)).get();
    },

    async claimForRetry(id, abandonedBefore, at) {
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

    async markFailed(id, attempt, at) {
      await db
        .update(imports)
        .set({ state: "failed", completedAt: at })
        .where(and(eq(imports.id, id), eq(imports.state, "processing"), eq(imports.attempt, attempt)));
    },

    async complete(id, attempt, counts, response, completedAt) {
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

    async withStoredAnswers(campaignPk) {
      const rows = await db
        .selectDistinct({ id: importResponses.importId })
        .from(importResponses)
        .innerJoin(imports, eq(imports.id, importResponses.importId))
        .where(eq(imports.campaignPk, campaignPk));
      return rows.map((r) => r.id);
    },

    async dropStoredAnswersOfCampaign(campaignPk) {
      await db.run(sql`DELETE FROM import_responses
        WHERE import_id IN (SELECT id FROM imports WHERE campaign_pk = ${campaignPk})`);
    },

    async storedResponse(id) {
      const parts = await db
        .select({ data: importResponses.data })
        .from(importResponses)
        .where(eq(importResponses.importId, id))
        .orderBy(asc(importResponses.part));
      return parts.length > 0 ? parts.map((p) => p.data).join("") : undefined;
    },

    // Their imports stay readable; only the key and its stored answer go.
    async expireIdempotencyKeys(before) {
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
        await db.delete(importResponses).where(
          inList(
            importResponses.importId,
            rows.map((r) => r.id),
          ),
        );
      }
      return rows.length;
    },
  };
}
