// Waiting calls driven by their own messages rather than their outbox batch: a retry scheduled by an
// outcome event, calls a pause held, calls whose delayed message was lost (found by the cron). A
// message names up to 100 calls of one import and arrives when the earliest of them is due; its
// consumer places what is due and sends itself again for the rest.

import { DUE_CALLS_PER_MESSAGE, type DueCallsMessage } from "../model/outbox";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { QueueProducer } from "../ports/queue";
import type { TenancyRepository } from "../ports/tenancy-repository";
import { loadCallContext } from "./call-context";
import type { MessageVerdict } from "./dispatch-call-batch";
import { type PlaceCallsDeps, settleCalls } from "./place-calls";

/** Queues refuses a delivery delay above 12 hours; a longer wait is delayed again on arrival. */
export const MAX_DELAY_SECONDS = 12 * 60 * 60;
/** Messages per sendBatch: the platform takes up to 100 messages and 256 KB per call. */
const SEND_BATCH_MAX_MESSAGES = 50;
/** When calls lost a claim to a concurrent consumer: look again shortly. */
const CONTENDED_RETRY_MS = 30_000;

/** The delivery delay for a moment, in whole seconds within the queue's limits. */
export function delaySecondsUntil(at: number, now: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
}

/**
 * Sends messages naming these calls of one import, arriving at `at` (unix ms; at once when it has
 * passed), 100 calls per message.
 */
export async function sendDueCalls(
  queue: QueueProducer<DueCallsMessage>,
  importId: string,
  callIds: readonly string[],
  at: number,
  now: number,
): Promise<void> {
  const delaySeconds = delaySecondsUntil(at, now);
  const messages: { body: DueCallsMessage; delaySeconds?: number }[] = [];
  for (let i = 0; i < callIds.length; i += DUE_CALLS_PER_MESSAGE) {
    messages.push({
      body: { kind: "due", importId, callIds: callIds.slice(i, i + DUE_CALLS_PER_MESSAGE) },
      ...(delaySeconds > 0 ? { delaySeconds } : {}),
    });
  }
  for (let i = 0; i < messages.length; i += SEND_BATCH_MAX_MESSAGES) {
    await queue.sendBatch(messages.slice(i, i + SEND_BATCH_MAX_MESSAGES));
  }
}

export interface DispatchDueCallsDeps extends PlaceCallsDeps {
  campaigns: CampaignsRepository;
  tenancy: TenancyRepository;
  imports: ImportsRepository;
  calls: CallsRepository;
  callsQueue: QueueProducer<DueCallsMessage>;
}

/** What the CALLS consumer does with a waiting-calls message. */
export async function dispatchDueCalls(
  deps: DispatchDueCallsDeps,
  message: DueCallsMessage,
): Promise<MessageVerdict> {
  const imp = await deps.imports.findById(message.importId);
  if (!imp) {
    deps.log("due_calls_unknown_import", { importId: message.importId });
    return { kind: "ack", note: "unknown_batch" };
  }
  const context = await loadCallContext(deps, imp);
  if (!context) return { kind: "retry", reason: `the campaign of import ${imp.id} is missing` };
  const rows = (await deps.calls.findByIds(message.callIds)).filter((r) => r.importId === imp.id);
  const result = await settleCalls(deps, context, rows);
  deps.log("due_calls_processed", {
    importId: imp.id,
    calls: rows.length,
    dispatched: result.dispatched,
    skipped: result.skipped,
    failed: result.failed,
    delayed: result.delayed,
    paused: result.paused,
    cancelled: result.cancelled,
    ...(result.delayedUntil ? { delayedUntil: new Date(result.delayedUntil).toISOString() } : {}),
    ...(result.retry ? { retry: result.retry.reason } : {}),
  });
  if (result.retry) {
    return { kind: "retry", reason: result.retry.reason, minDelaySeconds: result.retry.retryAfterSeconds };
  }
  if (context.importState !== "active" || context.campaignState !== "active" || result.pausedMeanwhile) {
    // Cancelled calls are done; paused ones are sent again when dialing resumes.
    return { kind: "ack", note: "done" };
  }
  const now = deps.clock.now();
  const after = await deps.calls.findByIds(rows.map((r) => r.id));
  const waiting = after.filter((r) => r.status === "delayed" || r.status === "queued");
  const contended = waiting.some((r) => r.status === "queued");
  const wake = Math.min(
    result.delayedUntil ?? Number.POSITIVE_INFINITY,
    contended ? now + CONTENDED_RETRY_MS : Number.POSITIVE_INFINITY,
  );
  if (waiting.length > 0 && Number.isFinite(wake)) {
    await sendDueCalls(
      deps.callsQueue,
      imp.id,
      waiting.map((r) => r.id),
      wake,
      now,
    );
    return { kind: "ack", note: "delayed" };
  }
  return { kind: "ack", note: "done" };
}

/** A delayed call this long past its moment has lost its message (a delayed message arrives on time). */
const OVERDUE_AFTER_MS = 15 * 60 * 1000;
/** Calls per cron run; a backlog drains over the next runs. */
const OVERDUE_LIMIT = 1000;

/**
 * The cron side of "never dropped": delayed calls whose moment passed more than OVERDUE_AFTER_MS ago
 * (their message was never sent, or was lost) are sent to the queue again, except paused ones and
 * those of paused or cancelled imports and campaigns. Returns how many were sent.
 */
export async function redriveOverdueCalls(deps: {
  calls: CallsRepository;
  callsQueue: QueueProducer<DueCallsMessage>;
  clock: { now(): number };
  log: (event: string, fields: Record<string, unknown>) => void;
}): Promise<number> {
  const now = deps.clock.now();
  const overdue = await deps.calls.listOverdue(now - OVERDUE_AFTER_MS, OVERDUE_LIMIT);
  const byImport = new Map<string, string[]>();
  for (const c of overdue) byImport.set(c.importId, [...(byImport.get(c.importId) ?? []), c.id]);
  for (const [importId, ids] of byImport) await sendDueCalls(deps.callsQueue, importId, ids, now, now);
  if (overdue.length > 0)
    deps.log("overdue_calls_redriven", { calls: overdue.length, imports: byImport.size });
  return overdue.length;
}
