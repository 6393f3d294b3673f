import { sql } from "drizzle-orm";
import type { CallEventsRepository, RecordedEvents } from "../domain/ports/call-events-repository";
import type { Db } from "./client";

export function createCallEventsRepository(db: Db): CallEventsRepository {
  return {
    // One atomic batch. The INSERT stores what is new, each event under the organization of its
    // call (events naming no known call are left out); the two UPDATEs apply only the transitions of
    // events that carry this request's receipt, so a redelivered event id can never apply anything.
    // The attempt keeps the first outcome (outcome_event_id), and the call follows only that one.
    // Raw SQL for INSERT ... SELECT FROM json_each and UPDATE ... FROM, which the query builder
    // cannot express.
    async recordEvents(events, transitions, receipt, at) {
      if (events.length === 0) return { stored: [], applied: [] };
      const rows = JSON.stringify(
        events.map((e) => [
          e.eventId,
          e.callId,
          e.attempt,
          e.status,
          e.reason,
          e.disposition,
          e.providerCallId,
          e.occurredAt,
          e.payload,
        ]),
      );
      const moves = JSON.stringify(
        transitions.map((t) => [
          t.eventId,
          t.organizationId,
          t.callPk,
          t.attempt,
          t.outcome,
          t.outcomeReason,
          t.disposition,
          t.providerCallId,
          t.endedAt,
          t.status,
          t.reason,
          t.notBefore,
        ]),
      );
      const moved = sql`(SELECT value->>0 AS event_id, value->>1 AS org, value->>2 AS call_pk,
          value->>3 AS attempt, value->>4 AS outcome, value->>5 AS outcome_reason, value->>6 AS disposition,
          value->>7 AS provider_call_id, value->>8 AS ended_at, value->>9 AS status, value->>10 AS reason,
          value->>11 AS not_before
        FROM json_each(${moves})
        WHERE EXISTS (SELECT 1 FROM call_events e WHERE e.organization_id = value->>1
          AND e.event_id = value->>0 AND e.receipt = ${receipt}))`;
      const [stored, , applied] = await db.batch([
        db.all<{ organizationId: string; eventId: string }>(sql`INSERT INTO call_events (organization_id,
            event_id, call_id, attempt, receipt, status, reason, disposition, provider_call_id, occurred_at,
            received_at, payload)
          SELECT c.organization_id, j.value->>0, j.value->>1, j.value->>2, ${receipt}, j.value->>3, j.value->>4,
            j.value->>5, j.value->>6, j.value->>7, ${at}, j.value->>8
          FROM json_each(${rows}) AS j JOIN calls c ON c.id = j.value->>1
          WHERE true
          ON CONFLICT (organization_id, event_id) DO NOTHING
          RETURNING organization_id AS organizationId, event_id AS eventId`),
        db.run(sql`UPDATE call_attempts SET ended_at = t.ended_at, outcome = t.outcome,
            reason = t.outcome_reason, disposition = t.disposition, outcome_event_id = t.event_id
          FROM ${moved} AS t
          WHERE call_attempts.call_pk = t.call_pk AND call_attempts.attempt = t.attempt
            AND call_attempts.outcome IS NULL`),
        db.all<{ id: string; importId: string; status: string; notBefore: number | null }>(sql`UPDATE calls
          SET status = t.status, reason = t.reason, not_before = t.not_before,
            disposition = coalesce(t.disposition, calls.disposition),
            provider_call_id = coalesce(t.provider_call_id, calls.provider_call_id),
            finished_at = CASE WHEN t.status IN ('completed', 'failed') THEN t.ended_at END,
            claim_token = NULL, updated_at = ${at}
          FROM ${moved} AS t
          WHERE calls.pk = t.call_pk AND calls.attempts = t.attempt
            AND calls.status IN ('queued', 'delayed', 'dispatching', 'dispatched')
            AND EXISTS (SELECT 1 FROM call_attempts a WHERE a.call_pk = t.call_pk AND a.attempt = t.attempt
              AND a.outcome_event_id = t.event_id)
          RETURNING calls.id AS id, calls.import_id AS importId, calls.status AS status,
            calls.not_before AS notBefore`),
      ]);
      return {
        stored: stored as RecordedEvents["stored"],
        applied: applied as RecordedEvents["applied"],
      };
    },
  };
}
