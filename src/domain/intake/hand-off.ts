// Producer side of the call / workflow hand-off. The outbox rows are written before anything is
// sent, so a send that fails (or a Worker that dies between the two) leaves `pending` rows that the
// cron re-drive picks up; the caller is told exactly what was handed over and what was not.
import type { DispatchKind, OutboxRepository } from "../../db/outbox-repository";
import type { DispatchMessage } from "../../queues/messages";
import { describeError } from "../errors";
import type { Clock, QueueProducer } from "../ports";

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

export function splitIntoBatches(
  customerIds: readonly number[],
): { batchNo: number; customerIds: number[] }[] {
  const batches = [];
  for (let i = 0; i < customerIds.length; i += DISPATCH_BATCH_SIZE) {
    batches.push({ batchNo: batches.length, customerIds: customerIds.slice(i, i + DISPATCH_BATCH_SIZE) });
  }
  return batches;
}

export async function handOff(
  deps: HandOffDeps,
  queue: QueueProducer<DispatchMessage>,
  importId: string,
  kind: DispatchKind,
  customerIds: readonly number[],
): Promise<HandOffResult> {
  const result: HandOffResult = {
    requested: customerIds.length,
    queued: 0,
    batches: 0,
    failed: 0,
    errors: [],
  };
  const batches = splitIntoBatches(customerIds);
  if (batches.length === 0) return result;
  await deps.outbox.insertPending(importId, kind, batches, deps.clock.now());

  const sent: number[] = [];
  const failures: { batchNos: number[]; error: string }[] = [];
  for (let i = 0; i < batches.length; i += SEND_BATCH_MAX_MESSAGES) {
    const group = batches.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await queue.sendBatch(group.map((b) => ({ body: { kind, importId, batchNo: b.batchNo } })));
      for (const b of group) {
        sent.push(b.batchNo);
        result.queued += b.customerIds.length;
        result.batches++;
      }
    } catch (err) {
      const message = describeError(err);
      deps.log("handoff_send_failed", { importId, kind, batches: group.length, error: message });
      failures.push({ batchNos: group.map((b) => b.batchNo), error: message });
      for (const b of group) {
        result.failed += b.customerIds.length;
        result.errors.push({
          batch: b.batchNo,
          customers: b.customerIds.length,
          message: "Could not be handed to the queue yet; it stays pending and is retried automatically.",
        });
      }
    }
  }

  const at = deps.clock.now();
  await Promise.all([
    sent.length > 0 ? deps.outbox.recordSendOutcome(importId, kind, sent, { sent: true }, at) : undefined,
    ...failures.map((f) =>
      deps.outbox.recordSendOutcome(importId, kind, f.batchNos, { sent: false, error: f.error }, at),
    ),
  ]);
  return result;
}
