// Erasing customers (India's DPDP Act 2023 gives borrowers the right to it): the statements of one
// atomic batch that remove their personal data from every table that keeps some, and keep what the
// counts need. Which tables hold what:
// - customers: every record field (names, number, amounts, dates, statuses, language, variables)
//   and the key. The row stays, blank, so imports and calls still point at something and add up; its
//   key becomes a tombstone no record key can equal (keys never start with a space), so the same
//   loan sent again later is a new customer, and a refresh can never write into the erased row.
// - calls: the number dialled, the loan_id the contact limits count against, and the dialer's
//   reason text when it quotes the customer.
// - call_attempts: the number and loan_id of every dial attempt (what the contact limits count), and
//   the dialer's reason text when it quotes the customer. The attempts stay, for the counts; the
//   number's history goes with the number, so only a suppression keeps it from being dialled again.
// - call_decisions: a logged reason quoting the customer (the dialer's, copied from the call).
// - call_events: the event as the dialer sent it (any keys), and its reason text.
// - webhook_deliveries: loan_id, lead_id, phone_number and payment_status in the payloads that name
//   the customer (sent ones are with the receiver already; pending ones go out without them), the
//   payload's reason (the dialer's or the run's) and a receiver's answer kept in last_error when they
//   quote the customer.
// - workflow_runs: a failure reason quoting the customer.
// - import_responses: stored Idempotency-Key answers that mention the customer (the caller decides
//   which, by reading them); they are dropped whole (a replay then answers 409 and points at
//   GET /api/v1/imports/{id}).
// Kept on purpose: the suppression list entry (with ?suppress=true: the number must never be
// dialled again, which needs the number), ids, statuses, dispositions, times and counts.
import { type SQL, sql } from "drizzle-orm";
import type { EraseInput } from "../domain/ports/customers-repository";
import { stopWaitingCallsStatement } from "./calls-repository";
import type { Db } from "./client";

/** The tombstone prefix of an erased customer's dedupe_key; a stored key never starts with a space. */
const ERASED_KEY_PREFIX = " erased:";

/**
 * What a free-text column becomes when it quotes an erased customer. The decision-log trigger of
 * migration 0008 (call_decision_log) knows this text: a call whose reason only becomes it logs no
 * new judgement.
 */
const REDACTED = "[removed: customer data erased]";

/**
 * True when `column` quotes the (not yet erased) customer `customerId`: its key, loan or lead id,
 * the last 8 digits of its number (a number is often written without its country code), or a name.
 */
function mentions(column: SQL, customerId: SQL): SQL {
  const has = (value: SQL) =>
    sql`(${value} IS NOT NULL AND ${value} != '' AND instr(${column}, ${value}) > 0)`;
  return sql`(${column} IS NOT NULL AND EXISTS (SELECT 1 FROM customers m
    WHERE m.id = ${customerId} AND m.erased_at IS NULL AND (${sql.join(
      [
        has(sql`m.dedupe_key`),
        has(sql`m.loan_id`),
        has(sql`m.lead_id`),
        has(sql`substr(m.phone_number, -8)`),
        has(sql`m.first_name`),
        has(sql`m.last_name`),
      ],
      sql` OR `,
    )})))`;
}

const redactIfMentions = (column: string, customerId: SQL) =>
  sql`CASE WHEN ${mentions(sql.raw(column), customerId)} THEN ${REDACTED} ELSE ${sql.raw(column)} END`;

