// D1 round trips per request. Every D1 call is a network hop in production, so the number of
// sequential waves of calls is what a request pays for its database there (see test/d1-meter.ts).
// These tests check the counter against real local D1, and print today's figures for the bulk
// endpoint and the CALLS consumer; `npm run bench` reports the same figures.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IN_FLIGHT_MAX_BYTES } from "../src/domain/intake/chunking";
import { CALL_CONFIG, callTenant, createCampaign, progressOf } from "./calls-fixtures";
import { type D1Counts, describeWaves, meterD1 } from "./d1-meter";
import { call, loanRecord, newTenant } from "./helpers";
import { bulkRoundTrips, consumerRoundTrips, type RoundTrips } from "./round-trips";

const db = env.DB;

/** Invariants any correct count satisfies; a counter that stopped counting breaks them. */
function expectCoherent(counts: D1Counts) {
  expect(counts.waves).toBeGreaterThanOrEqual(1);
  expect(counts.waves).toBeLessThanOrEqual(counts.calls);
  expect(counts.statements).toBeGreaterThanOrEqual(counts.calls);
}

function report(name: string, trips: RoundTrips) {
  console.log(
    `[d1] ${name}: ${trips.waves} waves, ${trips.calls} calls, ${trips.statements} statements before the answer; after it ${trips.afterAnswer?.calls ?? 0} calls\n${describeWaves(trips.trace)}`,
  );
}

describe("the D1 meter", () => {
  it("counts calls, statements and sequential waves on a real binding", async () => {
    const meter = meterD1(db);
    const one = meter.db.prepare("SELECT ?1 AS n").bind(1);
    expect(await one.first("n")).toBe(1);
    expect(meter.counts()).toEqual({ calls: 1, waves: 1, statements: 1 });

    // Three calls started together overlap: one wave. A batch is one call of several statements.
    await Promise.all([
      meter.db.prepare("SELECT 1").all(),
      meter.db.prepare("SELECT 2").raw(),
      meter.db.batch([meter.db.prepare("SELECT 3"), meter.db.prepare("SELECT ?").bind(4)]),
    ]);
    expect(meter.counts()).toEqual({ calls: 4, waves: 2, statements: 5 });

    // One after the other: a wave each. exec counts the statements of its script.
    await meter.db.prepare("CREATE TABLE IF NOT EXISTS meter_probe (n INTEGER)").run();
    await meter.db.exec("INSERT INTO meter_probe VALUES (1);\nINSERT INTO meter_probe VALUES (2)");
    const session = meter.db.withSession();
    const rows = await session.prepare("SELECT count(*) AS n FROM meter_probe").first<number>("n");
    expect(rows).toBe(2);
    expect(meter.counts()).toEqual({ calls: 7, waves: 5, statements: 9 });
    expect(meter.calls().map((c) => [c.method, c.wave])).toEqual([
      ["first", 1],
      ["all", 2],
      ["raw", 2],
      ["batch", 2],
      ["run", 3],
      ["exec", 4],
      ["first", 5],
    ]);

    meter.reset();
    expect(meter.counts()).toEqual({ calls: 0, waves: 0, statements: 0 });
    // Errors are calls too, and end their wave.
    await expect(meter.db.prepare("SELECT * FROM no_such_table").all()).rejects.toThrow();
    await meter.db.prepare("DROP TABLE meter_probe").run();
    expect(meter.counts()).toEqual({ calls: 2, waves: 2, statements: 2 });

    // A sliding window: a call started once another answered is a wave later, even though a third
    // call (held open here) is still in flight, so that the calls never all stop.
    meter.reset();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const heldBinding = {
      prepare: () => ({ all: () => held.then(() => ({ results: [], success: true, meta: {} })) }),
    } as unknown as D1Database;
    const open = meter.wrap(heldBinding).prepare("SELECT 'held'").all();
    await meter.db.prepare("SELECT 1").all();
    const refill = meter.db.prepare("SELECT 2").all();
    release();
    await Promise.all([open, refill]);
    expect(meter.calls().map((c) => c.wave)).toEqual([1, 1, 2]);
    expect(meter.counts()).toEqual({ calls: 3, waves: 2, statements: 3 });
  });
});

