import type { NormalizedRecord, PaymentStatus, StoredCustomer, VariableValue } from "../model/customer";
import type { DispatchKind, WrittenBatch } from "../model/outbox";
import type { ChunkCompletion } from "./imports-repository";

/** A record ready to store: its uniqueness key already chosen by the campaign's type. */
export interface CustomerToStore {
  dedupeKey: string;
  record: NormalizedRecord;
}

/** The queue the customers a chunk adds are handed to, in outbox batches of `batchSize`. */
export interface ChunkHandOff {
  kind: DispatchKind;
  batchSize: number;
}

/** The running attempt of an import, whose lease each chunk's write renews. */
export interface LeaseRenewal {
  importId: string;
  attempt: number;
  /** Unix ms. */
  until: number;
}

/** What a chunk does with a key the campaign already holds. */
export type OnExisting = "skip" | "update";

export interface UpsertChunkOptions {
  /**
   * skip: the stored customer is left alone (the record is a duplicate_existing). update: it is
   * overwritten in place when some value differs, and left alone when every value is the same.
   */
  onExisting: OnExisting;
  /**
   * With `handOff`, the same atomic write adds outbox batches for the customers the chunk added and,
   * for call hand-offs with onExisting "update", for the updated customers that became callable
   * again: not paid or received after the update, their emi_due_date, lead_date or payment_status
   * changed, and no call of theirs already waiting (queued, delayed, being dialled, or handed over in
   * a batch no consumer has reached).
   */
  handOff?: ChunkHandOff;
  /**
   * True when some record of the chunk is paid or received: in the same write, the waiting calls of
   * every customer of the chunk that is then paid or received become `skipped` (reason `paid`).
   */
  stopsPaid: boolean;
  /** Claims older than this (unix ms) belong to a consumer that died: their calls count as waiting. */
  leaseExpiredBefore: number;
  /**
   * Customers handed to the call queue by other requests whose batch no consumer has reached yet
   * (OutboxRepository.customersAwaitingConsumer): they have a call waiting, without a row yet.
   */
  awaitingConsumer?: readonly number[];
  /** Renews the running attempt's lease in the same write (no extra round trip). */
  lease?: LeaseRenewal;
  /**
   * The import's completion, which the write carries out when it is the import's last chunk and
   * every chunk added every customer (see ChunkCompletion). Needs `handOff` of the same kind and
   * onExisting "skip".
   */
  completion?: ChunkCompletion;
}

/**
 * The dedupe keys of the rows a chunk's write added, or `"every"` when it added every row it was
 * given: the common case (a file of new customers) is told by the row count alone, without the
 * database returning a row for each customer.
 */
export type AddedKeys = ReadonlySet<string> | "every";

/**
 * The dedupe keys of the rows a chunk added, and of the rows it updated; and the outbox batches the
 * same write created for them (handOff), so the hand-off sends them without reading.
 */
export interface UpsertedChunk {
  added: AddedKeys;
  updated: ReadonlySet<string>;
  batches: WrittenBatch[];
  /**
   * Set when this write completed the import (UpsertChunkOptions.completion); `notifies` as
   * ImportsRepository.complete says it.
   */
  completed?: { notifies: boolean };
}

/**
 * What upsertChunk would do with a chunk now, read without writing (a dry run). Keys the campaign
 * does not hold are `added`; `updated` holds the stored customers an update would change;
 * `recalled` the updated ones it would hand to the call queue again; `batches` is empty (nothing is
 * written).
 */
export interface ProbedChunk extends UpsertedChunk {
  recalled: Set<string>;
}

/**
 * Which of a campaign's customers a call initiation selects. Every condition given must hold.
 * Erased customers never match.
 */
export interface CustomerFilter {
  /** Keys (loan_id / lead_id as stored) the customer must have one of. */
  ids?: readonly string[];
  /** Keys the customer must not have. */
  excludeIds?: readonly string[];
  /** Stored payment statuses; when absent, paid and received customers do not match. */
  paymentStatuses?: readonly PaymentStatus[];
  /** Stored language names (hindi, tamil, ...). */
  languages?: readonly string[];
  /** Agent variables that must hold exactly these values (the same JSON type and value). */
  variables?: readonly (readonly [name: string, value: VariableValue])[];
  /** Customers with a call waiting or being dialled (queued, delayed, dispatching) do not match. */
  withoutWaitingCall: boolean;
  /** Customers (by id) that must not match: e.g. those in call batches the consumer has not reached. */
  excludeCustomerIds?: readonly number[];
}

