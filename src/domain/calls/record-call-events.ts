// Outcomes reported by the dialer (POST /api/v1/calls/events, authenticated by its signature).
// Each event is stored once under its call's organization and its id. The first outcome reported for
// an attempt is the attempt's outcome, and it moves the call whatever non-final state the call is in
// (the dialer had the call even if its answer to the hand-off was lost): answered -> completed;
// unanswered and retries left -> delayed until the next attempt (a message is sent for it); otherwise
// failed for good.

import { newId } from "../ids";
import { type Call, type CallOutcome, FINAL_CALL_STATUSES } from "../model/call";
import type { Campaign } from "../model/campaign";
import type { Organization } from "../model/organization";
import type { DueCallsMessage } from "../model/outbox";
import { classifyOutcome, retryIntervalMs } from "../model/policy";
import type { CallEventsRepository, CallTransition } from "../ports/call-events-repository";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { ImportsRepository } from "../ports/imports-repository";
import type { QueueProducer } from "../ports/queue";
import type { TenancyRepository } from "../ports/tenancy-repository";
import { nextOpening } from "./calling-window";
import { type DialingPolicy, dialingPolicy } from "./dialing-policy";
import { sendDueCalls } from "./due-calls";

export interface CallEventInput {
  id: string;
  callId: string;
  /** The attempt the event reports on; the call's current attempt when the dialer did not say. */
  attempt?: number;
  status: CallOutcome;
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

export interface RecordCallEventsDeps {
  calls: CallsRepository;
  callEvents: CallEventsRepository;
  campaigns: CampaignsRepository;
  tenancy: TenancyRepository;
  imports: ImportsRepository;
  callsQueue: QueueProducer<DueCallsMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

const FINAL: ReadonlySet<string> = new Set(FINAL_CALL_STATUSES);

export async function recordCallEvents(
  deps: RecordCallEventsDeps,
  events: readonly CallEventInput[],
): Promise<RecordEventsResult> {
  const now = deps.clock.now();
  const calls = new Map(
    (await deps.calls.findByIds([...new Set(events.map((e) => e.callId))])).map((c) => [c.id, c]),
  );
  const unknown = events.filter((e) => !calls.has(e.callId));
  // One request may repeat an event id (within one organization); the first copy is the one that counts.
  const seen = new Set<string>();
  const unique: CallEventInput[] = [];
  for (const e of events) {
    const call = calls.get(e.callId);
    if (!call) continue;
    const key = `${call.organizationId}\u0000${e.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(e);
  }

  const transitions = await transitionsFor(deps, unique, calls, now);
  const receipt = newId("rcpt");
  const { stored, applied } = await deps.callEvents.recordEvents(
    unique.map((e) => ({
      eventId: e.id,
      callId: e.callId,
      attempt: e.attempt ?? null,
      status: e.status,
      reason: e.reason ?? null,
      disposition: e.disposition ?? null,
      providerCallId: e.providerCallId ?? null,
      occurredAt: e.occurredAt ?? now,
      payload: JSON.stringify(e.raw),
    })),
    transitions,
    receipt,
    now,
  );

  // Retries: one message per import, arriving when its earliest retry is due; the consumer sends
  // itself again for the later ones. A failed send is picked up by the cron (overdue waiting calls).
  const retries = new Map<string, { ids: string[]; at: number }>();
  for (const a of applied) {
    if (a.status !== "delayed" || a.notBefore === null) continue;
    const entry = retries.get(a.importId) ?? { ids: [], at: a.notBefore };
    entry.ids.push(a.id);
    entry.at = Math.min(entry.at, a.notBefore);
    retries.set(a.importId, entry);
  }
  for (const [importId, { ids, at }] of retries) {
    try {
      await sendDueCalls(deps.callsQueue, importId, ids, at, now);
    } catch (err) {
      deps.log("retry_send_failed", { importId, calls: ids.length, error: String(err) });
    }
  }

  return {
    received: events.length,
    recorded: stored.length,
    duplicates: events.length - stored.length - unknown.length,
    unknownCalls: [...new Set(unknown.map((e) => e.callId))],
  };
}

/**
 * What each event does if it turns out to be new: only events about the attempt a non-final call is
 * on count, and of several in one request about the same attempt, the earliest (the first on a tie).
 */
async function transitionsFor(
  deps: RecordCallEventsDeps,
  events: readonly CallEventInput[],
  calls: Map<string, Call>,
  now: number,
): Promise<CallTransition[]> {
  const firstPerAttempt = new Map<string, { event: CallEventInput; call: Call; endedAt: number }>();
  for (const event of events) {
    const call = calls.get(event.callId) as Call;
    const attempt = event.attempt ?? call.attempts;
    if (attempt < 1 || attempt !== call.attempts || FINAL.has(call.status)) continue;
    // A moment in the future (a dialer clock ahead of ours) is read as now.
    const endedAt = Math.min(event.occurredAt ?? now, now);
    const key = `${call.id}#${attempt}`;
    const first = firstPerAttempt.get(key);
    if (!first || endedAt < first.endedAt) firstPerAttempt.set(key, { event, call, endedAt });
  }
  if (firstPerAttempt.size === 0) return [];

  const policies = await policiesFor(
    deps,
    [...firstPerAttempt.values()].map((f) => f.call),
  );
  const transitions: CallTransition[] = [];
  for (const { event, call, endedAt } of firstPerAttempt.values()) {
    const policy = policies.get(call.importId);
    const base = {
      eventId: event.id,
      organizationId: call.organizationId,
      callPk: call.pk,
      attempt: call.attempts,
      outcome: event.status,
      outcomeReason: event.reason ?? null,
      disposition: event.disposition ?? null,
      providerCallId: event.providerCallId ?? null,
      endedAt,
    };
    if (event.status === "completed") {
      transitions.push({ ...base, status: "completed", reason: null, notBefore: null });
      continue;
    }
    const retryClass = classifyOutcome(event.status, event.reason ?? null);
    const failure = event.reason ?? "dialer_reported_failure";
    if (
      !policy ||
      retryClass === null ||
      !policy.retry.on.includes(retryClass) ||
      call.attempts >= policy.retry.maxAttempts
    ) {
      transitions.push({ ...base, status: "failed", reason: failure, notBefore: null });
      continue;
    }
    // The later of the interval and the next opening of the window; the limits are judged when the
    // retry is placed.
    const notBefore = nextOpening(
      policy.window,
      policy.timezone,
      endedAt + retryIntervalMs(policy.retry, call.attempts),
    );
    transitions.push({ ...base, status: "delayed", reason: `retry_after_${retryClass}`, notBefore });
  }
  return transitions;
}

/**
 * The dialing policy of each import of these calls, or none for an import that is cancelled (its
 * calls are not retried) or whose campaign is gone.
 */
async function policiesFor(
  deps: RecordCallEventsDeps,
  calls: readonly Call[],
): Promise<Map<string, DialingPolicy>> {
  const policies = new Map<string, DialingPolicy>();
  const campaigns = new Map<number, Campaign | undefined>();
  const organizations = new Map<string, Organization | undefined>();
  for (const importId of new Set(calls.map((c) => c.importId))) {
    const imp = await deps.imports.findById(importId);
    if (!imp || imp.dialingState === "cancelled") continue;
    if (!campaigns.has(imp.campaignPk)) {
      campaigns.set(imp.campaignPk, await deps.campaigns.findCampaignByPk(imp.campaignPk));
    }
    if (!organizations.has(imp.organizationId)) {
      organizations.set(imp.organizationId, await deps.tenancy.findOrganization(imp.organizationId));
    }
    const campaign = campaigns.get(imp.campaignPk);
    if (campaign) policies.set(importId, dialingPolicy(campaign, organizations.get(imp.organizationId)));
  }
  return policies;
}
