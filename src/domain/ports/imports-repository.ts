import type { Campaign } from "../model/campaign";
import type { Import, ImportCounts, ImportDialingState, ImportKind, RefreshCounts } from "../model/imports";
import type { DispatchKind } from "../model/outbox";
import type { SendRecord } from "./outbox-repository";

/** What a completed import stores: its counts, and the ones only some kinds have. */
export type StoredCounts = ImportCounts & Partial<RefreshCounts> & { matched?: number };

/** What a new import row is created with; the rest starts empty (counts 0, attempt 1). */
export interface NewImport {
  id: string;
  organizationId: string;
  campaignPk: number;
  /** bulk when not given. */
  kind?: ImportKind;
  state: Import["state"];
  /** Unix ms; also the first attempt's start. */
  createdAt: number;
  idempotencyKey?: string | null;
  /** SHA-256 of the request body the key was first used with. */
  bodyHash?: string | null;
  total?: number;
  initiateCall?: boolean;
  useWorkflow?: boolean;
  agentId?: string | null;
  dispositionId?: string | null;
  /** Unix ms until which the first attempt holds the import (the lease it renews while it works). */
  leaseExpiresAt?: number;
}

/** A new import row whose campaign and call configuration `lookUpAndBegin` reads from the store. */
export type ImportClaim = Omit<NewImport, "campaignPk" | "agentId" | "dispositionId">;

/** What a request that writes customers looks up before it writes (ImportsRepository.lookUpAndBegin). */
export interface ImportLookUp {
  organizationId: string;
  /** The organization's live (not deleted) campaign the import writes to. */
  campaignId: string;
  /** The request's agent and disposition, looked up in the organization. */
  callConfig?: { agentId: string; dispositionId: string };
  /** The request's Idempotency-Key, whose import is looked up. */
  idempotencyKey?: string;
}

/** The import to begin with the look-ups, and the one check of prepareImport it needs told. */
export interface ImportClaimRequest {
  row: ImportClaim;
  /**
   * Without the look-up's `callConfig`, the campaign must have a default agent and disposition
   * (initiateCall). The other checks (a live campaign; the request's agent and disposition known)
   * always apply; the import's agent and disposition are the request's, else the campaign's
   * defaults when it has both.
   */
  requireCallConfig: boolean;
}

/** What lookUpAndBegin found, all as of one moment. */
export interface LookedUp {
  campaign: Campaign | undefined;
  /** With the look-up's callConfig: whether the organization has that agent, and that disposition. */
  agentFound: boolean;
  dispositionFound: boolean;
  /** The import that holds the Idempotency-Key, if any (before the claim). */
  earlier: Import | undefined;
  /** The pk of the campaign the claim's import was inserted for; undefined when none was. */
  claimedFor: number | undefined;
}

/** What a failed attempt knew when it stopped, for the import's counts. */
export type FailedCounts = StoredCounts;

