// Producer side of the call / workflow hand-off. The outbox rows were written in the same atomic
// batches as the customers they list (see upsertChunk), so here only the messages are sent: a send
// that fails, or a Worker that dies first, leaves `pending` rows that the cron re-drives. The caller
// is told exactly what was handed over and what was not.

import { describeError } from "../errors";
import type { DispatchKind, DispatchMessage, OutboxBatch, WrittenBatch } from "../model/outbox";
import type { Clock } from "../ports/clock";
import type { OutboxRepository, SendRecord } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";

/** Customers per call / workflow batch, as the public API documents. */
export const DISPATCH_BATCH_SIZE = 500;
/** Messages per `sendBatch` call: the Queues limit. */
const SEND_BATCH_MAX_MESSAGES = 100;

export interface HandOffResult {
  requested: number;
  queued: number;
  batches: number;
  failed: number;
  errors: { batch: number; customers: number; message: string }[];
}

export interface HandOffDeps {
  outbox: OutboxRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/** A hand-off's answer, and the send attempts it made, for the caller to record. */
export interface HandOff {
  result: HandOffResult;
  records: SendRecord[];
}

/**
 * Sends one message per `pending` outbox batch of the import and reports every batch of the
 * import: the ones sent now and, for a resumed import, the ones an earlier attempt already sent.
 * `written` are the batches this attempt's writes created (UpsertedChunk.batches); without them
 * (a resumed import, whose earlier attempt may have written some) the batches are read. The send
 * attempts are returned, not recorded: the import's completion records them in its own write, and a
 * Worker that dies first leaves the rows `pending`, which the cron re-drives (a second message for
 * a batch is harmless: the consumer's claim dials each customer once).
 */
export async function sendBatches(
  deps: HandOffDeps,
  queue: QueueProducer<DispatchMessage>,
  importId: string,
  kind: DispatchKind,
  written?: readonly WrittenBatch[],
): Promise<HandOff> {
  const rows: Pick<OutboxBatch, "batchNo" | "size" | "state">[] = written
    ? written.filter((b) => b.kind === kind).map((b) => ({ ...b, state: "pending" as const }))
    : (await deps.outbox.listForImport(importId)).filter((r) => r.kind === kind);
  const pending = rows.filter((r) => r.state === "pending");
  const sent: number[] = [];
  const records: SendRecord[] = [];
  const notSent = new Set<number>();
  for (let i = 0; i < pending.length; i += SEND_BATCH_MAX_MESSAGES) {
    const group = pending.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await queue.sendBatch(group.map((b) => ({ body: { kind, importId, batchNo: b.batchNo } })));
      for (const b of group) sent.push(b.batchNo);
    } catch (err) {
      const error = describeError(err);
      deps.log("handoff_send_failed", { importId, kind, batches: group.length, error });
      const batchNos = group.map((b) => b.batchNo);
      for (const n of batchNos) notSent.add(n);
      records.push({ kind, batchNos, outcome: { sent: false, error } });
    }
  }
  if (sent.length > 0) records.unshift({ kind, batchNos: sent, outcome: { sent: true } });
  return { result: summarize(rows, notSent), records };
}

/** sendBatches, with the send attempts recorded at once (for work that completes no import). */
export async function sendPendingBatches(
  deps: HandOffDeps,
  queue: QueueProducer<DispatchMessage>,
  importId: string,
  kind: DispatchKind,
): Promise<HandOffResult> {
  const { result, records } = await sendBatches(deps, queue, importId, kind);
  const at = deps.clock.now();
  await Promise.all(
    records.map((r) => deps.outbox.recordSendOutcome(importId, r.kind, r.batchNos, r.outcome, at)),
  );
  return result;
}

/**
 * The HandOffResult of a hand-off that sends every batch of customers stored in chunks of
 * `chunkSizes` customers: each chunk's write numbers its own batches of at most `batchSize`
 * (pendingBatchesStatement), so this is what sendBatches reports when every send succeeds.
 */
export function everyBatchSent(chunkSizes: readonly number[], batchSize: number): HandOffResult {
  const rows: Pick<OutboxBatch, "batchNo" | "size">[] = [];
  for (const size of chunkSizes) {
    for (let left = size; left > 0; left -= batchSize) {
      rows.push({ batchNo: rows.length, size: Math.min(left, batchSize) });
    }
  }
  return summarize(rows, new Set());
}

/**
 * Records send attempts (sendBatches' records) apart from any completion, for an import whose chunk
 * writes completed it before its batches were sent. A failure is logged and left: the batches stay
 * `pending`, and the cron sends them again (the consumer's claim makes a second message harmless).
 */
export async function recordSends(
  deps: HandOffDeps,
  importId: string,
  records: readonly SendRecord[],
): Promise<void> {
  const at = deps.clock.now();
  await Promise.all(
    records.map((r) =>
      deps.outbox.recordSendOutcome(importId, r.kind, r.batchNos, r.outcome, at).catch((err: unknown) => {
        deps.log("handoff_record_failed", { importId, kind: r.kind, error: describeError(err) });
      }),
    ),
  );
}

function summarize(
  rows: readonly Pick<OutboxBatch, "batchNo" | "size">[],
  notSent: ReadonlySet<number>,
): HandOffResult {
  const result: HandOffResult = { requested: 0, queued: 0, batches: 0, failed: 0, errors: [] };
  for (const row of rows) {
    result.requested += row.size;
    if (notSent.has(row.batchNo)) {
      result.failed += row.size;
      result.errors.push({
        batch: row.batchNo,
        customers: row.size,
        message: "Could not be handed to the queue yet; it stays pending and is retried automatically.",
      });
    } else {
      result.queued += row.size;
      result.batches++;
    }
  }
  return result;
}
