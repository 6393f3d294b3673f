// The WHERE clause of a call initiation's selection, over `customers c`: the same text for the count
// of matching customers and for the statements that write their outbox batches, so the two can never
// disagree. Which index serves what:
// - c.campaign_pk: `customers_campaign` (campaign_pk, then rowid), which also gives the id order the
//   selection walks with a keyset, so it reads each customer of the campaign at most once;
// - ids: the unique `customers_campaign_key` (campaign_pk, dedupe_key), one probe per listed key
//   (named with INDEXED BY: left to itself the planner walks the whole campaign in id order), then
//   a sort of at most MAX_FILTER_IDS rows;
// - payment_status, language, variables and exclude_ids are checked on each row the walk reads
//   (no index narrows "bounced and Hindi-speaking" usefully while keeping the id order);
// - "no call waiting": one probe of `calls_customer` (customer_id, status) per row, and the ids of
//   customers whose batch no consumer has reached yet (excludeCustomerIds), read once beforehand.
import { type SQL, sql } from "drizzle-orm";
import type { CustomerFilter } from "../domain/ports/customers-repository";

const json = (values: readonly unknown[]) => JSON.stringify(values);

/** The JSON path of an agent variable. The domain refuses names that JSON would escape. */
const variablePath = (name: string) => `$."${name}"`;

/** The FROM source of a filtered selection, `customers c`, with the index that serves it best. */
export function filteredCustomers(filter: CustomerFilter): SQL {
  return filter.ids ? sql`customers c INDEXED BY customers_campaign_key` : sql`customers c`;
}

/** The WHERE condition of a filtered selection over filteredCustomers(filter). */
export function customerFilterSql(campaignPk: number, filter: CustomerFilter): SQL {
  const parts: SQL[] = [sql`c.campaign_pk = ${campaignPk}`, sql`c.erased_at IS NULL`];
  if (filter.ids) parts.push(sql`c.dedupe_key IN (SELECT value FROM json_each(${json(filter.ids)}))`);
  if (filter.excludeIds && filter.excludeIds.length > 0) {
    parts.push(sql`c.dedupe_key NOT IN (SELECT value FROM json_each(${json(filter.excludeIds)}))`);
  }
  if (filter.paymentStatuses) {
    parts.push(sql`c.payment_status IN (SELECT value FROM json_each(${json(filter.paymentStatuses)}))`);
  } else {
    // Paid customers would only be skipped at dial time: unless asked for, they are not selected.
    parts.push(sql`(c.payment_status IS NULL OR c.payment_status NOT IN ('paid', 'received'))`);
  }
  if (filter.languages) {
    parts.push(sql`c.language IN (SELECT value FROM json_each(${json(filter.languages)}))`);
  }
  for (const [name, value] of filter.variables ?? []) {
    const path = variablePath(name);
    if (value === null) parts.push(sql`json_type(c.variables, ${path}) = 'null'`);
    else if (typeof value === "boolean") {
      parts.push(sql`json_type(c.variables, ${path}) = ${value ? "true" : "false"}`);
    } else if (typeof value === "number") {
      parts.push(
        sql`(json_type(c.variables, ${path}) IN ('integer', 'real') AND json_extract(c.variables, ${path}) = ${value})`,
      );
    } else {
      parts.push(
        sql`(json_type(c.variables, ${path}) = 'text' AND json_extract(c.variables, ${path}) = ${value})`,
      );
    }
  }
  if (filter.excludeCustomerIds && filter.excludeCustomerIds.length > 0) {
    parts.push(sql`c.id NOT IN (SELECT value FROM json_each(${json(filter.excludeCustomerIds)}))`);
  }
  if (filter.withoutWaitingCall) {
    parts.push(sql`NOT EXISTS (SELECT 1 FROM calls k
      WHERE k.customer_id = c.id AND k.status IN ('queued', 'delayed', 'dispatching'))`);
  }
  return sql.join(parts, sql` AND `);
}
