import { and, asc, eq, getTableColumns, gt, type SQL, sql } from "drizzle-orm";
import type { StoredCustomer } from "../domain/model/customer";
import type { CustomersRepository, CustomerToStore } from "../domain/ports/customers-repository";
import type { Db } from "./client";
import { renewLeaseStatement } from "./imports-repository";
import { pendingBatchesStatement } from "./outbox-repository";
import { customers } from "./schema";
import { inList } from "./sql";

type CustomerColumn = keyof typeof customers.$inferSelect;

/**
 * The columns a chunk's positional JSON rows carry, in row order: the one list both the encoder and
 * the INSERT read, so a column can never be written from another column's position. The remaining
 * columns (id, campaign, import, time) are the same for the whole chunk and are bound once.
 */
const ROW_COLUMNS: readonly (readonly [CustomerColumn, (c: CustomerToStore) => unknown])[] = [
  ["dedupeKey", (c) => c.dedupeKey],
  ["loanId", (c) => c.record.loan_id],
  ["leadId", (c) => c.record.lead_id],
  ["firstName", (c) => c.record.first_name],
  ["lastName", (c) => c.record.last_name],
  ["phoneNumber", (c) => c.record.phone_number],
  ["loanAmount", (c) => c.record.loan_amount],
  ["emiAmount", (c) => c.record.emi_amount],
  ["loanPeriod", (c) => c.record.loan_period],
  ["currentEmi", (c) => c.record.current_emi],
  ["emiDueDate", (c) => c.record.emi_due_date],
  ["paymentStatus", (c) => c.record.payment_status],
  ["language", (c) => c.record.language],
  ["leadDate", (c) => c.record.lead_date],
  // Stored as JSON text: `->>` of an object yields its JSON, of a JSON null yields SQL NULL.
  ["variables", (c) => c.record.variables],
];

/** One customer as the positional JSON row insertChunk expects. */
export function encodeCustomerRow(c: CustomerToStore): string {
  return JSON.stringify(ROW_COLUMNS.map(([, read]) => read(c) ?? null));
}

const POSITION = new Map<string, number>(ROW_COLUMNS.map(([column], i) => [column, i]));

// Positional JSON rows expanded by json_each: one statement, four bound parameters, whatever the
// chunk's size. The SELECT lists every column in table order, which is the order drizzle names them
// in the INSERT (NULL id = next rowid); `WHERE true` keeps SQLite from reading ON CONFLICT as a join
// constraint.
function insertChunkStatement(db: Db, campaignPk: number, importId: string, createdAt: number, json: string) {
  const perChunk: Partial<Record<CustomerColumn, SQL>> = {
    id: sql`NULL`,
    campaignPk: sql`${campaignPk}`,
    importId: sql`${importId}`,
    createdAt: sql`${createdAt}`,
  };
  const select = Object.keys(getTableColumns(customers)).map((column) => {
    const position = POSITION.get(column);
    if (position !== undefined) return sql.raw(`value->>${position}`);
    const bound = perChunk[column as CustomerColumn];
    if (!bound) throw new Error(`customers.${column} has no source in a chunk insert`);
    return bound;
  });
  return db
    .insert(customers)
    .select(sql`SELECT ${sql.join(select, sql`, `)} FROM json_each(${json}) WHERE true`)
    .onConflictDoNothing({ target: [customers.campaignPk, customers.dedupeKey] })
    .returning({ id: customers.id, dedupeKey: customers.dedupeKey });
}

function toStoredCustomer(row: typeof customers.$inferSelect): StoredCustomer {
  return {
    ...row,
    variables: row.variables === null ? {} : (JSON.parse(row.variables) as StoredCustomer["variables"]),
  };
}

export function createCustomersRepository(db: Db): CustomersRepository {
  return {
    encodeRow: encodeCustomerRow,

    async insertChunk(campaignPk, importId, createdAt, encodedRows, handOff, lease) {
      const json = `[${encodedRows.join(",")}]`;
      const insert = insertChunkStatement(db, campaignPk, importId, createdAt, json);
      // The outbox statement reads what the INSERT just did, so it must come right after it; the
      // lease renewal changes neither last_insert_rowid() nor what the outbox statement reads.
      const outbox = handOff
        ? [
            pendingBatchesStatement(
              db,
              importId,
              handOff.kind,
              encodedRows.length,
              handOff.batchSize,
              createdAt,
            ),
          ]
        : [];
      const renewal = lease ? [renewLeaseStatement(db, lease)] : [];
      const [rows] = await db.batch([insert, ...outbox, ...renewal]);
      const added = new Map<string, number>();
      for (const row of rows) added.set(row.dedupeKey, row.id);
      return added;
    },

    async findOwn(campaignPk, importId, keys) {
      const rows = await db
        .select({ id: customers.id, dedupeKey: customers.dedupeKey })
        .from(customers)
        .where(
          and(
            eq(customers.campaignPk, campaignPk),
            eq(customers.importId, importId),
            inList(customers.dedupeKey, keys),
          ),
        );
      return new Map(rows.map((r) => [r.dedupeKey, r.id]));
    },

    async list(campaignPk, limit, afterId) {
      const rows = await db
        .select()
        .from(customers)
        .where(
          and(
            eq(customers.campaignPk, campaignPk),
            afterId === undefined ? undefined : gt(customers.id, afterId),
          ),
        )
        .orderBy(asc(customers.id))
        .limit(limit);
      return rows.map(toStoredCustomer);
    },

    async findByIds(ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .select()
        .from(customers)
        .where(inList(customers.id, ids))
        .orderBy(asc(customers.id));
      return rows.map(toStoredCustomer);
    },
  };
}
