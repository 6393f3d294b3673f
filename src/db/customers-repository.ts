import { and, asc, eq, getTableColumns, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { StoredCustomer } from "../domain/model/customer";
import type { WrittenBatch } from "../domain/model/outbox";
import type { AddedKeys, CustomersRepository } from "../domain/ports/customers-repository";
import { stopWaitingCallsStatement } from "./calls-repository";
import type { Db } from "./client";
import { customerFilterSql, filteredCustomers } from "./customer-filter";
import {
  type CustomerColumn,
  columnName,
  differs,
  differsFromExcluded,
  encodeCustomerRow,
  keyOfRow,
  POSITION,
  rowValue,
  rowValues,
  SETTLED,
  sortedVariables,
  UPDATABLE,
} from "./customer-rows";
import { eraseStatements } from "./erasure";
import { completionStatements, renewLeaseStatement } from "./imports-repository";
import { pendingBatchesStatement, recallBatchesStatement, recalled } from "./outbox-repository";
import { customers } from "./schema";
import { inList } from "./sql";

/**
 * A chunk of positional JSON rows expanded by json_each: one statement, a handful of bound
 * parameters, whatever the chunk's size. The SELECT lists every column in table order, which is the
 * order drizzle names them in the INSERT (NULL id = next rowid); `WHERE true` keeps SQLite from
 * reading ON CONFLICT as a join constraint. A key the campaign holds is skipped, or with `update`
 * overwritten in place when some value differs — the row keeps its id, import and createdAt, gets
 * updatedAt — and left alone (not returned) when every value is the same. With `update`, RETURNING
 * tells which rows this statement added (the ones it created now carry this import and this moment)
 * from the ones it updated; a skip returns nothing, and addedKeysStatement says what it added.
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
  if (onExisting === "skip") return insert.onConflictDoNothing({ target });
  return insert
    .onConflictDoUpdate({
      target,
      set: {
        ...Object.fromEntries(UPDATABLE.map((c) => [c, sql.raw(`excluded."${columnName(c)}"`)])),
        updatedAt: sql`${at}`,
      },
      setWhere: differsFromExcluded,
    })
    .returning({
      dedupeKey: customers.dedupeKey,
      added: sql<number>`(${customers.importId} = ${importId} AND ${customers.createdAt} = ${at})`,
    });
}

/**
 * What the skipping INSERT just before it in the same atomic batch added, as one row: `n`, the rows
 * it inserted (changes()), and `keys`, the JSON array of their dedupe keys only when that is fewer
 * than the `attempted` rows it was given (null otherwise). A file of new customers, the common case,
 * is then told by the count alone: returning 10,000 rows cost about a tenth of the request on
 * local D1 (npm run bench). The keys are read from the INSERT's own rows: ids only grow and the
 * INSERT took at most `attempted` of them, so they lie in (last_insert_rowid() - attempted,
 * last_insert_rowid()], and carry this import and this moment (`at`). A row another chunk of the
 * same attempt wrote may lie in that range too (and when the INSERT added nothing, the range is an
 * earlier statement's): keysOfChunk keeps only this chunk's keys. A SELECT changes neither
 * changes() nor last_insert_rowid(), so the outbox statement after it still reads the INSERT's.
 */
function addedKeysStatement(db: Db, importId: string, at: number, attempted: number) {
  return db.all<{ n: number; keys: string | null }>(sql`SELECT changes() AS n,
      CASE WHEN changes() < ${attempted} THEN (
        SELECT json_group_array(dedupe_key) FROM customers
        WHERE id > last_insert_rowid() - ${attempted} AND id <= last_insert_rowid()
          AND import_id = ${importId} AND created_at = ${at}
      ) END AS keys`);
}

/** The keys of `found` that are keys of the chunk's rows. */
function keysOfChunk(encodedRows: readonly string[], found: readonly string[]): Set<string> {
  const chunk = new Set(encodedRows.map(keyOfRow));
  return new Set(found.filter((key) => chunk.has(key)));
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
    // Right after the upsert, before the outbox statement writes rows of its own.
    const addedKeys =
      options.onExisting === "skip" ? addedKeysStatement(db, importId, at, encodedRows.length) : undefined;
    // Last: it reads the outbox batches the statements before it wrote (ChunkCompletion).
    const completion = options.completion ? completionStatements(db, options.completion) : undefined;
    const completing = completion?.[0];
    const notifying = completion?.[1];
    const statements = [recall, upsert, addedKeys, fresh, stopPaid, renewal, ...(completion ?? [])];
    const present = statements.filter((s) => s !== undefined);
    const results = await db.batch(present as [typeof upsert, ...(typeof upsert)[]]);
    const resultOf = (statement: unknown) =>
      statement === undefined ? undefined : (results[present.indexOf(statement as typeof upsert)] as unknown);
    let added: AddedKeys;
    const updated = new Set<string>();
    if (addedKeys) {
      const [{ n, keys }] = resultOf(addedKeys) as [{ n: number; keys: string | null }];
      added =
        n === encodedRows.length ? "every" : keysOfChunk(encodedRows, JSON.parse(keys ?? "[]") as string[]);
    } else {
      const rows = resultOf(upsert) as { dedupeKey: string; added: number }[];
      const keys = new Set<string>();
      for (const row of rows) (row.added ? keys : updated).add(row.dedupeKey);
      added = keys;
    }
    // The outbox batches this write created, as their statements returned them.
    const batches = [
      ...((resultOf(recall) ?? []) as WrittenBatch[]),
      ...((resultOf(fresh) ?? []) as WrittenBatch[]),
    ];
    const completed = ((resultOf(completing) ?? []) as unknown[]).length > 0;
    const notifies = ((resultOf(notifying) ?? []) as { notifies: number }[])[0]?.notifies === 1;
    return { added, updated, batches, ...(completed ? { completed: { notifies } } : {}) };
  };

  return {
    encodeRow: encodeCustomerRow,

    upsertChunk,

    async probeChunk(campaignPk, encodedRows, options) {
      const json = `[${encodedRows.join(",")}]`;
      const recalls = options.handOff?.kind === "call" && options.onExisting === "update";
      const rows = await db.all<{ key: string; changed: number; recalled: number }>(
        sql`SELECT j.value->>0 AS key,
          (${differs("c", (column) => rowValue("j", column))}) AS changed,
          ${recalls ? sql`(${recalled("c", "j", options.awaitingConsumer ?? [])})` : sql`0`} AS recalled
        FROM ${chunkCustomers(campaignPk, json)}`,
      );
      const held = new Map(rows.map((r) => [r.key, r]));
      const added = new Set<string>();
      const updated = new Set<string>();
      const handedAgain = new Set<string>();
      for (const encoded of encodedRows) {
        const key = keyOfRow(encoded);
        const row = held.get(key);
        if (!row) added.add(key);
        else if (options.onExisting === "update" && row.changed) {
          updated.add(key);
          if (row.recalled) handedAgain.add(key);
        }
      }
      return { added, updated, batches: [], recalled: handedAgain };
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
