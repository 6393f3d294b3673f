// The ingest benchmark, run inside workerd on local D1 by `npm run bench` (project "ingest" of
// bench/vitest.config.ts). Every sample is a request through the Worker's fetch, timed from building
// the request to reading the last byte of the answer; all cases run on the same generated records,
// interleaved round by round in a shuffled order, after warm-up rounds. The `_rtt` cases add a fixed
// delay to every D1 call (bench/d1-latency.ts). Before the rounds, the D1 round trips of the main
// requests are counted (test/round-trips.ts). Results go to the reporter (bench/reporter.ts) through
// the test's meta. bench/README.md says what each case is.
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { MAX_FIELD_ERRORS } from "../src/domain/intake/judge-records";
import type { AppEnv } from "../src/env";
import { callTenant } from "../test/calls-fixtures";
import { type D1Counts, meterD1 } from "../test/d1-meter";
import { call, newTenant } from "../test/helpers";
import { bulkRoundTrips, consumerRoundTrips } from "../test/round-trips";
import { loanRecords, mixedRecords, prng, refreshRecords, seededKeys, wideRecord } from "./data";
import {
  type CaseResult,
  type IngestResults,
  met,
  RATIO_TARGETS,
  type RatioName,
  type RatioSpread,
  type RoundTripResult,
} from "./results";
import benchWorker, { RTT_HEADER } from "./worker";

declare module "vitest" {
  interface TaskMeta {
    bench?: IngestResults;
  }
}

const benchEnv = env as unknown as {
  DB: D1Database;
  BENCH_WARMUP?: string;
  BENCH_REPS?: string;
  BENCH_CASES?: string;
};
const WARMUP = Number(benchEnv.BENCH_WARMUP ?? 2);
const REPS = Number(benchEnv.BENCH_REPS ?? 15);
/**
 * BENCH_CASES=floor_10k,bulkcall_10k runs only the cases named, for a quick comparison of two
 * versions of the code; the ratios between cases not both run are left out. Such a run is partial,
 * so the reporter leaves results.json alone (it also needs the other phases).
 */
const ONLY = benchEnv.BENCH_CASES ? new Set(benchEnv.BENCH_CASES.split(",").map((c) => c.trim())) : undefined;
const selected = (name: string) => ONLY === undefined || ONLY.has(name);
const GROWTH_PRIOR_REQUESTS = 49;
/** Requests per sample of the 1,000-record cases on local D1. */
const SMALL_PER_SAMPLE = 5;
/** Requests per sample of the wide-record cases: the 10,000-key one takes a few milliseconds. */
const WIDE_PER_SAMPLE = 5;
/** Simulated round trips to D1, in ms: a Worker in the next region and one on another continent. */
const RTTS = [10, 30] as const;

const worker = (exports as unknown as { default: Fetcher }).default;
const log = (message: string) => console.log(`[bench] ${message}`);

