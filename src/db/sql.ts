// SQL shapes shared by the repositories.
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";

/**
 * `<column> IN (<values>)` with the whole list as ONE bound JSON parameter expanded by json_each:
 * D1 binds at most 100 parameters per statement, and these lists run to 500 ids (an outbox batch)
 * or 10,000 (a request).
 */
export function inList(column: SQLWrapper, values: readonly (string | number)[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** Unix ms now, as SQLite computes it: the default of the `created_at` columns filled by the store. */
export const nowMs = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;
