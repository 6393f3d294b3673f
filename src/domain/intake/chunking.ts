// Stores the valid records of a request in atomic chunks. Each chunk is one statement (with its
// outbox batches in the same atomic write), chunks are independent, and they are sent together so
// their round trips overlap (up to IN_FLIGHT_MAX_BYTES of rows at a time); a chunk that fails is
// rolled back whole and reported record by record.
import { isPaid } from "../calls/eligibility";
import { describeError } from "../errors";
import type { WrittenBatch } from "../model/outbox";
import type { Clock } from "../ports/clock";
import type {
  AddedKeys,
  ChunkHandOff,
  CustomersRepository,
  OnExisting,
  UpsertedChunk,
} from "../ports/customers-repository";
import type { ChunkCompletion } from "../ports/imports-repository";
import type { ValidRecord } from "./judge-records";
import type { RecordError } from "./results";

/** Records per transactional chunk. */
const CHUNK_MAX_RECORDS = 1_000;
/**
 * UTF-8 bytes of JSON per chunk. D1 refuses a bound value over 2 MB, and one chunk is one JSON
 * parameter, so chunks of unusually large records close early.
 */
const CHUNK_MAX_BYTES = 1_500_000;

/**
 * UTF-8 bytes of chunk rows whose writes may be in flight at once. Each write in flight holds its
 * rows three times on the JS heap until D1 answers (the rows, the chunk's JSON, and the D1 client's
 * request text), so a 20 MB import sent all at once would need about 75 MiB for its writes alone
 * (the isolate gets 128 MB). A usual import (10,000 records of a few hundred bytes: 3 MB) still
 * sends every chunk together, in one round trip; only imports of unusually large records wait for
 * earlier chunks to answer before sending more.
 */
export const IN_FLIGHT_MAX_BYTES = 6_000_000;

/** Records of one chunk and the UTF-8 bytes of their rows. */
interface Chunk {
  members: ValidRecord[];
  bytes: number;
}

