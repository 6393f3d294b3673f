import { sql } from "drizzle-orm";
import type { CallEventsRepository } from "../domain/ports/call-events-repository";
import type { Db } from "./client";
import { inList } from "./sql";

export function createCallEventsRepository(db: Db): CallEventsRepository {
  return {
    // One atomic batch: the INSERT stores what is new (ON CONFLICT on the event id; events naming no
    // known call are left out), and the UPDATE reads the stored events rather than the request, so a
    // redelivered event id can never apply different data. Raw SQL for INSERT ... SELECT FROM
    // json_each and UPDATE ... FROM, which the query builder cannot express.
    async recordEvents(events, at) {
      if (events.length === 0) return [];
      const rows = JSON.stringify(
        events.map((e) => [
          e.eventId,
          e.callId,
          e.status,
          e.reason,
          e.disposition,
          e.providerCallId,
          e.occurredAt,
          e.payload,
        ]),
      );
      const [inserted] = await db.batch([
        db.all<{ event_id: string }>(sql`INSERT INTO call_events (event_id, call_id, status, reason,
            disposition, provider_call_id, occurred_at, received_at, payload)
          SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, ${at}, value->>7
          FROM json_each(${rows})
          WHERE EXISTS (SELECT 1 FROM calls WHERE calls.id = value->>1)
          ON CONFLICT (event_id) DO NOTHING
          RETURNING event_id`),
        db.run(sql`UPDATE calls SET status = e.status,
            reason = CASE WHEN e.status = 'failed' THEN coalesce(e.reason, 'dialer_reported_failure') END,
            disposition = coalesce(e.disposition, calls.disposition),
            provider_call_id = coalesce(e.provider_call_id, calls.provider_call_id),
            finished_at = e.occurred_at, claim_token = NULL, updated_at = ${at}
          FROM (SELECT call_id, status, reason, disposition, provider_call_id, min(occurred_at) AS occurred_at
                FROM call_events WHERE ${inList(
                  sql.raw("event_id"),
                  events.map((e) => e.eventId),
                )}
                GROUP BY call_id) AS e
          WHERE calls.id = e.call_id AND calls.status IN ('dispatching', 'dispatched')`),
      ]);
      return (inserted as { event_id: string }[]).map((r) => r.event_id);
    },
  };
}
