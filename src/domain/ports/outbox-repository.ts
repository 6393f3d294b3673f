import type { Campaign } from "../model/campaign";
import type { Import } from "../model/imports";
import type { Organization } from "../model/organization";
import type { DispatchKind, OutboxBatch } from "../model/outbox";
import type { CustomerFilter } from "./customers-repository";

/** The outcome of one attempt to send batches' messages to their queue. */
export type SendOutcome = { sent: true } | { sent: false; error: string };

/** One send attempt of some of an import's batches, to be recorded (recordSendOutcome's arguments). */
export interface SendRecord {
  kind: DispatchKind;
  batchNos: readonly number[];
  outcome: SendOutcome;
}

/** A call batch with what its calls are judged with (OutboxRepository.findCallBatch). */
export interface CallBatchContext {
  batch: OutboxBatch;
  /** Missing only in a broken database: the batch points at its import by foreign key. */
  import?: Import;
  /** The import's campaign, a deleted one too (work under way ends cleanly). */
  campaign?: Campaign;
  organization?: Organization;
}

/**
 * The outbox: pending -> sent -> processing -> done | failed. Rows are created by
 * CustomersRepository.upsertChunk, in the same atomic write as their customers. Every state change
 * is guarded by the states it may leave, so a late or duplicate message never reopens a finished batch.
 */
export interface OutboxRepository {
  /** Records one send attempt for these batches of the import (still `pending` ones only). */
  recordSendOutcome(
    importId: string,
    kind: DispatchKind,
    batchNos: readonly number[],
    outcome: SendOutcome,
    at: number,
  ): Promise<void>;
  /** Every batch of the import, by kind then number. */
  listForImport(importId: string): Promise<OutboxBatch[]>;
  find(importId: string, kind: DispatchKind, batchNo: number): Promise<OutboxBatch | undefined>;
  /**
   * The import's call batch `batchNo` with its import, campaign and organization, in one statement:
   * the reads the CALLS consumer makes once per message of 500 calls. Undefined when there is no
   * such batch.
   */
  findCallBatch(importId: string, batchNo: number): Promise<CallBatchContext | undefined>;
  markProcessing(id: number, at: number): Promise<void>;
  markDone(id: number, at: number): Promise<void>;
  /** A new message for the batch is on the queue (e.g. delayed to the calling window). */
  markRequeued(id: number, at: number): Promise<void>;
  /** Why the last attempt failed; the dead-letter consumer reports it if the retries run out. */
  recordError(id: number, error: string, at: number): Promise<void>;
  markFailed(id: number, reason: string, at: number): Promise<void>;
  /**
   * Batches whose hand-off may have been lost: `pending` since before `pendingBefore`, and
   * `sent`/`processing` untouched since before `stuckBefore`, except call batches whose calls wait
   * for a calling window that opens after `stuckBefore` (their delayed message is on the queue).
   * Oldest first.
   */
  listStale(options: { pendingBefore: number; stuckBefore: number; limit: number }): Promise<OutboxBatch[]>;
  /**
   * A call initiation's selection: writes call batches of up to `batchSize` of the campaign's
   * customers matching `filter`, in id order, at most `limit` customers in all, `batchesPerWrite`
   * batches per atomic write (each batch is one INSERT ... SELECT, so the campaign is never loaded
   * into memory). Continues after the customers the import already holds, so a retry resumes.
   * Returns the batches written by this call.
   */
  selectIntoBatches(
    importId: string,
    campaignPk: number,
    filter: CustomerFilter,
    options: { batchSize: number; limit: number; batchesPerWrite: number; at: number },
  ): Promise<{ batchNo: number; size: number }[]>;
  /**
   * Customers of the campaign handed to the call queue whose batch the consumer has not reached yet
   * (no call row exists for it), leaving out the batches of `exceptImportId`. Such batches only live
   * between a hand-off and its consumer, so this reads the few outbox rows in flight.
   */
  customersAwaitingConsumer(campaignPk: number, exceptImportId: string): Promise<number[]>;
  /** Records a cron re-drive's send attempt for these batch ids; a failure leaves the re-drive clock. */
  recordRedrive(batchIds: readonly number[], outcome: SendOutcome, at: number): Promise<void>;
}