/** Splits records into chunks of at most CHUNK_MAX_RECORDS records and CHUNK_MAX_BYTES bytes. */
function chunk(valid: readonly ValidRecord[]): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk = { members: [], bytes: 0 };
  for (const r of valid) {
    const size = current.members.length;
    if (size === CHUNK_MAX_RECORDS || (size > 0 && current.bytes + r.bytes > CHUNK_MAX_BYTES)) {
      chunks.push(current);
      current = { members: [], bytes: 0 };
    }
    current.members.push(r);
    current.bytes += r.bytes + 1;
  }
  if (current.members.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs `write` for every chunk, in order, starting each as soon as the bytes of the writes in flight
 * leave room for it under IN_FLIGHT_MAX_BYTES (the first always starts). A chunk's rows are handed
 * to its write and then let go (ValidRecord.encoded), so the heap holds the rows of the chunks not
 * yet sent and of those in flight, not of every chunk until the last answers. Settles like
 * Promise.allSettled, in chunk order.
 */
async function writeWithinWindow<T>(
  chunks: readonly Chunk[],
  write: (members: ValidRecord[], rows: string[]) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const inFlight = new Set<Promise<unknown>>();
  let bytesInFlight = 0;
  const started: Promise<T>[] = [];
  for (const { members, bytes } of chunks) {
    while (inFlight.size > 0 && bytesInFlight + bytes > IN_FLIGHT_MAX_BYTES) await Promise.race(inFlight);
    const rows = members.map((r) => r.encoded);
    for (const r of members) r.encoded = "";
    const written = write(members, rows);
    const release = () => {
      inFlight.delete(done);
      bytesInFlight -= bytes;
    };
    const done: Promise<void> = written.then(release, release);
    inFlight.add(done);
    bytesInFlight += bytes;
    started.push(written);
  }
  return Promise.allSettled(started);
}

export interface StoreChunksInput {
  campaignPk: number;
  importId: string;
  /** Unix ms: the customers' createdAt. */
  at: number;
  /** A retry of an import whose earlier attempt may have stored some of these records. */
  resumed: boolean;
  /** The running attempt, whose lease each chunk renews for `leaseMs` from when it is sent. */
  attempt: number;
  leaseMs: number;
  dedupeField: "loan_id" | "lead_id";
  /** What happens to keys the campaign already holds (see UpsertChunkOptions). */
  onExisting: OnExisting;
  handOff?: ChunkHandOff;
  /** Claims older than this (unix ms) belong to a consumer that died. */
  leaseExpiredBefore: number;
  /** See UpsertChunkOptions.awaitingConsumer. */
  awaitingConsumer?: readonly number[];
  log: (event: string, fields: Record<string, unknown>) => void;
  /**
   * The import's completion for the chunk writes to carry (UpsertChunkOptions.completion), given
   * the number of records of each chunk; undefined to complete it apart.
   */
  completion?: (chunkSizes: readonly number[]) => Promise<ChunkCompletion | undefined>;
  /**
   * Read what each chunk's write would do now instead of writing it (CustomersRepository.probeChunk):
   * the answer is the one the write would give, and `handedOver` says what it would hand over.
   */
  dryRun?: boolean;
}

/** What a dry run's chunks would hand to the queue: the records, and the outbox batches they fill. */
export interface WouldHandOver {
  records: ValidRecord[];
  batches: number;
}

export interface StoredChunks {
  /**
   * Records stored: added by this import (including, for a resumed import, those its earlier
   * attempt added) and, with onExisting "update", updated or found unchanged.
   */
  successful: number;
  added: number;
  updated: number;
  unchanged: number;
  /** duplicate_existing and storage_error errors, in record order. */
  errors: RecordError[];
  batchesProcessed: number;
  /** Only for a dry run with a hand-off. */
  handedOver?: WouldHandOver;
  /**
   * The outbox batches this attempt's chunk writes created (none in a dry run), as far as their
   * answers tell: a write reported failed may have committed batches too (someWriteFailed).
   */
  batches: WrittenBatch[];
  /** Some chunk's write was reported failed: it may have committed with its answer lost. */
  someWriteFailed: boolean;
  /** Set when a chunk's write completed the import (StoreChunksInput.completion). */
  completed?: { notifies: boolean };
}

/**
 * Stores the valid records in chunks (or, with `dryRun`, reads what storing them would do) and
 * classifies every record: added, updated, unchanged, or an error (duplicate_existing,
 * storage_error). Never throws: a chunk that fails is reported record by record.
 */
export async function storeChunks(
  deps: { customers: CustomersRepository; clock: Clock },
  valid: readonly ValidRecord[],
  input: StoreChunksInput,
): Promise<StoredChunks> {
  const { campaignPk, importId } = input;
  const chunks = chunk(valid);
  const completion = input.dryRun ? undefined : await input.completion?.(chunks.map((c) => c.members.length));

  // Keys this import stored are this request's own, not duplicates, and not lost when this
  // attempt's chunk holding them fails: an earlier attempt's, or this attempt's own when a chunk's
  // write committed but its answer was lost on the way back (reported as a failure).
  async function storedByThisImport(records: ValidRecord[]): Promise<ReadonlySet<string>> {
    if (records.length === 0) return new Set();
    const own = await deps.customers.findOwn(
      campaignPk,
      importId,
      records.map((r) => r.key),
    );
    return new Set(own.keys());
  }

  const handedOver: WouldHandOver = { records: [], batches: 0 };
  const batchSize = input.handOff?.batchSize ?? 1;
  const outcomes = await writeWithinWindow(chunks, async (c, rows) => {
    if (input.dryRun) {
      const probed = await deps.customers.probeChunk(campaignPk, rows, {
        onExisting: input.onExisting,
        handOff: input.handOff,
        leaseExpiredBefore: input.leaseExpiredBefore,
        awaitingConsumer: input.awaitingConsumer,
      });
      if (input.handOff) {
        // The write numbers one run of batches for the customers it adds and one for those it
        // recalls (see UpsertChunkOptions.handOff), each of up to batchSize.
        const added = c.filter((r) => wasAdded(probed.added, r.key));
        const recalled = c.filter((r) => probed.recalled.has(r.key));
        handedOver.records.push(...added, ...recalled);
        handedOver.batches += Math.ceil(added.length / batchSize) + Math.ceil(recalled.length / batchSize);
      }
      return probed;
    }
    const written = await deps.customers.upsertChunk(campaignPk, importId, input.at, rows, {
      onExisting: input.onExisting,
      handOff: input.handOff,
      // Only an update can make a stored customer paid.
      stopsPaid: input.onExisting === "update" && c.some((r) => isPaid(r.facts.paymentStatus)),
      leaseExpiredBefore: input.leaseExpiredBefore,
      awaitingConsumer: input.awaitingConsumer,
      lease: { importId, attempt: input.attempt, until: deps.clock.now() + input.leaseMs },
      completion,
    });
    const { added, updated } = written;
    if (input.resumed && added !== "every") {
      // A row the earlier attempt stored is unchanged now; it was added by this import all the same.
      // (One the earlier attempt updated reads as unchanged: that attempt's answer was never given.)
      const rest = c.filter((r) => !added.has(r.key) && !updated.has(r.key));
      const own = await storedByThisImport(rest);
      if (own.size > 0) return { ...written, added: new Set([...added, ...own]) };
    }
    return written;
  });
  // Not caught: if the import's own rows cannot be read, what a failed chunk stored is unknown, and
  // the attempt fails so that a retry with the key resumes it (which reads them again). Not read
  // when a write completed the import: every record is then stored (ChunkCompletion's condition).
  const completed = completedBy(outcomes);
  const ownInFailedChunks =
    !input.dryRun && completed.completed === undefined
      ? await Promise.all(
          outcomes.map((o, i) =>
            o.status === "rejected" ? storedByThisImport((chunks[i] as Chunk).members) : new Set<string>(),
          ),
        )
      : [];

  const tally = { added: 0, updated: 0, unchanged: 0 };
  const errors: RecordError[] = [];
  outcomes.forEach((outcome, i) => {
    const members = (chunks[i] as Chunk).members;
    if (outcome.status === "rejected") {
      input.log("chunk_failed", {
        importId,
        chunk: i,
        records: members.length,
        error: describeError(outcome.reason),
      });
      const own = ownInFailedChunks[i];
      // A first attempt's chunk is atomic: if some of its rows carry this import, the write
      // committed (its answer was lost), so a key it did not add was held already.
      const committed = !input.resumed && own !== undefined && own.size > 0;
      for (const r of members) {
        if (own?.has(r.key)) {
          tally.added++;
          continue;
        }
        if (committed && input.onExisting === "skip") {
          errors.push(duplicateExisting(r, input.dedupeField));
          continue;
        }
        errors.push({
          index: r.index,
          key: r.key,
          code: "storage_error",
          message:
            "The chunk holding this record could not be stored and was rolled back whole; retry the record.",
        });
      }
      return;
    }
    const { added, updated } = outcome.value;
    for (const r of members) {
      if (wasAdded(added, r.key)) {
        tally.added++;
        continue;
      }
      if (input.onExisting === "update") {
        if (updated.has(r.key)) tally.updated++;
        else tally.unchanged++;
        continue;
      }
      errors.push(duplicateExisting(r, input.dedupeField));
    }
  });
  return {
    successful: tally.added + tally.updated + tally.unchanged,
    ...tally,
    errors,
    batchesProcessed: chunks.length,
    batches: outcomes.flatMap((o) => (o.status === "fulfilled" ? o.value.batches : [])),
    someWriteFailed: outcomes.some((o) => o.status === "rejected"),
    ...completed,
    ...(input.dryRun && input.handOff ? { handedOver } : {}),
  };
}

/** Whether the record with dedupe key `key` is among the rows a chunk's write added. */
function wasAdded(added: AddedKeys, key: string): boolean {
  return added === "every" || added.has(key);
}

/** The completion one of the writes carried out, if one did (at most one can). */
function completedBy(
  outcomes: readonly PromiseSettledResult<UpsertedChunk>[],
): Pick<StoredChunks, "completed"> {
  for (const o of outcomes)
    if (o.status === "fulfilled" && o.value.completed) return { completed: o.value.completed };
  return {};
}

/** The duplicate_existing error of a record whose key the campaign already held. */
function duplicateExisting(r: ValidRecord, dedupeField: "loan_id" | "lead_id"): RecordError {
  return {
    index: r.index,
    key: r.key,
    code: "duplicate_existing",
    message: `The campaign already holds a customer with ${dedupeField} "${r.key}"`,
  };
}
