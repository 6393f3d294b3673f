// A bulk request that hands its customers over and finds every valid record new knows its answer
// before it writes: its chunk writes complete the import with that answer (ChunkCompletion), and the
// sends are recorded after the answer. What is stored must be what was answered, and what a replay
// gives, whatever happens after the writes.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/deps";
import { createWorker } from "../src/index";
import { CALL_CONFIG, capturingQueue, failingQueue, progressOf } from "./calls-fixtures";
import { type D1Around, interceptD1 } from "./d1-meter";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

async function batchesOf(importId: string) {
  const { results } = await env.DB.prepare(
    "SELECT batch_no AS batchNo, state, size, send_attempts AS sendAttempts FROM outbox_batches WHERE import_id = ? ORDER BY batch_no",
  )
    .bind(importId)
    .all<{ batchNo: number; state: string; size: number; sendAttempts: number }>();
  return results;
}

/**
 * POST through a Worker whose calls queue is `callsQueue` (and whose D1 calls go through `around`),
 * waiting for the work left after the answer.
 */
async function postWith(
  callsQueue: { sendBatch(m: Iterable<{ body: unknown }>): Promise<void> },
  body: string,
  headers: Record<string, string>,
  around?: D1Around,
  options: { path?: string; clock?: { now(): number } } = {},
) {
  const worker = createWorker({
    deps: (e) =>
      createDeps(e, {
        callsQueue: callsQueue as never,
        workflowsQueue: capturingQueue(),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://bulkcall.test${options.path ?? BULK}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body,
    }),
    around ? { ...env, DB: interceptD1(env.DB, around) } : env,
    ctx,
  );
  const json = (await response.json()) as any;
  await waitOnExecutionContext(ctx);
  return { status: response.status, json };
}

/** The answer says every one of `customers` was queued in `batches` batches, all sent; the import agrees. */
async function expectEveryBatchQueued(
  first: { json: any },
  auth: Record<string, string>,
  sent: { sent: unknown[] },
  customers: number,
  batches: number,
) {
  expect(first.json.callResults).toEqual({
    requested: customers,
    queued: customers,
    batches,
    failed: 0,
    errors: [],
  });
  expect(sent.sent).toHaveLength(batches);
  const progress = await progressOf(first.json.importId, auth);
  expect(progress.state).toBe("completed");
  expect(progress.results).toMatchObject({ successful: customers });
  expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual(
    Array.from({ length: batches }, () => ["sent", 1]),
  );
}

/** Runs the cron ten minutes from now with a capturing calls queue; returns what it sent for `importId`. */
async function redriveLater(importId: string) {
  const redriven = capturingQueue();
  await createWorker({
    deps: (e) =>
      createDeps(e, {
        clock: { now: () => Date.now() + 10 * 60_000 },
        callsQueue: redriven,
        workflowsQueue: capturingQueue(),
      }),
  }).scheduled(createScheduledController({ cron: "*/5 * * * *" }), env);
  return redriven.sent.filter((m: any) => m.body.importId === importId);
}

const bodyOf = (records: unknown[]) =>
  JSON.stringify({ campaignId: "emi", records, initiateCall: true, callConfig: CALL_CONFIG });

describe("an import completed by its own chunk writes", () => {
  it("stores the answer it gives: the import's counts, the replay, every batch sent once after the answer", async () => {
    const t = await newTenant();
    const records = [
      ...Array.from({ length: 1_500 }, (_, i) => loanRecord(i + 1)),
      loanRecord(9_000, { phone_number: "1" }),
    ];
    const headers = { ...t.auth, "Idempotency-Key": "k-in-write" };
    const sent = capturingQueue();
    const first = await postWith(sent, bodyOf(records), headers);
    expect(first.status).toBe(207);
    expect(first.json.results).toMatchObject({ total: 1_501, valid: 1_500, successful: 1_500, failed: 1 });
    await expectEveryBatchQueued(first, t.auth, sent, 1_500, 3);
    expect((await progressOf(first.json.importId, t.auth)).results).toMatchObject({
      total: 1_501,
      failed: 1,
      batchesProcessed: 2,
    });

    const replay = await call("POST", BULK, bodyOf(records), headers);
    expect(replay.status).toBe(207);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
    const stored = await call("GET", "/api/v1/campaigns/emi/customers?limit=5", undefined, t.auth);
    expect(stored.json.data[0]).toMatchObject({ loan_id: "LN-000001" });
  });

  it("a request that finds a key already held is completed in a write of its own, the duplicate in its stored answer", async () => {
    const t = await newTenant();
    expect((await call("POST", BULK, bodyOf([loanRecord(2)]), t.auth)).status).toBe(201);
    const headers = { ...t.auth, "Idempotency-Key": "k-held" };
    const sent = capturingQueue();
    const first = await postWith(sent, bodyOf([loanRecord(1), loanRecord(2), loanRecord(3)]), headers);
    expect(first.status).toBe(207);
    expect(first.json.results.errors.map((e: any) => [e.index, e.code])).toEqual([[1, "duplicate_existing"]]);
    expect(first.json.callResults).toMatchObject({ requested: 2, queued: 2, batches: 1 });
    expect(sent.sent).toHaveLength(1);
    expect((await progressOf(first.json.importId, t.auth)).results).toMatchObject({
      successful: 2,
      failed: 1,
    });
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.size])).toEqual([["sent", 2]]);
    const replay = await call("POST", BULK, bodyOf([loanRecord(1), loanRecord(2), loanRecord(3)]), headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
  });

  it("a send that fails after the writes: the stored answer is replaced by the one given, and the cron sends the batches", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-queue-down" };
    const records = Array.from({ length: 600 }, (_, i) => loanRecord(i + 1));
    const first = await postWith(failingQueue, bodyOf(records), headers);
    expect(first.status).toBe(201);
    expect(first.json.callResults).toMatchObject({ requested: 600, queued: 0, batches: 0, failed: 600 });
    expect((await progressOf(first.json.importId, t.auth)).state).toBe("completed");
    const replay = await call("POST", BULK, bodyOf(records), headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.size, b.sendAttempts])).toEqual([
      ["pending", 500, 1],
      ["pending", 100, 1],
    ]);

    const mine = await redriveLater(first.json.importId);
    expect(mine.map((m: any) => m.body.batchNo).sort()).toEqual([0, 1]);
  });

  it("if even replacing the answer fails, the request still gets the real answer, retries wait, and the cron sends the batches", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-replace-fails" };
    const records = [loanRecord(1), loanRecord(2)];
    // The completion in the chunk write stores its answer; replacing it is refused.
    await env.DB.exec(
      "CREATE TRIGGER refuse_answer_delete BEFORE DELETE ON import_responses BEGIN SELECT RAISE(ABORT, 'simulated outage'); END",
    );
    let first: Awaited<ReturnType<typeof postWith>>;
    try {
      first = await postWith(failingQueue, bodyOf(records), headers);
    } finally {
      await env.DB.exec("DROP TRIGGER IF EXISTS refuse_answer_delete");
    }
    expect(first.status).toBe(201);
    expect(first.json.callResults).toMatchObject({ requested: 2, queued: 0, failed: 2 });
    // No send is recorded, so a retry is told to wait until the cron has sent the batch; the stored
    // answer, which counts it queued, is then true.
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual([
      ["pending", 0],
    ]);
    const waiting = await call("POST", BULK, bodyOf(records), headers);
    expect(waiting.status).toBe(409);
    expect(waiting.json.error.code).toBe("idempotency_request_in_flight");
    expect(await redriveLater(first.json.importId)).toHaveLength(1);
    const replay = await call("POST", BULK, bodyOf(records), headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json.callResults).toMatchObject({ requested: 2, queued: 2, failed: 0 });
  });

  it("a retry while the first request is still sending is told to wait, so every answer for the key is the same", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-while-sending" };
    const body = bodyOf(Array.from({ length: 600 }, (_, i) => loanRecord(i + 1)));
    // A queue that holds the send until the test lets it fail.
    let called!: () => void;
    let fail!: (err: Error) => void;
    const sending = new Promise<void>((resolve) => {
      called = resolve;
    });
    const held = {
      sendBatch: () =>
        new Promise<void>((_, reject) => {
          fail = reject;
          called();
        }),
    };
    const original = postWith(held, body, headers);
    await sending;
    // The chunk writes have completed the import; its sends are not recorded yet.
    const during = await call("POST", BULK, body, headers);
    expect(during.status).toBe(409);
    expect(during.json.error.code).toBe("idempotency_request_in_flight");
    expect(during.headers.get("Retry-After")).toBe("5");
    fail(new Error("queue unavailable"));
    const first = await original;
    expect(first.json.callResults).toMatchObject({ requested: 600, queued: 0, failed: 600 });
    const after = await call("POST", BULK, body, headers);
    expect(after.headers.get("Idempotent-Replayed")).toBe("true");
    expect(after.json).toEqual(first.json);
  });

  for (const lost of [1, 2] as const) {
    it(`a chunk write that commits but whose answer is lost (${lost === 2 ? "the completing one" : "the other one"}): answer, replay and import agree that every record was stored`, async () => {
      const t = await newTenant();
      const headers = { ...t.auth, "Idempotency-Key": `k-lost-answer-${lost}` };
      const body = bodyOf(Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)));
      let chunkWrites = 0;
      // The database commits the chunk's batch; its answer never reaches the Worker.
      const around: D1Around = async (info, perform) => {
        const result = await perform();
        if (info.method === "batch" && info.sql.some((q) => /insert into "customers"/i.test(q))) {
          if (++chunkWrites === lost) throw new Error("D1_ERROR: Network connection lost.");
        }
        return result;
      };
      const sent = capturingQueue();
      const first = await postWith(sent, body, headers, around);
      expect(first.status).toBe(201);
      expect(first.json.results).toMatchObject({ total: 2_000, successful: 2_000, failed: 0, errors: [] });
      await expectEveryBatchQueued(first, t.auth, sent, 2_000, 4);
      expect((await progressOf(first.json.importId, t.auth)).results).toMatchObject({ failed: 0 });
      const replay = await call("POST", BULK, body, headers);
      expect(replay.status).toBe(201);
      expect(replay.json).toEqual(first.json);
    });
  }

  it("a queue that throws a value that cannot be printed: the answer reports the failed send, and the replay agrees", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-unprintable" };
    const body = bodyOf([loanRecord(1), loanRecord(2)]);
    const odd = {
      async sendBatch(): Promise<void> {
        throw Object.create(null);
      },
    };
    const first = await postWith(odd, body, headers);
    expect(first.status).toBe(201);
    expect(first.json.callResults).toMatchObject({ requested: 2, queued: 0, failed: 2 });
    const replay = await call("POST", BULK, body, headers);
    expect(replay.json).toEqual(first.json);
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual([
      ["pending", 1],
    ]);
  });

  /** A D1 wrapper under which chunk write number `which` commits but answers with an error. */
  const losingAnswerOf = (which: number): D1Around => {
    let chunkWrites = 0;
    return async (info, perform) => {
      const result = await perform();
      if (info.method === "batch" && info.sql.some((q) => /insert into "customers"/i.test(q))) {
        if (++chunkWrites === which) throw new Error("D1_ERROR: Network connection lost.");
      }
      return result;
    };
  };

  it("a lost answer in a request that meets a held key: the committed chunk counts as stored, its batches are sent now", async () => {
    const t = await newTenant();
    expect((await call("POST", BULK, bodyOf([loanRecord(1_500)]), t.auth)).status).toBe(201);
    const headers = { ...t.auth, "Idempotency-Key": "k-lost-and-held" };
    const body = bodyOf(Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)));
    const sent = capturingQueue();
    const first = await postWith(sent, body, headers, losingAnswerOf(1));
    expect(first.status).toBe(207);
    expect(first.json.results).toMatchObject({ successful: 1_999, failed: 1 });
    expect(first.json.results.errors.map((e: any) => e.code)).toEqual(["duplicate_existing"]);
    expect(first.json.callResults).toMatchObject({ requested: 1_999, queued: 1_999, failed: 0 });
    expect(sent.sent).toHaveLength(4);
    expect((await progressOf(first.json.importId, t.auth)).results).toMatchObject({
      successful: 1_999,
      failed: 1,
    });
    expect((await batchesOf(first.json.importId)).every((b) => b.state === "sent")).toBe(true);
    const replay = await call("POST", BULK, body, headers);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
  });

  it("a lost answer beside a chunk that really failed: what committed counts as stored, the rest as storage_error", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-lost-and-failed" };
    const body = bodyOf(Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)));
    let chunkWrites = 0;
    const around: D1Around = async (info, perform) => {
      const chunk = info.method === "batch" && info.sql.some((q) => /insert into "customers"/i.test(q));
      const n = chunk ? ++chunkWrites : 0;
      if (n === 2) throw new Error("D1_ERROR: overloaded");
      const result = await perform();
      if (n === 1) throw new Error("D1_ERROR: Network connection lost.");
      return result;
    };
    const sent = capturingQueue();
    const first = await postWith(sent, body, headers, around);
    expect(first.status).toBe(207);
    expect(first.json.results).toMatchObject({ successful: 1_000, failed: 1_000 });
    expect(new Set(first.json.results.errors.map((e: any) => e.code))).toEqual(new Set(["storage_error"]));
    expect(first.json.callResults).toMatchObject({ requested: 1_000, queued: 1_000, failed: 0 });
    expect(sent.sent).toHaveLength(2);
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM customers WHERE import_id = ?")
      .bind(first.json.importId)
      .first<number>("n");
    expect(stored).toBe(1_000);
    const replay = await call("POST", BULK, body, headers);
    expect(replay.json).toEqual(first.json);
  });

  for (const paused of [false, true]) {
    it(`an answer that stood but whose sends were never recorded${paused ? ", campaign paused" : ""}: retries wait, then a minute on get the stored answer`, async () => {
      const t = await newTenant();
      if (paused)
        expect((await call("POST", "/api/v1/campaigns/emi/pause", undefined, t.auth)).status).toBe(200);
      const headers = { ...t.auth, "Idempotency-Key": `k-unrecorded-${paused}` };
      const body = bodyOf([loanRecord(1), loanRecord(2)]);
      const refuseRecording: D1Around = async (info, perform) => {
        if (info.sql.some((q) => /^update "outbox_batches"/i.test(q.trim())))
          throw new Error("D1_ERROR: overloaded");
        return perform();
      };
      const first = await postWith(capturingQueue(), body, headers, refuseRecording);
      expect(first.status).toBe(201);
      expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual([
        ["pending", 0],
      ]);
      expect((await call("POST", BULK, body, headers)).status).toBe(409);
      // A minute on, no request can change the answer any more.
      await env.DB.prepare("UPDATE imports SET completed_at = completed_at - 120000 WHERE id = ?")
        .bind(first.json.importId)
        .run();
      const replay = await call("POST", BULK, body, headers);
      expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
      expect(replay.json).toEqual(first.json);
    });
  }

  it("a chunk write reported failed that commits later, completing the import: the request answers with that completion", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-late-commit" };
    const body = bodyOf(Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)));
    let chunkWrites = 0;
    let late: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The second chunk's write times out on the Worker's side and commits once the request has
    // looked for its own rows and is about to complete the import itself.
    const around: D1Around = async (info, perform) => {
      const chunk = info.method === "batch" && info.sql.some((q) => /insert into "customers"/i.test(q));
      if (chunk && ++chunkWrites === 2) {
        late = gate.then(perform);
        throw new Error("D1_ERROR: timed out");
      }
      if (!chunk && info.method === "batch" && info.sql.some((q) => /^update "imports"/i.test(q.trim()))) {
        release();
        await late;
      }
      return perform();
    };
    const first = await postWith(capturingQueue(), body, headers, around);
    expect(first.status).toBe(201);
    expect(first.json.results).toMatchObject({ successful: 2_000, failed: 0 });
    expect((await progressOf(first.json.importId, t.auth)).results).toMatchObject({ successful: 2_000 });
    expect(await redriveLater(first.json.importId)).toHaveLength(2);
    const replay = await call("POST", BULK, body, headers);
    expect(replay.json).toEqual(first.json);
  });

  it("an error the queue throws that cannot even be described does not fail the request", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-odd-error" };
    const body = bodyOf([loanRecord(1)]);
    const odd = {
      async sendBatch(): Promise<void> {
        throw Object.assign(new Error("x"), { message: undefined, name: Symbol("odd") });
      },
    };
    const first = await postWith(odd, body, headers);
    expect(first.status).toBe(201);
    expect(first.json.callResults).toMatchObject({ requested: 1, failed: 1 });
    expect((await call("POST", BULK, body, headers)).json).toEqual(first.json);
  });

  it("a single customer whose write's answer is lost is handed to the queue at once", async () => {
    const t = await newTenant();
    const sent = capturingQueue();
    const first = await postWith(
      sent,
      JSON.stringify({ campaignId: "emi", data: loanRecord(1), initiateCall: true, callConfig: CALL_CONFIG }),
      { ...t.auth, "Idempotency-Key": "k-single-lost" },
      losingAnswerOf(1),
      { path: "/api/v1/customers/add" },
    );
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ success: true, callInitiated: true });
    expect(sent.sent).toHaveLength(1);
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual([
      ["sent", 1],
    ]);
  });

  it("a lost answer of a chunk that met a held key: the held key is a duplicate, not a storage error", async () => {
    const t = await newTenant();
    expect((await call("POST", BULK, bodyOf([loanRecord(2)]), t.auth)).status).toBe(201);
    const first = await postWith(
      capturingQueue(),
      bodyOf([loanRecord(1), loanRecord(2), loanRecord(3)]),
      { ...t.auth, "Idempotency-Key": "k-lost-held-inside" },
      losingAnswerOf(1),
    );
    expect(first.status).toBe(207);
    expect(first.json.results).toMatchObject({ successful: 2, failed: 1 });
    expect(first.json.results.errors.map((e: any) => [e.index, e.code])).toEqual([[1, "duplicate_existing"]]);
  });

  it("if what a failed chunk stored cannot be read, the attempt fails and the retry with the key resumes it", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-own-unreadable" };
    // No hand-off, so no write completes the import and the request must read what it stored.
    const body = JSON.stringify({
      campaignId: "emi",
      records: Array.from({ length: 2_000 }, (_, i) => loanRecord(i + 1)),
    });
    const lose = losingAnswerOf(1);
    let chunkWrites = 0;
    const around: D1Around = async (info, perform) => {
      const isChunk = info.method === "batch" && info.sql.some((q) => /insert into "customers"/i.test(q));
      if (isChunk && ++chunkWrites === 1) return lose(info, perform);
      if (info.sql.some((q) => /^select "id", "dedupe_key" from "customers"/i.test(q.trim()))) {
        throw new Error("D1_ERROR: overloaded");
      }
      return perform();
    };
    const first = await postWith(capturingQueue(), body, headers, around);
    expect(first.status).toBe(500);
    const retry = await postWith(capturingQueue(), body, headers);
    expect(retry.status).toBe(201);
    expect(retry.json.results).toMatchObject({ successful: 2_000, failed: 0 });
    const replay = await call("POST", BULK, body, headers);
    expect(replay.json).toEqual(retry.json);
  });

  it("a send that fails more than a minute after the completion leaves the stored answer as it is, for one answer per key", async () => {
    const t = await newTenant();
    const headers = { ...t.auth, "Idempotency-Key": "k-late-send" };
    const body = bodyOf(Array.from({ length: 600 }, (_, i) => loanRecord(i + 1)));
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    // The send hangs past the minute, then fails.
    const slow = {
      async sendBatch(): Promise<void> {
        offset = 61_000;
        throw new Error("queue unavailable");
      },
    };
    const first = await postWith(slow, body, headers, undefined, { clock });
    expect(first.status).toBe(201);
    expect(first.json.callResults).toMatchObject({ requested: 600, queued: 600, failed: 0 });
    expect((await batchesOf(first.json.importId)).map((b) => [b.state, b.sendAttempts])).toEqual([
      ["pending", 1],
      ["pending", 1],
    ]);
    const replay = await call("POST", BULK, body, headers);
    expect(replay.json).toEqual(first.json);
    expect((await redriveLater(first.json.importId)).map((m: any) => m.body.batchNo).sort()).toEqual([0, 1]);
  });
});