export function eraseStatements(db: Db, input: EraseInput) {
  const ids = JSON.stringify(input.customerIds);
  const idList = sql`(SELECT value FROM json_each(${ids}))`;
  const { at } = input;
  const statements = [];
  if (input.suppress) {
    statements.push(
      db.run(sql`INSERT INTO suppressions (organization_id, phone_number, reason, created_at)
        SELECT ${input.organizationId}, phone_number, ${input.suppress.reason}, ${at} FROM customers
        WHERE id IN ${idList} AND campaign_pk = ${input.campaignPk} AND erased_at IS NULL AND phone_number != ''
        ON CONFLICT (organization_id, phone_number) DO NOTHING`),
    );
  }
  statements.push(
    stopWaitingCallsStatement(
      db,
      sql`SELECT value FROM json_each(${ids})`,
      { status: "cancelled", reason: "erased" },
      at,
      input.leaseExpiredBefore,
    ),
    // Before the calls: the attempts' and the log's reasons are read against the customer's values.
    db.run(sql`UPDATE call_attempts SET phone_number = '', loan_id = NULL,
        reason = ${redactIfMentions("reason", sql`(SELECT k.customer_id FROM calls k WHERE k.pk = call_attempts.call_pk)`)}
      WHERE call_pk IN (SELECT pk FROM calls WHERE customer_id IN ${idList})`),
    db.run(sql`UPDATE call_decisions SET
        reason = ${redactIfMentions("reason", sql`(SELECT k.customer_id FROM calls k WHERE k.pk = call_decisions.call_pk)`)}
      WHERE call_pk IN (SELECT pk FROM calls WHERE customer_id IN ${idList}) AND reason IS NOT NULL`),
    db.run(sql`UPDATE calls SET phone_number = '', loan_id = NULL,
        reason = ${redactIfMentions("reason", sql`calls.customer_id`)}, updated_at = ${at}
      WHERE customer_id IN ${idList}`),
    db.run(sql`UPDATE call_events SET
        payload = json_object('id', event_id, 'callId', call_id, 'status', status, 'erased', json('true')),
        reason = ${redactIfMentions("reason", sql`(SELECT k.customer_id FROM calls k WHERE k.id = call_events.call_id)`)}
      WHERE call_id IN (SELECT id FROM calls WHERE customer_id IN ${idList})`),
    db.run(sql`UPDATE webhook_deliveries SET
        payload = json_replace(payload, '$.data.loan_id', NULL, '$.data.lead_id', NULL,
          '$.data.phone_number', NULL, '$.data.payment_status', NULL,
          '$.data.reason', ${redactIfMentions("json_extract(webhook_deliveries.payload, '$.data.reason')", sql`json_extract(webhook_deliveries.payload, '$.data.customerId')`)}),
        last_error = ${redactIfMentions("last_error", sql`json_extract(webhook_deliveries.payload, '$.data.customerId')`)}
      WHERE webhook_pk IN (SELECT pk FROM webhooks WHERE organization_id = ${input.organizationId})
        AND json_extract(payload, '$.data.customerId') IN ${idList}`),
    db.run(sql`UPDATE workflow_runs SET last_error = ${REDACTED}
      WHERE import_id IN (SELECT id FROM imports WHERE campaign_pk = ${input.campaignPk})
        AND customer_id IN ${idList} AND ${mentions(sql.raw("last_error"), sql`workflow_runs.customer_id`)}`),
  );
  if (input.dropAnswersOf.length > 0) {
    statements.push(
      db.run(sql`DELETE FROM import_responses
        WHERE import_id IN (SELECT value FROM json_each(${JSON.stringify(input.dropAnswersOf)}))`),
    );
  }
  // Last: the statements above read the customers' values to recognise them.
  statements.push(
    db.all<{ id: number }>(sql`UPDATE customers SET dedupe_key = ${ERASED_KEY_PREFIX} || id,
        loan_id = NULL, lead_id = NULL, first_name = '', last_name = NULL, phone_number = '',
        loan_amount = NULL, emi_amount = NULL, loan_period = NULL, current_emi = NULL, emi_due_date = NULL,
        payment_status = NULL, language = NULL, lead_date = NULL, variables = NULL,
        erased_at = ${at}, updated_at = ${at}
      WHERE id IN ${idList} AND campaign_pk = ${input.campaignPk} AND erased_at IS NULL
      RETURNING id`),
  );
  return statements;
}
