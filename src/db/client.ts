import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

/**
 * The database handle every repository takes. D1 and libSQL both give an async SQLite database
 * with `batch()`, so the repositories are written once against this type.
 */
// biome-ignore lint/suspicious/noExplicitAny: the driver's run-result type differs between D1 and libSQL.
export type Db = BaseSQLiteDatabase<"async", any, typeof schema> & {
  /** Runs the statements atomically: a D1 batch, or a libSQL batch transaction. */
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};

export function createD1Db(binding: D1Database): Db {
  return drizzleD1(binding, { schema });
}

export { schema };
