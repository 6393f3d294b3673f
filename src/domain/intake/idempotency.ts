// Idempotency-Key handling of every request that runs as an import (bulk, single customer,
// initiation). The import row is the key's lock and the unit of retry: a replay gets the stored
// answer, a retry after an attempt that died resumes the same import (as its next, numbered attempt)
// instead of starting another, and a request still running is refused with 409 while its lease
// holds.
import { createHash } from "node:crypto";
import { DomainError, describeError } from "../errors";
import type { Import } from "../model/imports";
import type { Clock } from "../ports/clock";
import type { ImportsRepository, NewImport, StoredCounts } from "../ports/imports-repository";
import type { SendRecord } from "../ports/outbox-repository";
import { packResponse, unpackResponse } from "./stored-response";

/** A request's answer: its status and body, and whether it is the stored answer of an earlier one. */
export interface ImportOutcome<Body = unknown, Status extends number = number> {
  status: Status;
  body: Body;
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed: boolean;
  /**
   * The organization has a webhook, so the request may have left deliveries to hand off (its
   * import.completed, a payment's call.skipped); without one, the hand-off's round trip is skipped.
   */
  notifies?: boolean;
  /** Work to run once the answer is sent (the caller schedules it, e.g. with waitUntil). */
  afterAnswer?: () => Promise<void>;
}

/**
 * How long a running attempt holds its import without renewing: every chunk it writes renews it,
 * so a live attempt never loses it, while a retry after a crash waits at most this long.
 */
export const IMPORT_LEASE_MS = 60 * 1000;
/**
 * Retry-After (s) for a retry that finds its key's import completed but its sends not yet recorded
 * (replayIfCompleted): the request is milliseconds from done, or died and left its batches to the
 * cron, which sends them within minutes.
 */
const SENDING_RETRY_AFTER_S = 5;
/** Imports written before leases existed are taken over ten minutes after their attempt started. */
const LEGACY_ABANDONED_AFTER_MS = 10 * 60 * 1000;

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

/**
 * The request's identity for Idempotency-Key comparisons: SHA-256 (hex) of its JSON value with
 * every object's keys sorted (by UTF-16 code units, as Array.prototype.sort does) and arrays kept
 * in order. A client library that re-serializes the same request with its keys in another order
 * sends the same request; a different value (or the same records in another order) is a
 * different one. `value` is what JSON.parse returned (no undefined, functions or toJSON).
 *
 * The canonical text is hashed as it is written, 64 KiB at a time, and the walk keeps its own
 * stack: a 20 MB body needs no 20 MB string (nor a sorted copy of every object), and a body
 * nested 100,000 levels deep cannot overflow the call stack.
 */
export async function requestFingerprint(value: unknown): Promise<string> {
  const hash = createHash("sha256");
  let pending = "";
  for (const piece of canonicalJsonPieces(value)) {
    pending += piece;
    if (pending.length >= FLUSH_CHARS) {
      hash.update(pending, "utf8");
      pending = "";
    }
  }
  hash.update(pending, "utf8");
  return hash.digest("hex");
}

/** Characters of canonical JSON hashed at a time. */
const FLUSH_CHARS = 64 * 1024;

type Frame =
  | { array: readonly unknown[]; next: number }
  | { object: Record<string, unknown>; keys: string[]; next: number };

/**
 * The canonical JSON of `value` in pieces, in order: the text `JSON.stringify` writes for a parsed
 * JSON value whose objects were rebuilt with their keys sorted (so array-index keys such as "2"
 * come first, in numeric order, as in any object). Iterative, so its depth is unbounded.
 */
export function* canonicalJsonPieces(value: unknown, sliceChars = SLICE_CHARS): Generator<string> {
  const stack: Frame[] = [];
  let current: unknown = value;
  for (;;) {
    // Write `current`: a scalar at once; a container opens a frame.
    if (typeof current === "string") {
      yield* quoted(current, sliceChars);
    } else if (current === null || typeof current !== "object") {
      yield JSON.stringify(current);
    } else if (Array.isArray(current)) {
      yield "[";
      stack.push({ array: current, next: 0 });
    } else {
      yield "{";
      const object = current as Record<string, unknown>;
      stack.push({ object, keys: keysInCanonicalOrder(object), next: 0 });
    }
    // Find the next value to write, closing the containers that are done.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return;
      if ("array" in top) {
        if (top.next < top.array.length) {
          if (top.next > 0) yield ",";
          current = top.array[top.next++];
          break;
        }
        yield "]";
      } else {
        if (top.next < top.keys.length) {
          const key = top.keys[top.next] as string;
          if (top.next > 0) yield ",";
          yield* quoted(key, sliceChars);
          yield ":";
          top.next++;
          current = top.object[key];
          break;
        }
        yield "}";
      }
      stack.pop();
    }
  }
}