export interface ImportsRepository {
  /**
   * Records the start of a bulk request as attempt 1. With an idempotency key this is also the
   * key's lock: exactly one request can claim it, and false is returned to every other.
   */
  begin(row: NewImport): Promise<boolean>;
  /**
   * The look-ups of a request that writes customers (prepare-import.ts) and, with `claim`, `begin`,
   * in one atomic batch: one round trip, and one snapshot, so the claim and the look-ups can never
   * disagree about what they read. The claim's row is inserted last, only where the look-ups'
   * checks hold (see ImportClaimRequest) and no import holds the key.
   */
  lookUpAndBegin(lookUp: ImportLookUp, claim?: ImportClaimRequest): Promise<LookedUp>;
  /**
   * Deletes an import `lookUpAndBegin` inserted for a request that will not run it (attempt 1,
   * still processing: nothing was stored under it), freeing its key.
   */
  release(id: string): Promise<void>;
  findByIdempotencyKey(organizationId: string, key: string): Promise<Import | undefined>;
  /** One of the organization's imports. */
  find(organizationId: string, id: string): Promise<Import | undefined>;
  /** Any organization's import, for work that starts from a queue message (which carries none). */
  findById(id: string): Promise<Import | undefined>;
  /**
   * Moves the import's dialing state to `to` if it is one of `from` (pausing keeps the first pause's
   * time); returns the import as it now is, or undefined when it was in another state.
   */
  setDialingState(
    id: string,
    from: readonly ImportDialingState[],
    to: Exclude<ImportDialingState, "cancelled">,
    at: number,
  ): Promise<Import | undefined>;
  /**
   * Claims an import whose attempt failed, or was abandoned (still `processing` with its lease
   * lapsed at `at`: its Worker died), for a new attempt holding the lease until `leaseExpiresAt`.
   * Returns the new attempt's number when this caller won, undefined otherwise.
   */
  claimForRetry(id: string, at: number, leaseExpiresAt: number): Promise<number | undefined>;
  /**
   * Attempt `attempt` ended with an error, knowing `counts` (its judgement and what it stored) —
   * or, without them, counting what it stored as successful and the rest as failed. An attempt
   * that has been taken over changes nothing.
   */
  markFailed(id: string, attempt: number, at: number, counts?: FailedCounts): Promise<void>;
  /**
   * Imports whose attempt died (lease lapsed before `at`, no retry came): marked failed, with the
   * customers they stored counted as successful and the rest failed; at most `limit`. Returns their ids.
   */
  resolveAbandoned(at: number, limit: number): Promise<string[]>;
  /**
   * Completes the import as attempt `attempt`, storing its counts and, for requests with an
   * Idempotency-Key, the packed answer, atomically; the same write records the send attempts of
   * its outbox batches (`sends`, recorded whatever the completion's fate: they happened).
   * `completed` is false (and the import unchanged) when another attempt has taken the import over;
   * `notifies` is true when the organization has a webhook, so deliveries may be waiting.
   */
  complete(
    id: string,
    attempt: number,
    counts: StoredCounts,
    response: { status: number; body: string | null },
    completedAt: number,
    sends?: readonly SendRecord[],
  ): Promise<{ completed: boolean; notifies: boolean }>;
  /**
   * Replaces the answer stored for the import that attempt `attempt` completed at `completedAt`
   * (with a chunk's write: ChunkCompletion) by `response.body`, and records `sends` in the same
   * write. Changes nothing if that completion did not happen.
   */
  replaceAnswer(
    id: string,
    attempt: number,
    response: { status: number; body: string | null },
    completedAt: number,
    sends: readonly SendRecord[],
  ): Promise<void>;
  /**
   * Whether some outbox batch of the import is still `pending` with no send attempt recorded: the
   * import completed in its chunk writes (ChunkCompletion) and its request has not yet recorded
   * its sends (or died before, leaving them to the cron).
   */
  sendsUnrecorded(id: string): Promise<boolean>;
  /** The packed answer stored by `complete`, or undefined when none was stored. */
  storedResponse(id: string): Promise<string | undefined>;
  /** The campaign's imports whose answer is still stored for replays. */
  withStoredAnswers(campaignPk: number): Promise<string[]>;
  /** Drops every stored answer of the campaign's imports (the imports and their counts stay). */
  dropStoredAnswersOfCampaign(campaignPk: number): Promise<void>;
  /** Forgets idempotency keys of imports created before `before`; returns how many. */
  expireIdempotencyKeys(before: number): Promise<number>;
}

/**
 * An import's completion carried by its chunk writes (CustomersRepository.upsertChunk's
 * `completion`): the last chunk to commit completes the import as `attempt`, with `counts` and
 * `answer`, when by then the import's outbox batches of `kind` list `customers` customers, that is
 * when every chunk added every customer it was given. A request whose outcome is known before it
 * writes (all its valid records new) then waits on no completion round trip.
 */
export interface ChunkCompletion {
  importId: string;
  attempt: number;
  kind: DispatchKind;
  customers: number;
  counts: StoredCounts;
  /** The answer's status, and the packed body stored for replays (null when none is stored). */
  answer: { status: number; body: string | null };
  completedAt: number;
}
