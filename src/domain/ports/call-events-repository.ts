import type { CallOutcome, CallStatus } from "../model/call";

export interface CallEventToRecord {
  eventId: string;
  callId: string;
  /** The attempt the dialer said the event is about, or null. */
  attempt: number | null;
  status: CallOutcome;
  reason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  /** Unix ms. */
  occurredAt: number;
  /** The event as the dialer sent it (JSON), for audits. */
  payload: string;
}

/** What an event does when it is the first outcome of its call's current attempt. */
export interface CallTransition {
  eventId: string;
  organizationId: string;
  callPk: number;
  attempt: number;
  /** The attempt's outcome, as reported. */
  outcome: CallOutcome;
  outcomeReason: string | null;
  disposition: string | null;
  providerCallId: string | null;
  /** Unix ms: when the attempt ended. */
  endedAt: number;
  /** The call afterwards: completed or failed for good, or delayed for its next attempt. */
  status: Extract<CallStatus, "completed" | "failed" | "delayed">;
  reason: string | null;
  notBefore: number | null;
}

export interface RecordedEvents {
  /** Events stored by this call, by organization and id. */
  stored: { organizationId: string; eventId: string }[];
  /** Calls whose status the transitions changed, as they are now. */
  applied: { id: string; importId: string; status: CallStatus; notBefore: number | null }[];
}

export interface CallEventsRepository {
  /**
   * In one atomic batch: stores the events not stored before (by the organization of the call each
   * names, and its id; events naming no known call are dropped) under `receipt`, then applies the
   * transitions of the events this call stored: each attempt keeps the first outcome reported for
   * it, and a call changes only while it is not final and still on that attempt.
   */
  recordEvents(
    events: readonly CallEventToRecord[],
    transitions: readonly CallTransition[],
    receipt: string,
    at: number,
  ): Promise<RecordedEvents>;
}
