import type { CallOutcome } from "../model/call";

export interface CallEventToRecord {
  eventId: string;
  callId: string;
  status: CallOutcome;
  reason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  /** Unix ms. */
  occurredAt: number;
  /** The event as the dialer sent it (JSON), for audits. */
  payload: string;
}

export interface CallEventsRepository {
  /**
   * Stores the events not stored before (by event id; events for unknown calls are dropped) and
   * applies them, atomically: each call they name moves from dispatching/dispatched to the status of
   * its earliest event. Returns the ids of the events stored by this call.
   */
  recordEvents(events: readonly CallEventToRecord[], at: number): Promise<string[]>;
}
