// The customer row a chunk writes: one positional JSON array per record, in the order of one list
// of columns. The encoder, the chunk's INSERT, the upsert's comparison and the hand-off of refreshed
// customers all read that list, so no statement can take a column from another column's position.
import { type SQL, sql } from "drizzle-orm";
import type { CustomerToStore } from "../domain/ports/customers-repository";
import { customers } from "./schema";

export type CustomerColumn = keyof typeof customers.$inferSelect;

/**
 * The columns a chunk's positional JSON rows carry, in row order. The remaining columns (id,
 * campaign, import, times) are the same for the whole chunk and are bound once.
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
  ["variables", (c) => sortedVariables(c.record.variables)],
];

/**
 * A record's variables with their names in one order, whatever order they were sent in: the stored
 * text is what a refresh compares, and `{"b":"2","a":"1"}` is the same variables as
 * `{"a":"1","b":"2"}` (an update must not count it as a change).
 */
export function sortedVariables<V>(variables: Readonly<Record<string, V>> | undefined) {
  if (!variables) return variables;
  const names = Object.keys(variables);
  // Most records send their variables in one order already (a spreadsheet's columns): nothing to do.
  let inOrder = true;
  for (let i = 1; i < names.length && inOrder; i++) inOrder = (names[i - 1] as string) < (names[i] as string);
  if (inOrder) return variables;
  const sorted: Record<string, V> = {};
  for (const name of names.sort()) {
    // An own `__proto__` (a variable of that name) must stay a property, which plain assignment
    // would turn into a prototype.
    if (name === "__proto__") {
      Object.defineProperty(sorted, name, {
        value: variables[name],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else sorted[name] = variables[name] as V;
  }
  return sorted;
}

/**
 * One customer as the positional JSON row a chunk's statements expand: the values of ROW_COLUMNS
 * in its order, a missing one as null. Written out rather than read through ROW_COLUMNS, which
 * took a sixth of a 10,000-record request's judging; customer-rows.test.ts holds it equal to the
 * row ROW_COLUMNS gives (rowValues) on generated customers, so the two lists cannot drift apart.
 */
export function encodeCustomerRow(c: CustomerToStore): string {
  const r = c.record;
  return JSON.stringify([
    c.dedupeKey,
    r.loan_id ?? null,
    r.lead_id ?? null,
    r.first_name ?? null,
    r.last_name ?? null,
    r.phone_number ?? null,
    r.loan_amount ?? null,
    r.emi_amount ?? null,
    r.loan_period ?? null,
    r.current_emi ?? null,
    r.emi_due_date ?? null,
    r.payment_status ?? null,
    r.language ?? null,
    r.lead_date ?? null,
    sortedVariables(r.variables) ?? null,
  ]);
}

/** The dedupe key of a row encodeCustomerRow wrote (its first value). */
export function keyOfRow(encoded: string): string {
  return (JSON.parse(encoded) as unknown[])[0] as string;
}

/** One customer's record columns by name, as replaceOne writes them (missing values are null). */
export function rowValues(c: CustomerToStore): Record<CustomerColumn, unknown> {
  return Object.fromEntries(ROW_COLUMNS.map(([column, read]) => [column, read(c) ?? null])) as Record<
    CustomerColumn,
    unknown
  >;
}

export const POSITION = new Map<string, number>(ROW_COLUMNS.map(([column], i) => [column, i]));

/** The columns an update may change: every record column except the key it is found by. */
export const UPDATABLE = ROW_COLUMNS.map(([column]) => column).filter((c) => c !== "dedupeKey");

export const columnName = (column: CustomerColumn) => customers[column].name;

/** A paid or received payment status: paid and received stop every call and workflow. */
export const SETTLED = sql.raw(`('paid', 'received')`);

/** What chunk row `row` (a json_each alias) writes to `column`. */
export function rowValue(row: string, column: CustomerColumn): SQL {
  const position = POSITION.get(column);
  if (position === undefined) throw new Error(`customers.${column} is not part of a chunk row`);
  return sql.raw(`${row}.value->>${position}`);
}

/** True when stored customer `stored` (an alias) differs in some value from what `incoming` writes. */
export function differs(stored: string, incoming: (column: CustomerColumn) => SQL): SQL {
  return sql.join(
    UPDATABLE.map((c) => sql`${sql.raw(`${stored}."${columnName(c)}"`)} IS NOT ${incoming(c)}`),
    sql` OR `,
  );
}

/** The upsert's condition: the stored row differs from the row the statement would have inserted. */
export const differsFromExcluded = differs('"customers"', (c) => sql.raw(`excluded."${columnName(c)}"`));

/**
 * True when a refresh makes stored customer `c` callable again with chunk row `j`: not paid or
 * received afterwards, and its due date, lead date or payment status changed (a new instalment,
 * a bounce after a payment). Whether a call of theirs is already waiting is the caller's to add.
 */
export function becomesCallable(c: string, j: string): SQL {
  return sql`coalesce(${rowValue(j, "paymentStatus")}, '') NOT IN ${SETTLED}
    AND (${sql.raw(`${c}.emi_due_date`)} IS NOT ${rowValue(j, "emiDueDate")}
      OR ${sql.raw(`${c}.payment_status`)} IS NOT ${rowValue(j, "paymentStatus")}
      OR ${sql.raw(`${c}.lead_date`)} IS NOT ${rowValue(j, "leadDate")})`;
}
