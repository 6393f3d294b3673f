// The outbox: batches of up to 500 customers handed (or to be handed) to a queue, and the queue
// message that points at one. A message carries a reference, never customer records: a message is
// limited to 128 KB and 500 full records do not fit.
import { z } from "zod";

export const DISPATCH_KINDS = ["call", "workflow"] as const;
export type DispatchKind = (typeof DISPATCH_KINDS)[number];

/** pending -> sent -> processing -> done | failed. */
export const OUTBOX_STATES = ["pending", "sent", "processing", "done", "failed"] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** The queue message contract of the CALLS and WORKFLOWS queues. */
export const DispatchMessage = z.object({
  kind: z.enum(DISPATCH_KINDS),
  importId: z.string().min(1),
  batchNo: z.number().int().min(0),
});
export type DispatchMessage = z.infer<typeof DispatchMessage>;

/** Calls per waiting-calls message: their ids stay far below the 128 KB a queue message may carry. */
export const DUE_CALLS_PER_MESSAGE = 100;

/**
 * A CALLS queue message naming waiting calls of one import directly: a retry after its interval, or
 * calls a contact limit, a pause or a lost message left behind their outbox batch.
 */
export const DueCallsMessage = z.object({
  kind: z.literal("due"),
  importId: z.string().min(1),
  callIds: z.array(z.string().min(1).max(64)).min(1).max(DUE_CALLS_PER_MESSAGE),
});
export type DueCallsMessage = z.infer<typeof DueCallsMessage>;

/** What the CALLS queue carries: an outbox batch (of kind `call`), or waiting calls. */
export const CallsQueueMessage = z.union([DispatchMessage, DueCallsMessage]);
export type CallsQueueMessage = z.infer<typeof CallsQueueMessage>;

/** An outbox batch as the write that created it reports it: enough to send its message. */
export interface WrittenBatch {
  kind: DispatchKind;
  batchNo: number;
  size: number;
}

export interface OutboxBatch {
  id: number;
  importId: string;
  kind: DispatchKind;
  batchNo: number;
  customerIds: number[];
  size: number;
  /** The batch's highest customer id: the import's next chunk hands over only customers above it. */
  maxCustomerId: number | null;
  state: OutboxState;
  sendAttempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}