/** What erasing customers touches besides their own rows. */
export interface EraseInput {
  organizationId: string;
  campaignPk: number;
  customerIds: readonly number[];
  /** Put the customers' numbers on the organization's suppression list first, with this reason. */
  suppress?: { reason: string };
  /** Imports whose stored Idempotency-Key answers mention the customers: those answers are dropped. */
  dropAnswersOf: readonly string[];
  at: number;
  leaseExpiredBefore: number;
}

export interface CustomersRepository {
  /**
   * One customer in the store's row encoding. The intake sizes its chunks by the encoded rows'
   * UTF-8 length (one chunk is one bound value, which the store caps), so it encodes each record
   * once and hands the encoded rows to the chunk writes.
   */
  encodeRow(customer: CustomerToStore): string;
  /**
   * Writes one chunk of encoded rows atomically. A key the campaign already holds is skipped, or
   * with `onExisting: "update"` overwritten (see UpsertChunkOptions). With `handOff`, the same
   * atomic write adds the outbox batches of the customers it added, so a stored customer can never
   * miss its hand-off; with `stopsPaid`, it stops the paid customers' waiting calls; with `lease`,
   * it also renews the running attempt's lease (no extra round trip). Returns the keys it added and
   * updated (unchanged customers are in neither) and the outbox batches it created. Throws if the
   * chunk failed; then nothing of it was written.
   */
  upsertChunk(
    campaignPk: number,
    importId: string,
    at: number,
    encodedRows: readonly string[],
    options: UpsertChunkOptions,
  ): Promise<UpsertedChunk>;
  /**
   * Reads what upsertChunk would do with these rows and options now, writing nothing: the same
   * conditions (a key the campaign holds, a value that differs, a customer made callable again with
   * no call waiting), in one read. `lease` and `stopsPaid` change nothing an answer reports and are
   * ignored.
   */
  probeChunk(
    campaignPk: number,
    encodedRows: readonly string[],
    options: Omit<UpsertChunkOptions, "lease" | "stopsPaid">,
  ): Promise<ProbedChunk>;
  /**
   * Which of these keys the campaign holds from this very import (an earlier attempt of it): dedupe
   * key -> customer id.
   */
  findOwn(campaignPk: number, importId: string, keys: readonly string[]): Promise<Map<string, number>>;
  /** The campaign's customer with this key (as stored); erased customers are never found. */
  findByKey(campaignPk: number, key: string): Promise<StoredCustomer | undefined>;
  /**
   * Overwrites `current` with `next` if the stored row still holds exactly `current` (false, and
   * nothing written, when another write changed it meanwhile or it was erased). In the same atomic
   * write, when the customer is then paid or received, its waiting calls become `skipped` (`paid`).
   */
  replaceOne(
    current: StoredCustomer,
    next: CustomerToStore,
    at: number,
    leaseExpiredBefore: number,
  ): Promise<boolean>;
  /** Oldest first, erased customers left out; `afterId` is the last id of the previous page. */
  list(campaignPk: number, limit: number, afterId?: number): Promise<StoredCustomer[]>;
  /** Ids of the campaign's customers not erased yet, lowest first. */
  listIdsToErase(campaignPk: number, limit: number): Promise<number[]>;
  /** Ordered by id; ids that do not exist are left out (erased customers are included, blank). */
  findByIds(ids: readonly number[]): Promise<StoredCustomer[]>;
  /** How many of the campaign's customers the filter matches. */
  countMatching(campaignPk: number, filter: CustomerFilter): Promise<number>;
  /** The subset of `keys` the campaign holds. */
  findKeys(campaignPk: number, keys: readonly string[]): Promise<Set<string>>;
  /**
   * Erases the customers' personal data everywhere it is kept, in one atomic write: optionally puts
   * their numbers on the suppression list first; cancels their waiting calls (reason `erased`);
   * clears the number from their calls, the dialer's event payloads and the webhook payloads that
   * name them, and any free-text reason that quotes their key, number or name; drops the stored
   * answers listed; blanks the customer rows (kept, de-identified, so counts still add up) and
   * frees their keys. Returns how many customers were erased.
   */
  erase(input: EraseInput): Promise<number>;
}
