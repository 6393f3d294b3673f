import type { Import, ImportCounts, ImportKind, RefreshCounts } from "../model/imports";

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
}

export interface ImportsRepository {
  /**
   * Records the start of a bulk request as attempt 1. With an idempotency key this is also the
   * key's lock: exactly one request can claim it, and false is returned to every other.
   */
  begin(row: NewImport): Promise<boolean>;
  findByIdempotencyKey(organizationId: string, key: string): Promise<Import | undefined>;
  /** One of the organization's imports. */
  find(organizationId: string, id: string): Promise<Import | undefined>;
  /** Any organization's import, for work that starts from a queue message (which carries none). */
  findById(id: string): Promise<Import | undefined>;
  /**
   * Claims an import whose attempt failed, or was abandoned (still `processing` since before
   * `abandonedBefore`: its Worker died), for a new attempt. Returns the new attempt's number when
   * this caller won, undefined otherwise.
   */
  claimForRetry(id: string, abandonedBefore: number, at: number): Promise<number | undefined>;
  /** Attempt `attempt` ended with an error; an attempt that has been taken over changes nothing. */
  markFailed(id: string, attempt: number, at: number): Promise<void>;
  /**
   * Completes the import as attempt `attempt`, storing its counts and, for requests with an
   * Idempotency-Key, the packed answer, atomically. False (and nothing changed) when another
   * attempt has taken the import over.
   */
  complete(
    id: string,
    attempt: number,
    counts: StoredCounts,
    response: { status: number; body: string | null },
    completedAt: number,
  ): Promise<boolean>;
  /** The packed answer stored by `complete`, or undefined when none was stored. */
  storedResponse(id: string): Promise<string | undefined>;
  /** The campaign's imports whose answer is still stored for replays. */
  withStoredAnswers(campaignPk: number): Promise<string[]>;
  /** Drops every stored answer of the campaign's imports (the imports and their counts stay). */
  dropStoredAnswersOfCampaign(campaignPk: number): Promise<void>;
  /** Forgets idempotency keys of imports created before `before`; returns how many. */
  expireIdempotencyKeys(before: number): Promise<number>;
}
