// Pause, resume and cancel statements that span calls, runs, outbox batches and imports. Raw SQL for
// the INSERT ... SELECT FROM json_each over the outbox batches' customer lists.
import { sql } from "drizzle-orm";
import { CANCELLED_BY_REQUEST } from "../domain/model/call";
import type { DialingControlRepository } from "../domain/ports/dialing-control-repository";
import { stopWaitingCallsWhere } from "./calls-repository";
import type { Db } from "./client";
import { calls as callsTable } from "./schema";
import { inList } from "./sql";

/** The run of a customer of an import is named `<importId>-c<customerId>`, as workflowInstanceId does. */
const INSTANCE_ID_SQL = sql.raw(`b.import_id || '-c' || j.value`);

export function createDialingControlRepository(db: Db): DialingControlRepository {
  return {
    async unfinishedImportsOfCampaign(campaignPk) {
      const rows = await db.all<{ id: string }>(sql`SELECT i.id AS id FROM imports i
        WHERE i.campaign_pk = ${campaignPk} AND i.dialing_state <> 'cancelled' AND (
          EXISTS (SELECT 1 FROM calls c WHERE c.campaign_pk = ${campaignPk} AND c.import_id = i.id
            AND c.status IN ('queued', 'delayed', 'dispatching', 'dispatched'))
          OR EXISTS (SELECT 1 FROM outbox_batches b WHERE b.import_id = i.id
            AND b.state IN ('pending', 'sent', 'processing'))
          OR EXISTS (SELECT 1 FROM workflow_runs r WHERE r.import_id = i.id
            AND r.status IN ('queued', 'started', 'running')))
        ORDER BY i.created_at`);
      return rows.map((r) => r.id);
    },

    async cancelImports(importIds, { at, leaseExpiredBefore, callOrigin }) {
      if (importIds.length === 0) return { importIds: [], calls: 0, runs: 0 };
      const ids = JSON.stringify(importIds);
      const inImports = (column: string) => sql`${sql.raw(column)} IN (SELECT value FROM json_each(${ids}))`;
      const unfinishedBatches = (kind: "call" | "workflow") =>
        sql`${inImports("b.import_id")} AND b.kind = ${kind} AND b.state IN ('pending', 'sent', 'processing')`;
      const [cancelled, , calls, , runs] = await db.batch([
        db.all<{ id: string }>(sql`UPDATE imports SET dialing_state = 'cancelled', cancelled_at = ${at}
          WHERE ${inImports("id")} AND dialing_state <> 'cancelled' RETURNING id`),
        // Customers whose batch the consumer has not reached get their call rows, so they are
        // counted as cancelled instead of waiting for ever.
        db.run(sql`INSERT INTO calls (id, organization_id, campaign_pk, import_id, batch_no, origin,
            customer_id, phone_number, loan_id, agent_id, disposition_id, status, attempts, created_at, updated_at)
          SELECT 'call_' || lower(hex(randomblob(12))), i.organization_id, i.campaign_pk, b.import_id,
            b.batch_no, ${callOrigin}, cu.id, cu.phone_number, cu.loan_id, i.agent_id, i.disposition_id,
            'queued', 0, ${at}, ${at}
          FROM outbox_batches b JOIN json_each(b.customer_ids) j JOIN customers cu ON cu.id = j.value
            JOIN imports i ON i.id = b.import_id
          WHERE ${unfinishedBatches("call")}
          ON CONFLICT (import_id, customer_id, origin) DO NOTHING`),
        stopWaitingCallsWhere(
          db,
          inList(callsTable.importId, importIds),
          CANCELLED_BY_REQUEST,
          at,
          leaseExpiredBefore,
        ),
        db.run(sql`INSERT INTO workflow_runs (instance_id, import_id, batch_no, customer_id, status,
            created_at, updated_at)
          SELECT ${INSTANCE_ID_SQL}, b.import_id, b.batch_no, j.value, 'queued', ${at}, ${at}
          FROM outbox_batches b JOIN json_each(b.customer_ids) j
          WHERE ${unfinishedBatches("workflow")}
          ON CONFLICT (instance_id) DO NOTHING`),
        db.all<{ id: string }>(sql`UPDATE workflow_runs SET status = 'completed', outcome = 'cancelled',
            updated_at = ${at}
          WHERE ${inImports("import_id")} AND status IN ('queued', 'started', 'running')
          RETURNING instance_id AS id`),
        db.run(sql`UPDATE outbox_batches SET state = 'done', last_error = 'cancelled', updated_at = ${at}
          WHERE ${inImports("import_id")} AND state IN ('pending', 'sent', 'processing')`),
      ]);
      return {
        importIds: (cancelled as { id: string }[]).map((r) => r.id),
        calls: (calls as { id: string }[]).length,
        runs: (runs as { id: string }[]).length,
      };
    },
  };
}
