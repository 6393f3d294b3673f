import { type Client, createClient } from "@libsql/client/http";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql/http";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";
import { libsqlFetch, resolveStore, type StoreSettings, type StoreTarget } from "./store";

/**
 * The database handle every repository takes. D1 and libSQL both give an async SQLite database
 * with `batch()`, so the repositories are written once against this type.
 */
// biome-ignore lint/suspicious/noExplicitAny: the driver's run-result type differs between D1 and libSQL.
export type Db = BaseSQLiteDatabase<"async", any, typeof schema> & {
  /** Runs the statements atomically: a D1 batch, or a libSQL batch transaction. */
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};

/** What drizzle's batch does with each item: build it, then map the driver's result back. */
interface BatchableQuery {
  _prepare(): {
    getQuery(): { sql: string; params: unknown[] };
    mapResult(result: unknown, isFromBatch?: boolean): unknown;
  };
}

/**
 * One Db per D1 binding for the isolate's life: drizzle walks the whole schema when it is created,
 * a fixed cost a 1,000-record request felt, and the Db holds no state of its own between calls.
 */
const d1Dbs = new WeakMap<D1Database, Db>();

export function createD1Db(binding: D1Database): Db {
  // A binding that is not an object (none at all, as in the OpenAPI document's tests) is not cached.
  const cacheable = typeof binding === "object" && binding !== null;
  const known = cacheable ? d1Dbs.get(binding) : undefined;
  if (known) return known;
  const db = drizzleD1(binding, { schema });
  // drizzle's own D1 batch fails on a raw `sql` statement with parameters ("Cannot read properties
  // of undefined (reading 'bind')", drizzle-orm issue 2277), while libSQL's batch takes it. Binding
  // every statement here, as drizzle already does for statements without parameters, keeps one
  // contract for both stores: raw and built statements mix in one atomic batch.
  const batch: Db["batch"] = async (items) => {
    const prepared = items.map((item) => (item as unknown as BatchableQuery)._prepare());
    const results = await binding.batch(
      prepared.map((p) => {
        const { sql, params } = p.getQuery();
        return binding.prepare(sql).bind(...params);
      }),
    );
    return results.map((result, i) => prepared[i]?.mapResult(result, true)) as Awaited<
      ReturnType<Db["batch"]>
    >;
  };
  const created = Object.assign(db, { batch });
  if (cacheable) d1Dbs.set(binding, created);
  return created;
}

/**
 * A Db over any libSQL client: the HTTP client inside a Worker, the Node client (file:, :memory:,
 * remote) in tools and tests. The HTTP entry point is imported so that this module never loads the
 * Node client, which needs a native library a Worker cannot run.
 */
export function createLibsqlDb(client: Client): Db {
  return drizzleLibsql(client, { schema });
}

/** Opens a store from inside a Worker. */
function openStore(target: StoreTarget): Db {
  if (target.kind === "d1") return createD1Db(target.binding);
  return createLibsqlDb(
    createClient({ url: target.url, authToken: target.authToken, fetch: libsqlFetch(target.url) }),
  );
}

/**
 * The Db for a request: libSQL when LIBSQL_URL is set, the D1 binding otherwise. Throws a
 * StoreConfigError naming the setting when the settings are unusable; never falls back to D1.
 */
export function createDb(settings: StoreSettings, organizationId?: string): Db {
  return openStore(resolveStore(settings, organizationId));
}

export { schema };