interface Timed {
  ms: number;
  status: number;
  text: string;
}

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
  rttMs = 0,
): Promise<Timed> {
  const started = performance.now();
  const response = await worker.fetch(
    new Request(`http://bulkcall.bench${path}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...headers,
        ...(rttMs > 0 ? { [RTT_HEADER]: String(rttMs) } : {}),
      },
      body,
    }),
  );
  const text = await response.text();
  return { ms: performance.now() - started, status: response.status, text };
}

type Tenant = Awaited<ReturnType<typeof newTenant>>;

let campaignCounter = 0;
async function newCampaign(tenant: Tenant): Promise<{ id: string; pk: number }> {
  const id = `bench-${++campaignCounter}`;
  const created = await call("POST", "/api/v1/campaigns", { id, name: id, campaignType: "emi" }, tenant.auth);
  if (created.status !== 201) throw new Error(`campaign setup failed: ${created.text}`);
  const pk = await benchEnv.DB.prepare("SELECT pk FROM campaigns WHERE organization_id = ? AND id = ?")
    .bind(tenant.orgId, id)
    .first<number>("pk");
  if (pk === null) throw new Error("campaign row not found");
  return { id, pk };
}

/** The bulk request body, built around records already serialized once. */
function bulkBody(
  campaignId: string,
  recordsJson: string,
  initiateCall = true,
  onExisting?: "update",
): string {
  const refresh = onExisting ? `"onExisting":"${onExisting}",` : "";
  const envelope = initiateCall
    ? `{"campaignId":${JSON.stringify(campaignId)},${refresh}"initiateCall":true,"callConfig":{"agentId":"agent-1","dispositionId":"disp-1"},"records":`
    : `{"campaignId":${JSON.stringify(campaignId)},${refresh}"records":`;
  return `${envelope}${recordsJson}}`;
}

async function clearCampaign(pk: number): Promise<void> {
  await benchEnv.DB.prepare("DELETE FROM customers WHERE campaign_pk = ?").bind(pk).run();
}

interface BulkAnswer {
  importId: string;
  results: {
    total: number;
    successful: number;
    invalid: number;
    failed: number;
    added?: number;
    updated?: number;
    unchanged?: number;
    errors: { code: string }[];
  };
  callResults?: { queued: number };
}

function expectBulk(
  timed: Timed,
  status: number,
  successful: number,
  total: number,
  calls = true,
): BulkAnswer {
  expect(timed.status, timed.text.slice(0, 500)).toBe(status);
  const answer = JSON.parse(timed.text) as BulkAnswer;
  expect(answer.results.total).toBe(total);
  expect(answer.results.successful).toBe(successful);
  expect(answer.callResults?.queued).toBe(calls ? successful : undefined);
  return answer;
}

interface Case {
  name: string;
  records: number;
  /** Requests whose mean time is one sample (1 unless stated). */
  perSample?: number;
  /** Delay added to every D1 call, ms (0 unless stated). */
  rttMs?: number;
  /** Runs one timed repetition and checks its answer; returns the milliseconds. */
  once(): Promise<number>;
}

it("measures the ingest path", { timeout: 60 * 60_000 }, async ({ task }) => {
  const records10k = loanRecords(10_000);
  const records1k = records10k.slice(0, 1_000);
  const seeded = seededKeys(500);
  const mixed = mixedRecords(records10k, seeded);
  const json10k = JSON.stringify(records10k);
  const json1k = JSON.stringify(records1k);
  const jsonMixed = JSON.stringify(mixed);
  const jsonSeeded = JSON.stringify(
    records10k.slice(0, seeded.length).map((r, i) => ({ ...r, loan_id: seeded[i] })),
  );
  const mixedAdded = mixed.length - 3_000 - 1_000;
  const refresh = refreshRecords(records10k);
  const jsonRefreshHeld = JSON.stringify(records10k.slice(0, 5_000));
  const jsonRefresh = JSON.stringify(refresh.file);
  const jsonWide10k = JSON.stringify([wideRecord(10_000)]);
  const jsonWide80k = JSON.stringify([wideRecord(80_000)]);

  const tenant = await newTenant();
  const clients = [tenant, await newTenant(), await newTenant(), await newTenant()];

  // The bench config runs no queue consumers: check it, since a consumer working through the
  // hand-off's messages in the same isolate would distort every timing after it.
  {
    const campaign = await newCampaign(tenant);
    const answer = expectBulk(
      await post("/api/v1/customers/add/bulk", bulkBody(campaign.id, json1k), tenant.auth),
      201,
      1_000,
      1_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const untouched = await benchEnv.DB.prepare(
      "SELECT count(*) AS n FROM outbox_batches WHERE import_id = ? AND state = 'sent'",
    )
      .bind(answer.importId)
      .first<number>("n");
    expect(untouched, "a queue consumer picked up the hand-off; the bench config must have none").toBe(2);
    await clearCampaign(campaign.pk);
  }

  // D1 round trips of the main requests, counted once (they do not vary from run to run).
  const roundTrips: Record<string, RoundTripResult> = {};
  {
    const counted = (name: string, counts: D1Counts) => {
      roundTrips[name] = { waves: counts.waves, calls: counts.calls, statements: counts.statements };
      log(
        `round trips ${name}: ${counts.waves} waves, ${counts.calls} calls, ${counts.statements} statements`,
      );
    };
    const campaign = await newCampaign(tenant);
    const meter = meterD1(benchEnv.DB);
    const floor = await benchWorker.fetch(
      new Request(`http://bulkcall.bench/__bench/floor?campaignPk=${campaign.pk}`, {
        method: "POST",
        body: `{"campaignId":"${campaign.id}","records":${json10k}}`,
      }),
      { ...(env as unknown as AppEnv), DB: meter.db },
      createExecutionContext(),
    );
    expect(floor.status).toBe(201);
    counted("floor_10k", meter.counts());
    await clearCampaign(campaign.pk);
    const variants = [
      ["bulkcall_10k", json10k, true, undefined],
      ["bulkcall_1k", json1k, true, undefined],
      ["bulk_10k_key", json10k, false, "round-trips-plain"],
      ["bulk_10k_key_initiatecall", json10k, true, "round-trips-calls"],
    ] as const;
    for (const [name, recordsJson, initiateCall, idempotencyKey] of variants) {
      const c = await newCampaign(tenant);
      const trips = await bulkRoundTrips({
        auth: tenant.auth,
        campaignId: c.id,
        recordsJson,
        initiateCall,
        idempotencyKey,
      });
      expect(trips.status, JSON.stringify(trips.body).slice(0, 300)).toBe(201);
      counted(name, trips);
      await clearCampaign(c.pk);
    }
    const callers = await callTenant();
    counted(
      "consumer_500",
      await consumerRoundTrips({ orgId: callers.orgId, records: loanRecords(500, 99, "RT") }),
    );
  }

  /**
   * One request per sample, or for the 1,000-record cases the mean of several back to back: the
   * clock inside workerd moves in whole milliseconds, too coarse for a 20 ms request on its own.
   */
  const requestCase = (
    name: string,
    records: number,
    perSample: number,
    rttMs: number,
    prepare: () => Promise<{
      path: string;
      body: string;
      headers?: Record<string, string>;
      check(t: Timed): void;
      pk: number;
    }>,
  ): Case => ({
    name,
    records,
    perSample,
    rttMs,
    async once() {
      const prepared = [];
      for (let i = 0; i < perSample; i++) prepared.push(await prepare());
      const answers: Timed[] = [];
      const started = performance.now();
      for (const p of prepared) answers.push(await post(p.path, p.body, p.headers, rttMs));
      const ms = (performance.now() - started) / perSample;
      for (const [i, p] of prepared.entries()) p.check(answers[i] as Timed);
      for (const p of prepared) await clearCampaign(p.pk);
      return ms;
    },
  });
  const storedAll = (count: number) => (timed: Timed) => {
    expect(timed.status, timed.text.slice(0, 500)).toBe(201);
    expect(JSON.parse(timed.text).inserted).toBe(count);
  };
  const floorCase = (name: string, json: string, count: number, perSample: number, rttMs = 0) =>
    requestCase(name, count, perSample, rttMs, async () => {
      const campaign = await newCampaign(tenant);
      const body = `{"campaignId":"${campaign.id}","records":${json}}`;
      return {
        path: `/__bench/floor?campaignPk=${campaign.pk}`,
        body,
        check: storedAll(count),
        pk: campaign.pk,
      };
    });
  const bulkCase = (name: string, json: string, count: number, perSample: number, rttMs = 0) =>
    requestCase(name, count, perSample, rttMs, async () => {
      const campaign = await newCampaign(tenant);
      return {
        path: "/api/v1/customers/add/bulk",
        body: bulkBody(campaign.id, json),
        headers: tenant.auth,
        check: (timed) => expectBulk(timed, 201, count, count),
        pk: campaign.pk,
      };
    });
  const otherCase = (name: string, path: string, json: string, count: number, perSample: number) =>
    requestCase(name, count, perSample, 0, async () => {
      const campaign = await newCampaign(tenant);
      const body = `{"campaignId":"${campaign.id}","records":${json}}`;
      return { path: `${path}?campaignPk=${campaign.pk}`, body, check: storedAll(count), pk: campaign.pk };
    });

  // One record whose extra keys are all refused: the answer is a 400 naming the first
  // MAX_FIELD_ERRORS of them and counting the rest, and nothing is stored.
  const wideCase = (name: string, json: string, extraKeys: number) =>
    requestCase(name, 1, WIDE_PER_SAMPLE, 0, async () => {
      const campaign = await newCampaign(tenant);
      return {
        path: "/api/v1/customers/add/bulk",
        body: bulkBody(campaign.id, json, false),
        headers: tenant.auth,
        check: (timed) => {
          const answer = expectBulk(timed, 400, 0, 1, false);
          const error = answer.results.errors[0] as { code: string; message: string; fields: unknown[] };
          expect(error.code).toBe("invalid_record");
          expect(error.fields).toHaveLength(MAX_FIELD_ERRORS);
          expect(error.message).toMatch(new RegExp(` and ${extraKeys - MAX_FIELD_ERRORS} more$`));
        },
        pk: campaign.pk,
      };
    });

  // growth: one campaign that already holds 49 requests' worth (490,000 customers). Each measured
  // request is the 50th; what it added is removed afterwards so the next repetition is the 50th too.
  const growthCampaign = await newCampaign(tenant);
  const growthPrior = selected("growth_50th") ? GROWTH_PRIOR_REQUESTS : 0;
  if (growthPrior > 0) log(`growth: storing ${growthPrior} x 10,000 records first`);
  for (let i = 0; i < growthPrior; i++) {
    const prior = JSON.stringify(loanRecords(10_000, 1_000 + i, `G${i}`));
    expectBulk(
      await post("/api/v1/customers/add/bulk", bulkBody(growthCampaign.id, prior), tenant.auth),
      201,
      10_000,
      10_000,
    );
  }
  const stored = await benchEnv.DB.prepare("SELECT count(*) AS n FROM customers WHERE campaign_pk = ?")
    .bind(growthCampaign.pk)
    .first<number>("n");
  expect(stored).toBe(growthPrior * 10_000);

  const allCases: Case[] = [
    floorCase("floor_10k", json10k, 10_000, 1),
    floorCase("floor_1k", json1k, 1_000, SMALL_PER_SAMPLE),
    bulkCase("bulkcall_10k", json10k, 10_000, 1),
    bulkCase("bulkcall_1k", json1k, 1_000, SMALL_PER_SAMPLE),
    otherCase("naive_10k", "/__bench/naive", json10k, 10_000, 1),
    otherCase("naive_1k", "/__bench/naive", json1k, 1_000, SMALL_PER_SAMPLE),
    otherCase("row_by_row_10k", "/__bench/row_by_row", json10k, 10_000, 1),
    otherCase("row_by_row_1k", "/__bench/row_by_row", json1k, 1_000, SMALL_PER_SAMPLE),
    // A far D1: each sample is one request, long enough (≥ 25 ms) for the whole-millisecond clock.
    ...RTTS.flatMap((rtt) => [
      floorCase(`floor_10k_rtt${rtt}`, json10k, 10_000, 1, rtt),
      floorCase(`floor_1k_rtt${rtt}`, json1k, 1_000, 1, rtt),
      bulkCase(`bulkcall_10k_rtt${rtt}`, json10k, 10_000, 1, rtt),
      bulkCase(`bulkcall_1k_rtt${rtt}`, json1k, 1_000, 1, rtt),
    ]),
    wideCase("wide_record_10k", jsonWide10k, 10_000),
    wideCase("wide_record_80k", jsonWide80k, 80_000),
    {
      name: "mixed_10k",
      records: 10_000,
      async once() {
        const campaign = await newCampaign(tenant);
        expectBulk(
          await post("/api/v1/customers/add/bulk", bulkBody(campaign.id, jsonSeeded, false), tenant.auth),
          201,
          500,
          500,
          false,
        );
        const timed = await post("/api/v1/customers/add/bulk", bulkBody(campaign.id, jsonMixed), tenant.auth);
        const answer = expectBulk(timed, 207, mixedAdded, 10_000);
        expect(answer.results.invalid).toBe(3_000 + 500);
        expect(answer.results.errors.filter((e) => e.code === "duplicate_existing")).toHaveLength(500);
        await clearCampaign(campaign.pk);
        return timed.ms;
      },
    },
    {
      // The daily file of a loan-management system over the campaign that holds yesterday's 5,000
      // loans (stored untimed first), with initiateCall like bulkcall_10k.
      name: "refresh_10k",
      records: 10_000,
      async once() {
        const campaign = await newCampaign(tenant);
        expectBulk(
          await post(
            "/api/v1/customers/add/bulk",
            bulkBody(campaign.id, jsonRefreshHeld, false),
            tenant.auth,
          ),
          201,
          5_000,
          5_000,
          false,
        );
        const timed = await post(
          "/api/v1/customers/add/bulk",
          bulkBody(campaign.id, jsonRefresh, true, "update"),
          tenant.auth,
        );
        expect(timed.status, timed.text.slice(0, 500)).toBe(201);
        const answer = JSON.parse(timed.text) as BulkAnswer;
        expect(answer.results).toMatchObject({
          successful: 10_000,
          added: 5_000,
          updated: 4_000,
          unchanged: 1_000,
        });
        expect(answer.callResults?.queued).toBe(refresh.handedOver);
        await clearCampaign(campaign.pk);
        return timed.ms;
      },
    },
    {
      name: "growth_1st",
      records: 10_000,
      async once() {
        const campaign = await newCampaign(tenant);
        const timed = await post("/api/v1/customers/add/bulk", bulkBody(campaign.id, json10k), tenant.auth);
        expectBulk(timed, 201, 10_000, 10_000);
        await clearCampaign(campaign.pk);
        return timed.ms;
      },
    },
    {
      name: "growth_50th",
      records: 10_000,
      async once() {
        const timed = await post(
          "/api/v1/customers/add/bulk",
          bulkBody(growthCampaign.id, json10k),
          tenant.auth,
        );
        const answer = expectBulk(timed, 201, 10_000, 10_000);
        await benchEnv.DB.prepare("DELETE FROM customers WHERE campaign_pk = ? AND import_id = ?")
          .bind(growthCampaign.pk, answer.importId)
          .run();
        return timed.ms;
      },
    },
    {
      name: "concurrent_4x10k",
      records: 40_000,
      async once() {
        const campaigns = await Promise.all(clients.map((c) => newCampaign(c)));
        const bodies = campaigns.map((c) => bulkBody(c.id, json10k));
        const started = performance.now();
        const answers = await Promise.all(
          clients.map((c, i) => post("/api/v1/customers/add/bulk", bodies[i] as string, c.auth)),
        );
        const ms = performance.now() - started;
        for (const answer of answers) expectBulk(answer, 201, 10_000, 10_000);
        for (const c of campaigns) await clearCampaign(c.pk);
        return ms;
      },
    },
  ];
  const cases = allCases.filter((c) => selected(c.name));
  if (cases.length === 0)
    throw new Error(`BENCH_CASES names no case; the cases: ${allCases.map((c) => c.name)}`);

  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const shuffle = prng(7);
  for (let round = 0; round < WARMUP + REPS; round++) {
    const measured = round >= WARMUP;
    // A fresh order every round (seeded, so runs are comparable): no case always follows the same
    // neighbour or pays for the same point of the database's write cycle.
    const order = [...cases];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j] as Case, order[i] as Case];
    }
    const line: string[] = [];
    for (const c of order) {
      const ms = await c.once();
      if (measured) samples.get(c.name)?.push(ms);
      line.push(`${c.name}=${ms.toFixed(0)}`);
    }
    log(
      `${measured ? `round ${round - WARMUP + 1}/${REPS}` : `warm-up ${round + 1}/${WARMUP}`}: ${line.join(" ")}`,
    );
  }

  const results: Record<string, CaseResult> = {};
  for (const c of cases) {
    const inOrder = samples.get(c.name) ?? [];
    const median = quantile(inOrder, 0.5);
    const sorted = [...inOrder].sort((a, b) => a - b);
    results[c.name] = {
      records: c.records,
      requests_per_sample: c.perSample ?? 1,
      d1_rtt_ms: c.rttMs ?? 0,
      median_ms: round1(median),
      min_ms: round1(sorted[0] as number),
      max_ms: round1(sorted[sorted.length - 1] as number),
      records_per_s: Math.round(c.records / (median / 1000)),
      samples_ms: inOrder.map(round1),
    };
  }

  // Each ratio as the ratio of the two cases' medians, and round by round (both cases ran in the
  // same round, minutes apart at most), whose spread says how far the medians' ratio can be trusted.
  const ratioOf: Record<RatioName, [string, string, (a: number, b: number) => number]> = {
    bulkcall_over_floor_10k: ["bulkcall_10k", "floor_10k", divide],
    bulkcall_over_floor_1k: ["bulkcall_1k", "floor_1k", divide],
    bulkcall_over_floor_10k_rtt10: ["bulkcall_10k_rtt10", "floor_10k_rtt10", divide],
    bulkcall_over_floor_1k_rtt10: ["bulkcall_1k_rtt10", "floor_1k_rtt10", divide],
    bulkcall_over_floor_10k_rtt30: ["bulkcall_10k_rtt30", "floor_10k_rtt30", divide],
    bulkcall_over_floor_1k_rtt30: ["bulkcall_1k_rtt30", "floor_1k_rtt30", divide],
    naive_over_bulkcall_10k: ["naive_10k", "bulkcall_10k", divide],
    row_by_row_over_bulkcall_10k: ["row_by_row_10k", "bulkcall_10k", divide],
    mixed_over_bulkcall_10k: ["mixed_10k", "bulkcall_10k", divide],
    growth_50th_over_1st: ["growth_50th", "growth_1st", divide],
    // Records per second with four clients over records per second with one.
    concurrent_over_single_throughput: ["concurrent_4x10k", "bulkcall_10k", (four, one) => (4 * one) / four],
    refresh_over_bulkcall_10k: ["refresh_10k", "bulkcall_10k", divide],
    wide_record_80k_over_10k: ["wide_record_80k", "wide_record_10k", divide],
  };
  const ratios = {} as Record<RatioName, number>;
  const spread = {} as Record<RatioName, RatioSpread>;
  for (const [name, [a, b, f]] of Object.entries(ratioOf) as [RatioName, (typeof ratioOf)[RatioName]][]) {
    if (!results[a] || !results[b]) continue;
    ratios[name] = round3(f((results[a] as CaseResult).median_ms, (results[b] as CaseResult).median_ms));
    const as = samples.get(a) ?? [];
    const bs = samples.get(b) ?? [];
    const perRound = as.map((x, i) => f(x, bs[i] as number));
    spread[name] = {
      min: round3(Math.min(...perRound)),
      p25: round3(quantile(perRound, 0.25)),
      p75: round3(quantile(perRound, 0.75)),
      max: round3(Math.max(...perRound)),
    };
  }
  const targets = Object.fromEntries(
    Object.entries(RATIO_TARGETS)
      .filter(([name]) => ratios[name as RatioName] !== undefined)
      .map(([name, target]) => [name, { ...target, met: met(target, ratios[name as RatioName]) }]),
  );
  task.meta.bench = {
    warmup: WARMUP,
    repetitions: REPS,
    cases: results,
    ratios,
    ratio_spread: spread,
    targets,
    round_trips: roundTrips,
  };
});

const divide = (a: number, b: number) => a / b;

/** The q-quantile of the values, interpolating between neighbours (q = 0.5: the median). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const round1 = (n: number) => Math.round(n * 10) / 10;
