import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { NormalizedRecord } from "../domain/intake/record-rules";
import type { Db } from "./client";
import { type DispatchKind, pendingBatchesStatement } from "./outbox-repository";
import { customers } from "./schema";

/** The queue the customers a chunk adds are handed to, in outbox rows of `batchSize`. */
export interface ChunkHandOff {
  kind: DispatchKind;
  batchSize: number;
}

/** A record ready to store: its uniqueness key already chosen by the campaign's type. */
export interface CustomerToStore {
  dedupeKey: string;
  record: NormalizedRecord;
}

export interface StoredCustomer {
  id: number;
  campaignPk: number;
  loanId: string | null;
  leadId: string | null;
  firstName: string;
  lastName: string | null;
  phoneNumber: string;
  loanAmount: number | null;
  emiAmount: number | null;
  loanPeriod: number | null;
  currentEmi: number | null;
  emiDueDate: string | null;
  paymentStatus: string | null;
  language: string | null;
  leadDate: string | null;
  variables: string | null;
  importId: string;
  createdAt: number;
}

// Positional JSON rows (see encodeCustomerRow) expanded by json_each: one statement, four bound
// parameters, whatever the chunk's size. The SELECT lists every column in table order (NULL id =
// next rowid); `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.
function insertChunkStatement(db: Db, campaignPk: number, importId: string, createdAt: number, json: string) {
  return db
    .insert(customers)
    .select(
      sql`SELECT NULL, ${campaignPk}, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,
        value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14,
        ${importId}, ${createdAt}
      FROM json_each(${json}) WHERE true`,
    )
    .onConflictDoNothing({ target: [customers.campaignPk, customers.dedupeKey] })
    .returning({ id: customers.id, dedupeKey: customers.dedupeKey });
}

/** One customer as the positional JSON row insertChunk expects; the caller joins rows into chunks. */
export function encodeCustomerRow(c: CustomerToStore): string {
  const r = c.record;
  return JSON.stringify([
    c.dedupeKey,
    r.loan_id ?? null,
    r.lead_id ?? null,
    r.first_name,
    r.last_name ?? null,
    r.phone_number,
    r.loan_amount ?? null,
    r.emi_amount ?? null,
    r.loan_period ?? null,
    r.current_emi ?? null,
    r.emi_due_date ?? null,
    r.payment_status ?? null,
    r.language ?? null,
    r.lead_date ?? null,
    // Stored as JSON text: `->>` of an object yields its JSON, of a JSON null yields SQL NULL.
    r.variables ?? null,
  ]);
}

export function createCustomersRepository(db: Db) {
  return {
    /**
     * Writes one chunk atomically: the customers are one statement, expanded from a single JSON
     * parameter so that 10,000 records stay far below D1's 100-bound-parameter limit. Rows whose key
     * the campaign already holds are skipped by ON CONFLICT; RETURNING tells which rows were new.
     * With `handOff`, the same batch (a D1 batch, or a libSQL transaction) also writes the outbox
     * rows for the customers it added, so a stored customer can never miss its hand-off. Throws if
     * the chunk failed, in which case nothing of it was written.
     */
    async insertChunk(
      campaignPk: number,
      importId: string,
      createdAt: number,
      encodedRows: readonly string[],
      handOff?: ChunkHandOff,
    ): Promise<Map<string, number>> {
      const json = `[${encodedRows.join(",")}]`;
      const insert = insertChunkStatement(db, campaignPk, importId, createdAt, json);
      // The outbox statement reads what the INSERT just did, so it must come right after it.
      const [rows] = handOff
        ? await db.batch([
            insert,
            pendingBatchesStatement(
              db,
              importId,
              handOff.kind,
              encodedRows.length,
              handOff.batchSize,
              createdAt,
            ),
          ])
        : await db.batch([insert]);
      const added = new Map<string, number>();
      for (const row of rows) added.set(row.dedupeKey, row.id);
      return added;
    },

    /** Which of these keys the campaign holds from this very import (an earlier attempt of it). */
    async findOwn(
      campaignPk: number,
      importId: string,
      keys: readonly string[],
    ): Promise<Map<string, number>> {
      const rows = await db
        .select({ id: customers.id, dedupeKey: customers.dedupeKey })
        .from(customers)
        .where(
          and(
            eq(customers.campaignPk, campaignPk),
            eq(customers.importId, importId),
            sql`${customers.dedupeKey} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`,
          ),
        );
      return new Map(rows.map((r) => [r.dedupeKey, r.id]));
    },

    async list(campaignPk: number, limit: number, afterId?: number): Promise<StoredCustomer[]> {
      return db
        .select()
        .from(customers)
        .where(
          and(
            eq(customers.campaignPk, campaignPk),
            afterId === undefined ? undefined : gt(customers.id, afterId),
          ),
        )
        .orderBy(asc(customers.id))
        .limit(limit)
        .all() as Promise<StoredCustomer[]>;
    },

    async findByIds(ids: readonly number[]): Promise<StoredCustomer[]> {
      if (ids.length === 0) return [];
      // One JSON parameter instead of one per id: D1 binds at most 100 parameters per statement.
      return db
        .select()
        .from(customers)
        .where(sql`${customers.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
        .orderBy(asc(customers.id))
        .all() as Promise<StoredCustomer[]>;
    },
  };
}
export type CustomersRepository = ReturnType<typeof createCustomersRepository>;
