// Outcomes reported by the dialer (POST /api/v1/calls/events, authenticated by its signature).
// Each event is stored once under its id; the first terminal event of a call sets its status.
import type { CallEventsRepository } from "../ports/call-events-repository";
import type { CallsRepository } from "../ports/calls-repository";
import type { Clock } from "../ports/clock";

export interface CallEventInput {
  id: string;
  callId: string;
  status: "completed" | "failed";
  disposition?: string;
  reason?: string;
  providerCallId?: string;
  /** Unix ms; the receive time when the dialer did not say. */
  occurredAt?: number;
  /** The event as received, kept for audits. */
  raw: unknown;
}

export interface RecordEventsResult {
  received: number;
  recorded: number;
  duplicates: number;
  unknownCalls: string[];
}

export async function recordCallEvents(
  deps: { calls: CallsRepository; callEvents: CallEventsRepository; clock: Clock },
  events: readonly CallEventInput[],
): Promise<RecordEventsResult> {
  const now = deps.clock.now();
  // One request may repeat an event id; the first copy is the one that counts.
  const seen = new Set<string>();
  const unique: CallEventInput[] = [];
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    unique.push(e);
  }
  const recorded = await deps.callEvents.recordEvents(
    unique.map((e) => ({
      eventId: e.id,
      callId: e.callId,
      status: e.status,
      reason: e.reason ?? null,
      disposition: e.disposition ?? null,
      providerCallId: e.providerCallId ?? null,
      occurredAt: e.occurredAt ?? now,
      payload: JSON.stringify(e.raw),
    })),
    now,
  );
  const stored = new Set(recorded);
  const notStored = unique.filter((e) => !stored.has(e.id));
  const known = new Set(
    (await deps.calls.findByIds([...new Set(notStored.map((e) => e.callId))])).map((c) => c.id),
  );
  const unknown = events.filter((e) => !stored.has(e.id) && !known.has(e.callId));
  return {
    received: events.length,
    recorded: recorded.length,
    duplicates: events.length - recorded.length - unknown.length,
    unknownCalls: [...new Set(unknown.map((e) => e.callId))],
  };
}