/** Characters of one string written at a time: a string of 20 MB is never copied whole. */
const SLICE_CHARS = 64 * 1024;

/**
 * `JSON.stringify(text)` in pieces of about `sliceChars` characters. A cut never falls between the
 * two halves of a surrogate pair, which JSON.stringify would then write as two escapes instead of
 * the character.
 */
function* quoted(text: string, sliceChars: number): Generator<string> {
  if (text.length <= sliceChars) {
    yield JSON.stringify(text);
    return;
  }
  yield '"';
  for (let from = 0; from < text.length; ) {
    let to = Math.min(text.length, from + Math.max(1, sliceChars));
    const last = text.charCodeAt(to - 1);
    const next = text.charCodeAt(to);
    if (last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) to++;
    yield JSON.stringify(text.slice(from, to)).slice(1, -1);
    from = to;
  }
  yield '"';
}

/** The keys sorted, in the order an object built with them in that order enumerates them. */
function keysInCanonicalOrder(value: object): string[] {
  const sorted: Record<string, true> = {};
  for (const k of Object.keys(value).sort()) {
    // defineProperty keeps an own "__proto__" key a plain key.
    Object.defineProperty(sorted, k, { value: true, enumerable: true, writable: true, configurable: true });
  }
  return Object.keys(sorted);
}

