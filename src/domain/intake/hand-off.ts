// Producer side of the call / workflow hand-off. The outbox rows were written in the same atomic
// batches as the customers they list (see insertChunk), so here only the messages are sent: a send
// that fails, or a Worker that dies first, leaves `pending` rows that the cron re-drives. The caller
// is told exactly what was handed over and what was not.

import { describeError } from "../errors";
import type { DispatchKind, DispatchMessage, OutboxBatch } from "../model/outbox";
import type { Clock } from "../ports/clock";
import type { OutboxRepository } from "../ports/outbox-repository";
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

/**
 * Sends one message per `pending` outbox row of the import and reports every batch of the import:
 * the ones sent now and, for a resumed import, the ones an earlier attempt already sent.
 */
export async function sendPendingBatches(
  deps: HandOffDeps,
  queue: QueueProducer<DispatchMessage>,
  importId: string,
  kind: DispatchKind,
): Promise<HandOffResult> {
  const rows = (await deps.outbox.listForImport(importId)).filter((r) => r.kind === kind);
  const pending = rows.filter((r) => r.state === "pending");
  const sent: number[] = [];
  // One entry per sendBatch call that threw: its batches and the error, recorded together.
  const failures: { batchNos: number[]; error: string }[] = [];
  for (let i = 0; i < pending.length; i += SEND_BATCH_MAX_MESSAGES) {
    const group = pending.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await queue.sendBatch(group.map((b) => ({ body: { kind, importId, batchNo: b.batchNo } })));
      for (const b of group) sent.push(b.batchNo);
    } catch (err) {
      const error = describeError(err);
      deps.log("handoff_send_failed", { importId, kind, batches: group.length, error });
      failures.push({ batchNos: group.map((b) => b.batchNo), error });
    }
  }

  const at = deps.clock.now();
  await Promise.all([
    sent.length > 0 ? deps.outbox.recordSendOutcome(importId, kind, sent, { sent: true }, at) : undefined,
    ...failures.map((f) =>
      deps.outbox.recordSendOutcome(importId, kind, f.batchNos, { sent: false, error: f.error }, at),
    ),
  ]);
  const notSent = new Set(failures.flatMap((f) => f.batchNos));
  return summarize(rows, notSent);
}

function summarize(rows: OutboxBatch[], notSent: ReadonlySet<number>): HandOffResult {
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
