import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { suppressions } from "./schema";

export interface Suppression {
  phoneNumber: string;
  reason: string | null;
  createdAt: number;
}

export function createSuppressionsRepository(db: Db) {
  return {
    /**
     * Adds the numbers (E.164, already de-duplicated) in one statement expanded from one JSON
     * parameter, so 10,000 numbers stay far below D1's bound-parameter limit. Returns the numbers
     * that were new; a number already on the list keeps its original reason and date.
     */
    async add(organizationId: string, phoneNumbers: readonly string[], reason: string | null, at: number) {
      if (phoneNumbers.length === 0) return [];
      const rows = await db.all<{ phone_number: string }>(sql`INSERT INTO suppressions
          (organization_id, phone_number, reason, created_at)
        SELECT ${organizationId}, value, ${reason}, ${at} FROM json_each(${JSON.stringify(phoneNumbers)}) WHERE true
        ON CONFLICT (organization_id, phone_number) DO NOTHING
        RETURNING phone_number`);
      return rows.map((r) => r.phone_number);
    },

    /** The subset of `phoneNumbers` the organization has suppressed. */
    async findSuppressed(organizationId: string, phoneNumbers: readonly string[]): Promise<Set<string>> {
      if (phoneNumbers.length === 0) return new Set();
      const rows = await db
        .select({ phoneNumber: suppressions.phoneNumber })
        .from(suppressions)
        .where(
          and(
            eq(suppressions.organizationId, organizationId),
            sql`${suppressions.phoneNumber} IN (SELECT value FROM json_each(${JSON.stringify(phoneNumbers)}))`,
          ),
        );
      return new Set(rows.map((r) => r.phoneNumber));
    },

    async list(organizationId: string, limit: number, after?: string): Promise<Suppression[]> {
      return db
        .select({
          phoneNumber: suppressions.phoneNumber,
          reason: suppressions.reason,
          createdAt: suppressions.createdAt,
        })
        .from(suppressions)
        .where(
          and(
            eq(suppressions.organizationId, organizationId),
            after === undefined ? undefined : gt(suppressions.phoneNumber, after),
          ),
        )
        .orderBy(asc(suppressions.phoneNumber))
        .limit(limit);
    },

    /** Removes one number; false when it was not on the list. */
    async remove(organizationId: string, phoneNumber: string): Promise<boolean> {
      const rows = await db
        .delete(suppressions)
        .where(
          and(eq(suppressions.organizationId, organizationId), eq(suppressions.phoneNumber, phoneNumber)),
        )
        .returning({ phoneNumber: suppressions.phoneNumber });
      return rows.length > 0;
    },
  };
}
export type SuppressionsRepository = ReturnType<typeof createSuppressionsRepository>;