/** 409 for a key whose import is still being processed, saying when to retry. */
function inFlight(running: Import | undefined, now: number): DomainError {
  const leaseEnd =
    running?.leaseExpiresAt ??
    (running ? (running.startedAt ?? running.createdAt) + LEGACY_ABANDONED_AFTER_MS : now + IMPORT_LEASE_MS);
  const seconds = Math.max(1, Math.ceil((leaseEnd - now) / 1000));
  const which = running ? ` (import ${running.id})` : "";
  return new DomainError(
    "idempotency_request_in_flight",
    `A request with this Idempotency-Key is still being processed${which}; retry in ${seconds} s, or read its progress with GET /api/v1/imports/{importId}.`,
    running ? [{ path: "Idempotency-Key", message: `held by import ${running.id}` }] : [],
    seconds,
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
  now: number,
): Promise<ImportOutcome | undefined> {
  if (earlier.bodyHash !== bodyHash) {
    throw new DomainError(
      "idempotency_key_reused",
      `This Idempotency-Key was already used for import ${earlier.id} with a different request body; read that import with GET /api/v1/imports/${earlier.id}, or send this request with a new key.`,
      [{ path: "Idempotency-Key", message: `already used for import ${earlier.id}` }],
    );
  }
  if (earlier.state !== "completed") return undefined;
  // An import its chunk writes completed holds the answer of a full hand-off before its request
  // has sent the batches; if a send then fails, that request replaces the answer. A retry within a
  // minute of the completion waits for the sends to be recorded (milliseconds after that request's
  // answer), so that every answer given for the key is the same; if they are not recorded by then
  // (the send hangs, or that Worker died), it is told to retry, as while the import runs. Past
  // that minute no request can still replace the answer: a batch never sent is the cron's (even
  // while its campaign is paused), and the stored answer is replayed.
  const sending = earlier.completedAt !== null && now - earlier.completedAt < IMPORT_LEASE_MS;
  if (sending && (await sendsStillUnrecorded(deps, earlier.id))) {
    throw new DomainError(
      "idempotency_request_in_flight",
      `A request with this Idempotency-Key (import ${earlier.id}) is still handing its customers to the queue; retry in ${SENDING_RETRY_AFTER_S} s.`,
      [{ path: "Idempotency-Key", message: `held by import ${earlier.id}` }],
      SENDING_RETRY_AFTER_S,
    );
  }
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
 * How long (ms) a retry waits for a completed import's sends to be recorded, and its first pause
 * between looks, doubled after each: the record is usually milliseconds behind the first answer, so
 * an immediate retry should not pay a fixed 100 ms.
 */
const SENDS_WAIT_MS = 2_000;
const SENDS_FIRST_POLL_MS = 10;

/** Whether `importId`'s sends are still unrecorded after waiting up to SENDS_WAIT_MS for them. */
async function sendsStillUnrecorded(deps: IdempotencyDeps, importId: string): Promise<boolean> {
  let waited = 0;
  for (let pause = SENDS_FIRST_POLL_MS; await deps.imports.sendsUnrecorded(importId); pause *= 2) {
    if (waited >= SENDS_WAIT_MS) return true;
    const wait = Math.min(pause, SENDS_WAIT_MS - waited);
    await new Promise((resolve) => setTimeout(resolve, wait));
    waited += wait;
  }
  return false;
}

/**
 * Takes over an import whose last attempt failed or was abandoned (its Worker died, so its lease
 * lapsed), as the next attempt; refuses (409 with Retry-After) while an attempt still holds it.
 */
async function resumeOrRefuse(deps: IdempotencyDeps, earlier: Import, now: number): Promise<Attempt> {
  const number = await deps.imports.claimForRetry(earlier.id, now, now + IMPORT_LEASE_MS);
  if (number === undefined) throw inFlight(earlier, now);
  deps.log("bulk_import_resumed", { importId: earlier.id, attempt: number, previousState: earlier.state });
  return { importId: earlier.id, number, startedAt: now, resumed: true };
}

/**
 * The attempt this request runs as: a new import (attempt 1), or the resumption of `earlier` (the
 * import an earlier request with the same key left failed or abandoned). When another request
 * claims the key between the look-up and the insert, its import is treated as `earlier`: the
 * answer is then a replay (returned as `replay`), a resumption, or 409.
 */
async function beginAttempt(
  deps: IdempotencyDeps,
  { row, earlier, idempotency, begun }: RunAsImportInput,
): Promise<{ attempt: Attempt } | { replay: ImportOutcome }> {
  if (begun) return { attempt: begun };
  if (earlier) return { attempt: await resumeOrRefuse(deps, earlier, row.createdAt) };
  if (await deps.imports.begin({ ...row, leaseExpiresAt: row.createdAt + IMPORT_LEASE_MS })) {
    return { attempt: { importId: row.id, number: 1, startedAt: row.createdAt, resumed: false } };
  }
  const winner = idempotency
    ? await deps.imports.findByIdempotencyKey(row.organizationId, idempotency.key)
    : undefined;
  if (!winner || !idempotency) throw inFlight(winner, row.createdAt);
  const replay = await replayIfCompleted(deps, winner, idempotency.bodyHash, row.createdAt);
  if (replay) return { replay };
  return { attempt: await resumeOrRefuse(deps, winner, row.createdAt) };
}

/** What a request's work hands back: its answer, and the counts its import row keeps. */
export interface ImportWork<Body> {
  status: number;
  body: Body;
  counts: StoredCounts;
  /** Send attempts of the import's outbox batches, recorded in the completion's write. */
  sends?: SendRecord[];
  /**
   * Set when the work's own writes completed the import (ChunkCompletion) with the answer it
   * predicted: `completedAt` as written, and whether `body` is that answer (false when a send
   * failed after the writes, so the stored answer must be replaced).
   */
  completedInWrite?: { notifies: boolean; completedAt: number; answerStands: boolean };
  /** Run after the answer is sent when the import completed in the work's writes (recording sends). */
  afterAnswer?: () => Promise<void>;
  /**
   * The completion the work's writes carried (ChunkCompletion) without being seen to take effect:
   * a write reported failed may still commit it later. If the import then reads completed by it,
   * its answer is the one given.
   */
  predicted?: { status: number; body: Body; completedAt: number };
}

export interface RunAsImportInput {
  /** The import row a new request writes. */
  row: NewImport;
  /** The import an earlier request with the same Idempotency-Key left, if any. */
  earlier: Import | undefined;
  idempotency: { key: string; bodyHash: string } | undefined;
  /** The first attempt, when prepareImport already began `row` (with its look-ups). */
  begun?: Attempt;
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
  const started = await beginAttempt(deps, input);
  if ("replay" in started) return started.replay as ImportOutcome<Body>;
  const { attempt } = started;
  const kind = input.row.kind ?? "bulk";
  // What this attempt knows once its work has run: the counts a failure after that point records.
  let known: StoredCounts | undefined;
  try {
    const done = await work(attempt);
    known = done.counts;
    if (done.completedInWrite) return await outcomeCompletedInWrite(deps, input, attempt, done);
    // Only a request with an Idempotency-Key can be replayed, so only its answer is kept.
    const stored = input.idempotency ? await packResponse(done.body) : null;
    const { completed, notifies } = await deps.imports.complete(
      attempt.importId,
      attempt.number,
      done.counts,
      { status: done.status, body: stored },
      deps.clock.now(),
      done.sends,
    );
    if (
      !completed &&
      done.predicted &&
      (await completedAsPredicted(deps, attempt, done.predicted.completedAt))
    ) {
      // A chunk write reported failed committed after all, completing the import with the answer
      // of every record stored (its condition): that answer is the one stored, so it is given.
      deps.log(`${kind}_import_completed`, {
        importId: attempt.importId,
        attempt: attempt.number,
        late: true,
      });
      return { status: done.predicted.status, body: done.predicted.body, replayed: false, notifies: true };
    }
    deps.log(completed ? `${kind}_import_completed` : `${kind}_import_superseded`, {
      importId: attempt.importId,
      attempt: attempt.number,
      status: done.status,
      ...done.counts,
    });
    return { status: done.status, body: done.body, replayed: false, notifies };
  } catch (err) {
    deps.log(`${kind}_import_failed`, {
      importId: attempt.importId,
      attempt: attempt.number,
      error: describeError(err),
    });
    await deps.imports
      .markFailed(attempt.importId, attempt.number, deps.clock.now(), known)
      .catch(() => undefined);
    throw err;
  }
}

/**
 * The outcome of an attempt whose chunk writes completed its import (ImportWork.completedInWrite).
 * When a send failed after those writes, the stored answer (which counted every batch queued) is
 * replaced by the real one together with the send records, before answering; if even that write
 * fails, the real answer is still given and the failure logged: the batches not sent stay pending
 * and the cron sends them, so the stored answer becomes true. Otherwise the sends are recorded
 * after the answer (ImportOutcome.afterAnswer).
 */
async function outcomeCompletedInWrite<Body>(
  deps: IdempotencyDeps & { clock: Clock },
  input: RunAsImportInput,
  attempt: Attempt,
  done: ImportWork<Body>,
): Promise<ImportOutcome<Body>> {
  const { notifies, completedAt, answerStands } = done.completedInWrite as NonNullable<
    ImportWork<Body>["completedInWrite"]
  >;
  const kind = input.row.kind ?? "bulk";
  if (!answerStands) {
    const stored = input.idempotency ? await packResponse(done.body) : null;
    await deps.imports
      .replaceAnswer(
        attempt.importId,
        attempt.number,
        { status: done.status, body: stored },
        completedAt,
        done.sends ?? [],
      )
      .catch((err: unknown) => {
        deps.log("import_answer_replace_failed", { importId: attempt.importId, error: describeError(err) });
      });
  }
  deps.log(`${kind}_import_completed`, {
    importId: attempt.importId,
    attempt: attempt.number,
    status: done.status,
    ...done.counts,
    completedInWrite: true,
  });
  return {
    status: done.status,
    body: done.body,
    replayed: false,
    notifies,
    ...(answerStands && done.afterAnswer ? { afterAnswer: done.afterAnswer } : {}),
  };
}

/** Whether the import reads completed by `attempt` at `completedAt` (a ChunkCompletion's moment). */
export async function completedAsPredicted(
  deps: IdempotencyDeps,
  attempt: Pick<Attempt, "importId" | "number">,
  completedAt: number,
): Promise<boolean> {
  const now = await deps.imports.findById(attempt.importId);
  return now?.state === "completed" && now.attempt === attempt.number && now.completedAt === completedAt;
}
