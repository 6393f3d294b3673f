// The cron side of "no lost hand-off". The bulk endpoint writes its outbox rows before it sends the
// queue messages; a send that failed, or a Worker that died in between, leaves `pending` rows, and
// this sends them again. Rows `sent`/`processing` for much longer than any retry or delay explains
// are sent again too: the consumers are idempotent, so a duplicate message costs nothing, while a
// lost one would leave customers uncalled.

import { describeError } from "../errors";
import type { DispatchMessage, OutboxBatch } from "../model/outbox";
import type { Clock } from "../ports/clock";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { QueueProducer } from "../ports/queue";

/** A pending row this old is no longer being sent by its request. */
const PENDING_REDRIVE_AFTER_MS = 2 * 60 * 1000;
/** Longer than the longest retry backoff (1 h), so a batch between retries is not re-sent. */
const STUCK_REDRIVE_AFTER_MS = 2 * 60 * 60 * 1000;
/** Rows per cron run; a backlog drains over the next runs. */
const REDRIVE_LIMIT = 1000;
const SEND_BATCH_MAX_MESSAGES = 100;

export interface RedriveDeps {
  outbox: OutboxRepository;
  callsQueue: QueueProducer<DispatchMessage>;
  workflowsQueue: QueueProducer<DispatchMessage>;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface RedriveResult {
  found: number;
  sent: number;
  failed: number;
}

export async function redriveOutbox(deps: RedriveDeps): Promise<RedriveResult> {
  const now = deps.clock.now();
  const rows = await deps.outbox.listStale({
    pendingBefore: now - PENDING_REDRIVE_AFTER_MS,
    stuckBefore: now - STUCK_REDRIVE_AFTER_MS,
    limit: REDRIVE_LIMIT,
  });
  const result: RedriveResult = { found: rows.length, sent: 0, failed: 0 };
  for (const kind of ["call", "workflow"] as const) {
    const queue = kind === "call" ? deps.callsQueue : deps.workflowsQueue;
    const ofKind = rows.filter((r) => r.kind === kind);
    for (let i = 0; i < ofKind.length; i += SEND_BATCH_MAX_MESSAGES) {
      const group = ofKind.slice(i, i + SEND_BATCH_MAX_MESSAGES);
      await sendGroup(deps, queue, group, result);
    }
  }
  if (rows.length > 0) deps.log("outbox_redriven", { ...result });
  return result;
}

async function sendGroup(
  deps: RedriveDeps,
  queue: QueueProducer<DispatchMessage>,
  group: OutboxBatch[],
  result: RedriveResult,
) {
  const batchIds = group.map((r) => r.id);
  try {
    await queue.sendBatch(
      group.map((r) => ({ body: { kind: r.kind, importId: r.importId, batchNo: r.batchNo } })),
    );
  } catch (err) {
    const error = describeError(err);
    await deps.outbox.recordRedrive(batchIds, { sent: false, error }, deps.clock.now());
    deps.log("outbox_redrive_failed", { batches: group.length, error });
    result.failed += group.length;
    return;
  }
  await deps.outbox.recordRedrive(batchIds, { sent: true }, deps.clock.now());
  for (const r of group) {
    deps.log("outbox_batch_redriven", {
      importId: r.importId,
      kind: r.kind,
      batchNo: r.batchNo,
      was: r.state,
    });
  }
  result.sent += group.length;
}
