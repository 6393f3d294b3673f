// Idempotency-Key handling of every request that runs as an import (bulk, single customer,
// initiation). The import row is the key's lock and the unit of retry: a replay gets the stored
// answer, a retry after an attempt that died resumes the same import (as its next, numbered attempt)
// instead of starting another, and a request still running is refused with 409.
import { DomainError, describeError } from "../errors";
import type { Import } from "../model/imports";
import type { Clock } from "../ports/clock";
import type { ImportsRepository, NewImport, StoredCounts } from "../ports/imports-repository";
import { packResponse, unpackResponse } from "./stored-response";

/** A request's answer: its status and body, and whether it is the stored answer of an earlier one. */
export interface ImportOutcome<Body = unknown, Status extends number = number> {
  status: Status;
  body: Body;
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/** A request still `processing` after this long is taken as abandoned (its Worker died). */
export const IDEMPOTENCY_ABANDONED_AFTER_MS = 10 * 60 * 1000;

export interface Attempt {
  importId: string;
  /** 1 for the first attempt; each retry that takes the import over counts one up. */
  number: number;
  /** Unix ms. */
  startedAt: number;
  /** A retry of an import whose earlier attempt may have stored some of these records. */
  resumed: boolean;
}

export interface IdempotencyDeps {
  imports: ImportsRepository;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export function inFlight(): DomainError {
  return new DomainError(
    "idempotency_request_in_flight",
    "A request with this Idempotency-Key is still being processed; retry after it completes.",
  );
}

/**
 * The stored answer of a completed request with this key, or undefined while it has not completed.
 * Throws idempotency_key_reused (422) when the body is not the same, conflict (409) when the answer
 * is no longer stored.
 */
export async function replayIfCompleted(
  deps: IdempotencyDeps,
  earlier: Import,
  bodyHash: string,
): Promise<ImportOutcome | undefined> {
  if (earlier.bodyHash !== bodyHash) {
    throw new DomainError(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request body.",
      [{ path: "Idempotency-Key", message: "use a new key for a different request" }],
    );
  }
  if (earlier.state !== "completed") return undefined;
  const packed = await deps.imports.storedResponse(earlier.id);
  if (packed === undefined || earlier.responseStatus === null) {
    throw new DomainError(
      "conflict",
      "The request with this Idempotency-Key completed, but its answer is no longer stored; read it with GET /api/v1/imports/{importId} or use a new key.",
      [{ path: "Idempotency-Key", message: `completed as import ${earlier.id}` }],
    );
  }
  return { status: earlier.responseStatus, body: await unpackResponse(packed), replayed: true };
}

/**
 * Takes over an import whose last attempt failed or was abandoned (its Worker died), as the next
 * attempt; refuses (409) while an attempt is still running.
 */
export async function resumeOrRefuse(deps: IdempotencyDeps, earlier: Import, now: number): Promise<Attempt> {
  const number = await deps.imports.claimForRetry(earlier.id, now - IDEMPOTENCY_ABANDONED_AFTER_MS, now);
  if (number === undefined) throw inFlight();
  deps.log("bulk_import_resumed", { importId: earlier.id, attempt: number, previousState: earlier.state });
  return { importId: earlier.id, number, startedAt: now, resumed: true };
}

/**
 * The attempt this request runs as: a new import (attempt 1), or the resumption of `earlier` (the
 * import an earlier request with the same key left failed or abandoned). When another request
 * claims the key between the look-up and the insert, its import is treated as `earlier`: the
 * answer is then a replay (returned as `replay`), a resumption, or 409.
 */
export async function beginAttempt(
  deps: IdempotencyDeps,
  row: NewImport,
  earlier: Import | undefined,
  idempotency: { key: string; bodyHash: string } | undefined,
): Promise<{ attempt: Attempt } | { replay: ImportOutcome }> {
  if (earlier) return { attempt: await resumeOrRefuse(deps, earlier, row.createdAt) };
  if (await deps.imports.begin(row)) {
    return { attempt: { importId: row.id, number: 1, startedAt: row.createdAt, resumed: false } };
  }
  const winner = idempotency
    ? await deps.imports.findByIdempotencyKey(row.organizationId, idempotency.key)
    : undefined;
  if (!winner || !idempotency) throw inFlight();
  const replay = await replayIfCompleted(deps, winner, idempotency.bodyHash);
  if (replay) return { replay };
  return { attempt: await resumeOrRefuse(deps, winner, row.createdAt) };
}

/** What a request's work hands back: its answer, and the counts its import row keeps. */
export interface ImportWork<Body> {
  status: number;
  body: Body;
  counts: StoredCounts;
}

export interface RunAsImportInput {
  /** The import row a new request writes. */
  row: NewImport;
  /** The import an earlier request with the same Idempotency-Key left, if any. */
  earlier: Import | undefined;
  idempotency: { key: string; bodyHash: string } | undefined;
}

/**
 * Runs `work` as one attempt of an import: a new import, the resumption of one an earlier request
 * with the same key left failed or abandoned, or (when another request completed the key meanwhile)
 * a replay of its answer. The import is completed with the work's counts and, for a request with an
 * Idempotency-Key, its answer; when the work throws, whatever it stored is kept and the import is
 * marked failed, so that a retry with the same key resumes it at once. The caller replays a
 * completed `earlier` and checks everything that writes nothing before calling this.
 */
export async function runAsImport<Body>(
  deps: IdempotencyDeps & { clock: Clock },
  input: RunAsImportInput,
  work: (attempt: Attempt) => Promise<ImportWork<Body>>,
): Promise<ImportOutcome<Body>> {
  const begun = await beginAttempt(deps, input.row, input.earlier, input.idempotency);
  if ("replay" in begun) return begun.replay as ImportOutcome<Body>;
  const { attempt } = begun;
  const kind = input.row.kind ?? "bulk";
  try {
    const done = await work(attempt);
    // Only a request with an Idempotency-Key can be replayed, so only its answer is kept.
    const stored = input.idempotency ? await packResponse(done.body) : null;
    const completed = await deps.imports.complete(
      attempt.importId,
      attempt.number,
      done.counts,
      { status: done.status, body: stored },
      deps.clock.now(),
    );
    deps.log(completed ? `${kind}_import_completed` : `${kind}_import_superseded`, {
      importId: attempt.importId,
      attempt: attempt.number,
      status: done.status,
      ...done.counts,
    });
    return { status: done.status, body: done.body, replayed: false };
  } catch (err) {
    deps.log(`${kind}_import_failed`, {
      importId: attempt.importId,
      attempt: attempt.number,
      error: describeError(err),
    });
    await deps.imports.markFailed(attempt.importId, attempt.number, deps.clock.now()).catch(() => undefined);
    throw err;
  }
}
