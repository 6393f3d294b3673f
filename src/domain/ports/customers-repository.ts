import type { NormalizedRecord, StoredCustomer } from "../model/customer";
import type { DispatchKind } from "../model/outbox";

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

export interface CustomersRepository {
  /**
   * One customer in the store's row encoding. The intake sizes its chunks by the encoded rows'
   * UTF-8 length (one chunk is one bound value, which the store caps), so it encodes each record
   * once and hands the encoded rows to insertChunk.
   */
  encodeRow(customer: CustomerToStore): string;
  /**
   * Writes one chunk of encoded rows atomically, skipping keys the campaign already holds; with
   * `handOff`, the same atomic write adds the outbox batches of the customers it added, so a stored
   * customer can never miss its hand-off; with `lease`, it also renews the running attempt's lease
   * (no extra round trip). Returns dedupe key -> customer id of the rows added. Throws if the chunk
   * failed, in which case nothing of it was written.
   */
  insertChunk(
    campaignPk: number,
    importId: string,
    createdAt: number,
    encodedRows: readonly string[],
    handOff?: ChunkHandOff,
    lease?: LeaseRenewal,
  ): Promise<Map<string, number>>;
  /** Which of these keys the campaign holds from this very import (an earlier attempt of it). */
  findOwn(campaignPk: number, importId: string, keys: readonly string[]): Promise<Map<string, number>>;
  /** Oldest first; `afterId` is the last id of the previous page. */
  list(campaignPk: number, limit: number, afterId?: number): Promise<StoredCustomer[]>;
  /** Ordered by id; ids that do not exist are left out. */
  findByIds(ids: readonly number[]): Promise<StoredCustomer[]>;
}
