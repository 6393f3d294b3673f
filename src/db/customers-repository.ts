import { and, asc, eq, getTableColumns, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { StoredCustomer } from "../domain/model/customer";
import type { WrittenBatch } from "../domain/model/outbox";
import type { CustomersRepository, ProbedChunk } from "../domain/ports/customers-repository";
import { stopWaitingCallsStatement } from "./calls-repository";
import type { Db } from "./client";
import { customerFilterSql, filteredCustomers } from "./customer-filter";
import {
  type CustomerColumn,
  columnName,
  differs,
  differsFromExcluded,
  encodeCustomerRow,
  POSITION,
  rowValue,
  rowValues,
  SETTLED,
  sortedVariables,
  UPDATABLE,
} from "./customer-rows";
import { eraseStatements } from "./erasure";
import { renewLeaseStatement } from "./imports-repository";
import { pendingBatchesStatement, recallBatchesStatement, recalled } from "./outbox-repository";
import { customers } from "./schema";
import { inList } from "./sql";

/**
 * A chunk of positional JSON rows expanded by json_each: one statement, a handful of bound
 * parameters, whatever the chunk's size. The SELECT lists every column in table order, which is the
 * order drizzle names them in the INSERT (NULL id = next rowid); `WHERE true` keeps SQLite from
 * reading ON CONFLICT as a join constraint. A key the campaign holds is skipped, or with `update`
 * overwritten in place when some value differs — the row keeps its id, import and createdAt, gets
 * updatedAt — and left alone (not returned) when every value is the same. RETURNING tells which
 * rows this statement added: the ones it created now carry this import and this moment.
 */
function upsertChunkStatement(
  db: Db,
  campaignPk: number,
  importId: string,
  at: number,
  json: string,
  onExisting: "skip" | "update",
) {
  const perChunk: Partial<Record<CustomerColumn, SQL>> = {
    id: sql`NULL`,
    campaignPk: sql`${campaignPk}`,
    importId: sql`${importId}`,
    createdAt: sql`${at}`,
    updatedAt: sql`NULL`,
    erasedAt: sql`NULL`,
  };
  const select = Object.keys(getTableColumns(customers)).map((column) => {
    const position = POSITION.get(column);
    if (position !== undefined) return sql.raw(`value->>${position}`);
    const bound = perChunk[column as CustomerColumn];
    if (!bound) throw new Error(`customers.${column} has no source in a chunk insert`);
    return bound;
  });
  const insert = db
    .insert(customers)
    .select(sql`SELECT ${sql.join(select, sql`, `)} FROM json_each(${json}) WHERE true`);
  const target = [customers.campaignPk, customers.dedupeKey];
  const written =
    onExisting === "skip"
      ? insert.onConflictDoNothing({ target })
      : insert.onConflictDoUpdate({
          target,
          set: {
            ...Object.fromEntries(UPDATABLE.map((c) => [c, sql.raw(`excluded."${columnName(c)}"`)])),
            updatedAt: sql`${at}`,
          },
          setWhere: differsFromExcluded,
        });
  return written.returning({
    id: customers.id,
    dedupeKey: customers.dedupeKey,
    added: sql<number>`(${customers.importId} = ${importId} AND ${customers.createdAt} = ${at})`,
  });
}

/**
 * The chunk's rows joined to the campaign's customers they name (alias c; the rows are j). CROSS
 * JOIN keeps the rows as the outer loop, so each is one probe of the unique (campaign, key) index;
 * left to itself the planner may walk the campaign and scan the rows for each customer.
 */
function chunkCustomers(campaignPk: number, json: string): SQL {
  return sql`json_each(${json}) j CROSS JOIN customers c ON c.campaign_pk = ${campaignPk} AND c.dedupe_key = j.value->>0`;
}

function toStoredCustomer(row: typeof customers.$inferSelect): StoredCustomer {
  return {
    ...row,
    variables: row.variables === null ? {} : (JSON.parse(row.variables) as StoredCustomer["variables"]),
  };
}

export function createCustomersRepository(db: Db): CustomersRepository {
  const upsertChunk: CustomersRepository["upsertChunk"] = async (
    campaignPk,
    importId,
    at,
    encodedRows,
    options,
  ) => {
    const json = `[${encodedRows.join(",")}]`;
    const { handOff } = options;
    const upsert = upsertChunkStatement(db, campaignPk, importId, at, json, options.onExisting);
    // Updated customers that became callable again get their own outbox batches. They are found
    // before the upsert, while the stored values it compares with are still there; the batch is
    // one transaction, so nothing changes in between.
    const recall =
      handOff?.kind === "call" && options.onExisting === "update"
        ? recallBatchesStatement(
            db,
            importId,
            campaignPk,
            json,
            handOff.batchSize,
            at,
            options.awaitingConsumer ?? [],
          )
        : undefined;
    // The outbox statement for new customers reads what the upsert just did, so it must come
    // right after it.
    const fresh = handOff
      ? pendingBatchesStatement(db, importId, handOff.kind, encodedRows.length, handOff.batchSize, at)
      : undefined;
    // A payment takes effect in the same write: the calls still waiting for a customer the chunk
    // leaves paid are skipped; a live claim (a dialer request in flight) is left alone.
    const stopPaid = options.stopsPaid
      ? stopWaitingCallsStatement(
          db,
          sql`SELECT c.id FROM ${chunkCustomers(campaignPk, json)} WHERE c.payment_status IN ${SETTLED}`,
          { status: "skipped", reason: "paid" },
          at,
          options.leaseExpiredBefore,
        )
      : undefined;
    // The lease renewal changes neither last_insert_rowid() nor what the statements before it read.
    const renewal = options.lease ? renewLeaseStatement(db, options.lease) : undefined;
    const statements = [recall, upsert, fresh, stopPaid, renewal].filter((s) => s !== undefined);
    const results = await db.batch(statements as [typeof upsert, ...(typeof upsert)[]]);
    const rows = results[recall ? 1 : 0] as { id: number; dedupeKey: string; added: number }[];
    const added = new Map<string, number>();
    const updated = new Map<string, number>();
    for (const row of rows) (row.added ? added : updated).set(row.dedupeKey, row.id);
    // The outbox batches this write created, as their statements returned them.
    const batches = [
      ...((recall ? results[0] : []) as unknown as WrittenBatch[]),
      ...((fresh ? results[recall ? 2 : 1] : []) as unknown as WrittenBatch[]),
    ];
    return { added, updated, batches };
  };

  return {
    encodeRow: encodeCustomerRow,

    async insertChunk(campaignPk, importId, createdAt, encodedRows, handOff, lease) {
      const { added } = await upsertChunk(campaignPk, importId, createdAt, encodedRows, {
        onExisting: "skip",
        handOff,
        stopsPaid: false,
        leaseExpiredBefore: 0,
        lease,
      });
      return added;
    },

    upsertChunk,

    async probeChunk(campaignPk, encodedRows, options) {
      const json = `[${encodedRows.join(",")}]`;
      const recalls = options.handOff?.kind === "call" && options.onExisting === "update";
      const rows = await db.all<{ key: string; id: number; changed: number; recalled: number }>(
        sql`SELECT j.value->>0 AS key, c.id AS id,
          (${differs("c", (column) => rowValue("j", column))}) AS changed,
          ${recalls ? sql`(${recalled("c", "j", options.awaitingConsumer ?? [])})` : sql`0`} AS recalled
        FROM ${chunkCustomers(campaignPk, json)}`,
      );
      const held = new Map(rows.map((r) => [r.key, r]));
      const probed: ProbedChunk = { added: new Map(), updated: new Map(), batches: [], recalled: new Set() };
      for (const encoded of encodedRows) {
        const key = (JSON.parse(encoded) as unknown[])[0] as string;
        const row = held.get(key);
        if (!row) probed.added.set(key, 0);
        else if (options.onExisting === "update" && row.changed) {
          probed.updated.set(key, row.id);
          if (row.recalled) probed.recalled.add(key);
        }
      }
      return probed;
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

    async findByKey(campaignPk, key) {
      // Erased customers hold a tombstone no key equals, so they are never found by key.
      const row = await db
        .select()
        .from(customers)
        .where(and(eq(customers.campaignPk, campaignPk), eq(customers.dedupeKey, key)))
        .get();
      return row ? toStoredCustomer(row) : undefined;
    },

    async replaceOne(current, next, at, leaseExpiredBefore) {
      const values = rowValues(next);
      values.variables = next.record.variables
        ? JSON.stringify(sortedVariables(next.record.variables))
        : null;
      // Compare-and-set: the row must still hold what the caller read and merged its patch into,
      // so a concurrent write is never overwritten with stale values (the caller reads again).
      const stored = (column: CustomerColumn) => {
        const value =
          column === "variables"
            ? Object.keys(current.variables).length > 0
              ? JSON.stringify(current.variables)
              : null
            : (current as unknown as Record<string, unknown>)[column];
        return sql`${customers[column]} IS ${value ?? null}`;
      };
      const unchangedSince = and(
        eq(customers.id, current.id),
        isNull(customers.erasedAt),
        ...UPDATABLE.map(stored),
      );
      const [rows] = await db.batch([
        db
          .update(customers)
          .set({ ...(values as Partial<typeof customers.$inferInsert>), updatedAt: at })
          .where(unchangedSince)
          .returning({ id: customers.id }),
        stopWaitingCallsStatement(
          db,
          sql`SELECT id FROM customers WHERE id = ${current.id} AND payment_status IN ${SETTLED}`,
          { status: "skipped", reason: "paid" },
          at,
          leaseExpiredBefore,
        ),
      ]);
      return rows.length > 0;
    },

    async list(campaignPk, limit, afterId) {
      const rows = await db
        .select()
        .from(customers)
        .where(
          and(
            eq(customers.campaignPk, campaignPk),
            isNull(customers.erasedAt),
            afterId === undefined ? undefined : gt(customers.id, afterId),
          ),
        )
        .orderBy(asc(customers.id))
        .limit(limit);
      return rows.map(toStoredCustomer);
    },

    async listIdsToErase(campaignPk, limit) {
      const rows = await db
        .select({ id: customers.id })
        .from(customers)
        .where(and(eq(customers.campaignPk, campaignPk), isNull(customers.erasedAt)))
        .orderBy(asc(customers.id))
        .limit(limit);
      return rows.map((r) => r.id);
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

    async countMatching(campaignPk, filter) {
      const row = await db.get<{ n: number }>(
        sql`SELECT count(*) AS n FROM ${filteredCustomers(filter)} WHERE ${customerFilterSql(campaignPk, filter)}`,
      );
      return Number(row?.n ?? 0);
    },

    async findKeys(campaignPk, keys) {
      if (keys.length === 0) return new Set();
      const rows = await db
        .select({ dedupeKey: customers.dedupeKey })
        .from(customers)
        .where(and(eq(customers.campaignPk, campaignPk), inList(customers.dedupeKey, keys)));
      return new Set(rows.map((r) => r.dedupeKey));
    },

    async erase(input) {
      if (input.customerIds.length === 0) return 0;
      const statements = eraseStatements(db, input);
      const results = await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
      return (results.at(-1) as unknown[]).length;
    },
  };
}