describe("round trips per request (printed; the bulk request with initiateCall waits on 2 waves)", () => {
  const records = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => loanRecord(i)));

  it("bulk endpoint, 10,000 records, Idempotency-Key, no initiateCall", async () => {
    const t = await newTenant();
    const trips = await bulkRoundTrips({
      auth: t.auth,
      campaignId: "emi",
      recordsJson: records,
      initiateCall: false,
      idempotencyKey: "round-trips-plain",
    });
    expect(trips.status, JSON.stringify(trips.body).slice(0, 300)).toBe(201);
    const stored = await call("GET", `/api/v1/imports/${trips.body.importId}`, undefined, t.auth);
    expect(stored.json.results).toMatchObject({ total: 10_000, successful: 10_000 });
    report("bulk 10k, Idempotency-Key", trips);
    expectCoherent(trips);
    // Nothing handed over, so no outbox batches the chunk writes could complete it by: the
    // completion has its own write.
    expect(trips.waves).toBe(3);
  });

  // Two 10,000-record requests: room for a busy machine (nothing here is timed).
  it("bulk endpoint, 10,000 records, Idempotency-Key, initiateCall: the same figures on every run", {
    timeout: 30_000,
  }, async () => {
    const t = await newTenant();
    const runs: (RoundTrips & { body: any })[] = [];
    for (const id of ["first", "second"]) {
      await createCampaign(t.auth, { id });
      const trips = await bulkRoundTrips({
        auth: t.auth,
        campaignId: id,
        recordsJson: records,
        initiateCall: true,
        idempotencyKey: `round-trips-${id}`,
      });
      expect(trips.status, JSON.stringify(trips.body).slice(0, 300)).toBe(201);
      expect(trips.body.callResults).toMatchObject({ requested: 10_000, queued: 10_000, batches: 20 });
      const progress = await progressOf(trips.body.importId, t.auth);
      expect(progress.calls.requested).toBe(10_000);
      runs.push(trips);
    }
    const [first, second] = runs as [RoundTrips & { body: any }, RoundTrips & { body: any }];
    report("bulk 10k, Idempotency-Key, initiateCall", first);
    expectCoherent(first);
    const counts = ({ calls, waves, statements }: D1Counts) => ({ calls, waves, statements });
    expect(counts(second)).toEqual(counts(first));
    // The look-ups with the import row, then the chunk writes, the last of which completes the
    // import (every record new); after the answer, one call records the sends.
    expect(first.waves).toBe(2);
    expect(first.afterAnswer).toEqual({ calls: 1, statements: 1 });
    const stored = await env.DB.prepare(
      "SELECT state, count(*) AS n FROM outbox_batches WHERE import_id = ? GROUP BY state",
    )
      .bind(first.body.importId)
      .all<{ state: string; n: number }>();
    expect(stored.results).toEqual([{ state: "sent", n: 20 }]);
    const replay = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      `{"campaignId":"first","initiateCall":true,"callConfig":${JSON.stringify(CALL_CONFIG)},"records":${records}}`,
      { ...t.auth, "Idempotency-Key": "round-trips-first" },
    );
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.json).toEqual(first.body);
  });

  // A 15 MB body of the largest records: the chunk writes are sent a window at a time (chunking.ts
  // IN_FLIGHT_MAX_BYTES), so the isolate never holds every chunk's rows and requests at once.
  it("bulk endpoint, records of 50 variables of 1,000 characters: at most IN_FLIGHT_MAX_BYTES of rows in flight, every record stored", {
    timeout: 60_000,
  }, async () => {
    const t = await newTenant();
    const wide = Array.from({ length: 300 }, (_, i) => {
      const record: Record<string, unknown> = loanRecord(i);
      for (let v = 1; v <= 50; v++)
        record[`v${String(v).padStart(2, "0")}`] = `${i}-${v}-`.padEnd(1_000, "x");
      return record;
    });
    const rowBytes = 50 * 1_000;
    let inFlight = 0;
    let mostInFlight = 0;
    let chunkWrites = 0;
    const trips = await bulkRoundTrips({
      auth: t.auth,
      campaignId: "emi",
      recordsJson: JSON.stringify(wide),
      initiateCall: false,
      async around(info, perform) {
        const chunk = info.sql[0]?.startsWith('insert into "customers"') ?? false;
        if (!chunk) return perform();
        chunkWrites++;
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await perform();
        } finally {
          inFlight--;
        }
      },
    });
    expect(trips.status, JSON.stringify(trips.body).slice(0, 300)).toBe(201);
    report("bulk 300 records of 50 KB", trips);
    // 300 rows of over 50 KB in chunks of at most 1.5 MB: 11 chunks or more, never all in flight.
    expect(chunkWrites).toBeGreaterThanOrEqual(10);
    expect(mostInFlight).toBeGreaterThanOrEqual(2);
    // Every chunk in flight but the last holds at least 25 of these rows (chunks close at 1.5 MB).
    expect(mostInFlight * 25 * rowBytes).toBeLessThanOrEqual(IN_FLIGHT_MAX_BYTES);
    expectCoherent(trips);
    // Stored whole: counted, and one record's variables read back as sent.
    const stored = await call("GET", `/api/v1/imports/${trips.body.importId}`, undefined, t.auth);
    expect(stored.json.results).toMatchObject({ total: 300, successful: 300 });
    const page = await call("GET", "/api/v1/campaigns/emi/customers?limit=500", undefined, t.auth);
    expect(page.json.data).toHaveLength(300);
    const last = page.json.data.find((c: { loan_id: string }) => c.loan_id === "LN-000299");
    expect(last.variables.v50).toBe(wide[299]?.v50);
    expect(Object.keys(last.variables)).toHaveLength(50);
  });

  it("CALLS consumer, one message of 500 customers", async () => {
    const t = await callTenant();
    const trips = await consumerRoundTrips({
      orgId: t.orgId,
      records: Array.from({ length: 500 }, (_, i) => loanRecord(i)),
    });
    expect({ acked: trips.acked, retried: trips.retried }).toEqual({ acked: 1, retried: 0 });
    const progress = await progressOf(trips.importId, t.auth);
    expect(progress.calls).toMatchObject({ requested: 500, dispatched: 500, queued: 0 });
    report("CALLS consumer, 500 customers", trips);
    expectCoherent(trips);
  });
});
