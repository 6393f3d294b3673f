import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { SuppressionsRepository } from "../domain/ports/suppressions-repository";
import type { Db } from "./client";
import { suppressions } from "./schema";
import { inList } from "./sql";

export function createSuppressionsRepository(db: Db): SuppressionsRepository {
  return {
    // One statement expanded from one JSON parameter, so 10,000 numbers stay far below D1's
    // bound-parameter limit; raw SQL for INSERT ... SELECT FROM json_each.
    async add(organizationId, phoneNumbers, reason, at) {
      if (phoneNumbers.length === 0) return [];
      const rows = await db.all<{ phone_number: string }>(sql`INSERT INTO suppressions
          (organization_id, phone_number, reason, created_at)
        SELECT ${organizationId}, value, ${reason}, ${at} FROM json_each(${JSON.stringify(phoneNumbers)}) WHERE true
        ON CONFLICT (organization_id, phone_number) DO NOTHING
        RETURNING phone_number`);
      return rows.map((r) => r.phone_number);
    },

    async findSuppressed(organizationId, phoneNumbers) {
      if (phoneNumbers.length === 0) return new Set();
      const rows = await db
        .select({ phoneNumber: suppressions.phoneNumber })
        .from(suppressions)
        .where(
          and(
            eq(suppressions.organizationId, organizationId),
            inList(suppressions.phoneNumber, phoneNumbers),
          ),
        );
      return new Set(rows.map((r) => r.phoneNumber));
    },

    async list(organizationId, limit, after) {
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

    async remove(organizationId, phoneNumber) {
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
