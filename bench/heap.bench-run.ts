// The heap benchmark, run in Node by `npm run bench` (project "heap" of bench/vitest.config.ts).
// workerd exposes no heap figure to the code it runs (node:v8 getHeapStatistics() and
// process.memoryUsage() answer zeros, node:inspector's Session is a stub), so the figure is read
// from outside, the way DevTools reads it: the production bundle (`wrangler deploy --dry-run`) runs
// in its own workerd with the V8 inspector open, and a CDP client samples the heap while the
// largest legal requests run. The isolate holds nothing but the Worker, so what it holds is what
// the Worker holds. See bench/README.md for what the samples can and cannot see.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { readD1Migrations } from "@cloudflare/vitest-plugin";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { loanRecords } from "./data";
import { HEAP_CAP_MIB, HEAP_TARGET_MIB, type HeapCase, type HeapResults } from "./results";

declare module "vitest" {
  interface TaskMeta {
    heap?: HeapResults;
  }
}

const root = path.resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_HEAP_RUNS ?? 3);
/** The old-generation cap of the capped runs; BENCH_HEAP_CAP_MIB finds the least a request needs. */
const CAP_MIB = Number(process.env.BENCH_HEAP_CAP_MIB ?? HEAP_CAP_MIB);
const MiB = 2 ** 20;
const ADMIN_TOKEN = "bench-admin-token";
const log = (message: string) => console.log(`[bench] ${message}`);

/** A free TCP port on the loopback interface, for the inspector. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface CdpMessage {
  id?: number;
  result?: any;
  error?: { message: string };
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function cdp(url: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let nextId = 0;
  const waiting = new Map<number, (message: CdpMessage) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as CdpMessage;
    // Events (no id) are not needed: the heap snapshot's chunks are dropped here.
    if (typeof message.id !== "number") return;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  return {
    async send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = ++nextId;
      const answer = await new Promise<CdpMessage>((resolve) => {
        waiting.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      });
      if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
      return answer.result as T;
    },
    close: () => socket.close(),
  };
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  backingStorageSize?: number;
}

/**
 * The Worker's isolate through the inspector. workerd answers Runtime.getHeapUsage at once, also
 * while a request runs. It leaves HeapProfiler.collectGarbage unanswered (collecting nothing) and
 * defers Runtime.evaluate and HeapProfiler.takeHeapSnapshot until no request is running, so a full
 * collection is only possible between requests: a heap snapshot, which V8 begins with one (its
 * chunks, about 1.5 bytes of JSON per byte of heap, arrive as events and are dropped unread).
 * V8's `gc()` would need the --expose-gc flag, and flags change the heap being measured.
 */
async function inspectIsolate(url: string) {
  const client = await cdp(url);
  return {
    usage: () => client.send<HeapUsage>("Runtime.getHeapUsage"),
    /** A full garbage collection; call it only while no request runs (it waits until then). */
    async collectGarbage(): Promise<void> {
      await client.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    },
    close: client.close,
  };
}

type Isolate = Awaited<ReturnType<typeof inspectIsolate>>;

interface Sampled {
  /** Heap in use after a full collection, just before the request. */
  baseline: number;
  /** The highest heap in use seen during the request. */
  peak: number;
  /** ArrayBuffer memory outside the heap at that sample. */
  backing: number;
  samples: number;
}

/**
 * Samples the isolate's heap while `work` runs: Runtime.getHeapUsage, asked again as soon as each
 * answer comes. workerd answers whenever the isolate is between two pieces of work (awaiting the
 * body, D1, the queue), so the samples follow the request. Heap in use includes garbage V8 has not
 * collected yet; see bench/README.md for what that means for the figure.
 */
async function sampleDuring<T>(isolate: Isolate, work: () => Promise<T>): Promise<Sampled & { result: T }> {
  await isolate.collectGarbage();
  const baseline = (await isolate.usage()).usedSize;
  const sampled: Sampled = { baseline, peak: baseline, backing: 0, samples: 0 };
  let running = true;
  const sampler = (async () => {
    while (running) {
      const u = await isolate.usage();
      sampled.samples++;
      if (u.usedSize > sampled.peak) {
        sampled.peak = u.usedSize;
        sampled.backing = u.backingStorageSize ?? 0;
      }
    }
  })();
  let result: T;
  try {
    result = await work();
  } catch (err) {
    // An isolate that ran out of heap answers no more inspector messages either: the sampler's
    // last question is left unanswered, not awaited.
    running = false;
    throw err;
  }
  running = false;
  await sampler;
  return { ...sampled, result };
}

/** The production bundle, built the way `wrangler deploy` builds it, into `outdir`. */
function buildBundle(outdir: string): string {
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const built = spawnSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (built.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}\n${built.stderr}`);
  return path.join(outdir, "index.js");
}

/** The largest body the Worker accepts (wrangler.jsonc vars). */
function maxBodyBytes(config: ReturnType<typeof unstable_readConfig>): number {
  return Number((config.vars as Record<string, string>).MAX_BODY_BYTES);
}

/** `count` variables `v01`…, each `length` characters. */
function variables(count: number, length: number, seed: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const key = `v${String(i).padStart(2, "0")}`;
    out[key] = `${key}-${seed}-`.padEnd(length, "abcdefghij");
  }
  return out;
}

/** Valid loan records without their two sample variables, each with `vars` variables of `length` characters. */
function recordsWithVariables(count: number, vars: number, length: number) {
  return loanRecords(count).map((record, i) => {
    const { branch: _b, product: _p, ...fields } = record;
    return { ...fields, ...variables(vars, length, i) };
  });
}

const VARIABLES = 50; // the most a record may carry (record-rules variablesMaxKeys)
const VALUE_MAX = 1_000; // the longest variable value (record-rules variableValueMax)

function bodyOf(campaignId: string, records: unknown[]): string {
  return JSON.stringify({ campaignId, initiateCall: true, callConfig: CALL_CONFIG, records });
}
const CALL_CONFIG = { agentId: "agent-1", dispositionId: "disp-1" };

/** The worst legal requests (all with initiateCall and an Idempotency-Key, so the answer is stored too). */
function heapCases(limit: number) {
  const utf8 = (text: string) => Buffer.byteLength(text);
  // 10,000 records x 50 variables, values as long as the size limit allows.
  const perValue = (() => {
    let length = 8;
    while (utf8(bodyOf("c", recordsWithVariables(10, VARIABLES, length + 1))) * 1_000 < limit * 0.98)
      length++;
    return length;
  })();
  // 50 variables of 1,000 characters: as many records as fit.
  const longRecords = (() => {
    const one = utf8(bodyOf("c", recordsWithVariables(1, VARIABLES, VALUE_MAX)));
    let count = Math.floor(limit / one);
    while (utf8(bodyOf("c", recordsWithVariables(count, VARIABLES, VALUE_MAX))) > limit) count--;
    return count;
  })();
  // 10,000 invalid records: a phone number too short and 50 variables that are objects, so every
  // record reports the most field errors an answer lists (10) and nothing is stored.
  const invalid = loanRecords(10_000).map((record) => {
    const broken: Record<string, unknown> = { ...record, phone_number: "12345" };
    delete broken.branch;
    delete broken.product;
    for (let i = 1; i <= VARIABLES; i++) broken[`v${String(i).padStart(2, "0")}`] = { nested: i };
    return broken;
  });
  // 50 variables whose names (100 characters, the longest allowed) differ from record to record:
  // a parsed record shares no property names with another, so each costs its own hidden classes
  // and name strings (about 32 MiB for a 20 MB body, where shared names cost 2). As many as fit.
  // With one name above U+00FF (twoByte), the body's text can no longer be held one byte per
  // character: decoded whole it is a 40 MiB string, alive while JSON.parse builds the 32 MiB. With
  // one in every name (allTwoByte), every parsed name takes two bytes a character.
  const uniqueNamed = (count: number, twoByte: "none" | "one" | "all" = "none") =>
    loanRecords(count).map((record, i) => {
      const { branch: _b, product: _p, ...fields } = record;
      const named: Record<string, unknown> = { ...fields };
      if (twoByte === "one" && i === 0) named.first_name = "Priy\u0101\u20ac";
      const mark = twoByte === "all" ? "\u0101" : "";
      for (let v = 1; v <= VARIABLES; v++) named[`${i}-${v}-${mark}`.padEnd(100, "k")] = `${v}`;
      return named;
    });
  const fitting = (make: (count: number) => unknown[], start: number) => {
    let count = start;
    while (utf8(bodyOf("c", make(count))) > limit) count -= 10;
    return count;
  };
  const uniqueCount = fitting(
    (count) => uniqueNamed(count, "one"),
    Math.min(10_000, Math.floor(limit / (utf8(bodyOf("c", uniqueNamed(100))) / 100))),
  );
  const uniqueAllCount = fitting((count) => uniqueNamed(count, "all"), uniqueCount);
  // 50 variables of 1,000 characters, each ending in a character above U+00FF: parsed, every value
  // takes two bytes a character (about 2 KB each), against one in the body.
  const twoByteValues = (count: number) =>
    recordsWithVariables(count, VARIABLES, VALUE_MAX - 1).map((record) => {
      const out: Record<string, unknown> = { ...record };
      for (const key of Object.keys(out)) if (/^v\d\d$/.test(key)) out[key] = `${out[key]}\u0101`;
      return out;
    });
  const longTwoByteCount = (() => {
    let count = longRecords;
    while (utf8(bodyOf("c", twoByteValues(count))) > limit) count--;
    return count;
  })();
  return [
    {
      name: "records_10k_vars_50",
      records: 10_000,
      make: (campaignId: string) => bodyOf(campaignId, recordsWithVariables(10_000, VARIABLES, perValue)),
      status: 201,
    },
    {
      name: "records_at_limit_vars_50_1000",
      records: longRecords,
      make: (campaignId: string) =>
        bodyOf(campaignId, recordsWithVariables(longRecords, VARIABLES, VALUE_MAX)),
      status: 201,
    },
    {
      name: "invalid_10k",
      records: 10_000,
      make: (campaignId: string) => bodyOf(campaignId, invalid),
      status: 400,
    },
    {
      name: "records_unique_names_vars_50",
      records: uniqueCount,
      make: (campaignId: string) => bodyOf(campaignId, uniqueNamed(uniqueCount)),
      status: 201,
    },
    {
      name: "records_unique_names_two_byte",
      records: uniqueCount,
      make: (campaignId: string) => bodyOf(campaignId, uniqueNamed(uniqueCount, "one")),
      status: 201,
    },
    {
      name: "records_unique_names_all_two_byte",
      records: uniqueAllCount,
      make: (campaignId: string) => bodyOf(campaignId, uniqueNamed(uniqueAllCount, "all")),
      status: 201,
    },
    {
      name: "records_at_limit_two_byte",
      records: longTwoByteCount,
      make: (campaignId: string) => bodyOf(campaignId, twoByteValues(longTwoByteCount)),
      status: 201,
    },
  ];
}

/** A Worker started for one heap case: its API, an org's key, and its isolate's inspector. */
interface Started {
  call(
    method: string,
    url: string,
    body?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string; json(): any }>;
  auth: Record<string, string>;
  isolate: Isolate;
  dispose(): Promise<void>;
}

/**
 * Starts the bundle in its own workerd, with V8's old generation capped at `capMib` when given
 * (MINIFLARE_WORKERD_V8_FLAGS, which Miniflare reads when it starts workerd), applies the
 * migrations and creates an organization with an API key, an agent and a disposition.
 */
async function startWorker(
  config: ReturnType<typeof unstable_readConfig>,
  outdir: string,
  script: string,
  capMib: number | undefined,
): Promise<Started> {
  const inspectorPort = await freePort();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const name = config.name as string;
  const flags = process.env.MINIFLARE_WORKERD_V8_FLAGS;
  if (capMib === undefined) delete process.env.MINIFLARE_WORKERD_V8_FLAGS;
  else process.env.MINIFLARE_WORKERD_V8_FLAGS = `--max-old-space-size=${capMib}`;
  let mf: Miniflare;
  try {
    mf = new Miniflare(
      convertV4MiniflareOptions({
        inspectorPort,
        workers: [
          {
            ...(workerOptions as Record<string, unknown>),
            name,
            // Module paths must lie under rootPath.
            rootPath: outdir,
            modules: [{ type: "ESModule", path: script }],
            bindings: { ...(workerOptions.bindings as Record<string, unknown>), ADMIN_TOKEN },
          },
        ],
      } as Parameters<typeof convertV4MiniflareOptions>[0]),
    );
    await mf.ready;
  } finally {
    if (flags === undefined) delete process.env.MINIFLARE_WORKERD_V8_FLAGS;
    else process.env.MINIFLARE_WORKERD_V8_FLAGS = flags;
  }
  const db = await mf.getD1Database("DB");
  for (const migration of await readD1Migrations(path.join(root, "migrations"))) {
    await db.batch(migration.queries.map((q) => db.prepare(q)));
  }
  const call: Started["call"] = async (method, url, body, headers = {}) => {
    const response = await mf.dispatchFetch(`http://bulkcall.heap${url}`, {
      method,
      headers: { "Content-Type": "application/json", ...headers },
      ...(body === undefined ? {} : { body }),
      // An isolate out of heap never answers; its request must not wait for the phase's timeout.
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) };
  };
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const org = (await call("POST", "/admin/v1/organizations", '{"name":"Heap"}', admin)).json();
  const key = (
    await call("POST", `/admin/v1/organizations/${org.id}/api-keys`, '{"name":"heap"}', admin)
  ).json();
  const auth = { Authorization: `Bearer ${key.key}` };
  await call("POST", "/api/v1/agents", '{"id":"agent-1","name":"Priya"}', auth);
  await call("POST", "/api/v1/dispositions", '{"id":"disp-1","name":"Collections"}', auth);

  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.id === `core:user:${name}`);
  if (!target) throw new Error(`no inspector target for ${name}: ${targets.map((t) => t.id).join(", ")}`);
  const isolate = await inspectIsolate(target.webSocketDebuggerUrl);
  return {
    call,
    auth,
    isolate,
    async dispose() {
      isolate.close();
      await mf.dispose();
    },
  };
}

/** How long one heap case's request may take before its isolate is taken to have run out of heap. */
const REQUEST_TIMEOUT_MS = 60_000;

type HeapRun = Sampled & { completed: boolean };

/**
 * Runs one case RUNS times in a fresh workerd (capped or not) and returns every run; a run whose
 * request does not answer (the isolate ran out of heap) ends the series as not completed. What is
 * stored is read back, so a request that failed cannot pass as a small one.
 */
async function runCase(
  started: Started,
  c: ReturnType<typeof heapCases>[number],
  label: string,
): Promise<{ runs: HeapRun[]; bodyBytes: number }> {
  const { call, auth, isolate } = started;
  const runs: HeapRun[] = [];
  let bodyBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const campaignId = `heap-${run + 1}`;
    const created = await call(
      "POST",
      "/api/v1/campaigns",
      JSON.stringify({ id: campaignId, name: campaignId, campaignType: "emi" }),
      auth,
    );
    expect(created.status, created.text).toBe(201);
    const body = c.make(campaignId);
    bodyBytes = Buffer.byteLength(body);
    let sampled: Sampled & { result: Awaited<ReturnType<Started["call"]>> | undefined };
    try {
      sampled = await sampleDuring(isolate, () =>
        call("POST", "/api/v1/customers/add/bulk", body, {
          ...auth,
          "Idempotency-Key": `heap-${campaignId}`,
        }),
      );
    } catch (err) {
      log(`heap ${c.name} ${label} run ${run + 1}/${RUNS}: no answer (${String(err).slice(0, 120)})`);
      runs.push({ baseline: 0, peak: 0, backing: 0, samples: 0, completed: false });
      break;
    }
    const answer = sampled.result as Awaited<ReturnType<Started["call"]>>;
    expect(answer.status, answer.text.slice(0, 300)).toBe(c.status);
    const stored = (await call("GET", `/api/v1/imports/${answer.json().importId}`, undefined, auth)).json();
    expect(stored.results).toMatchObject(
      c.status === 201 ? { total: c.records, successful: c.records } : { total: c.records, successful: 0 },
    );
    if (c.status === 400) expect(answer.json().results.errors).toHaveLength(c.records);
    runs.push({ ...sampled, completed: true });
    log(
      `heap ${c.name} ${label} run ${run + 1}/${RUNS}: peak ${mib(sampled.peak)} MiB, ${mib(sampled.baseline)} MiB before; ${sampled.samples} samples`,
    );
  }
  return { runs, bodyBytes };
}

const highest = (runs: readonly HeapRun[]) => runs.reduce((a, b) => (b.peak > a.peak ? b : a));

it("measures the peak JS heap of the largest requests", { timeout: 30 * 60_000 }, async ({ task }) => {
  const config = unstable_readConfig({ config: path.join(root, "wrangler.jsonc") });
  // No consumers: the hand-off's messages must not be worked through in the measured isolate.
  config.queues.consumers = [];
  const limit = maxBodyBytes(config);
  const outdir = mkdtempSync(path.join(os.tmpdir(), "bulkcall-heap-"));
  try {
    log("heap: building the production bundle");
    const script = buildBundle(outdir);
    const results: Record<string, HeapCase> = {};
    const only = process.env.BENCH_HEAP_CASES?.split(",");
    for (const c of heapCases(limit).filter((c) => !only || only.includes(c.name))) {
      // Each case twice, each time in its own workerd: as V8 runs by default (it lets garbage pile
      // up while the heap may grow), and with the old generation capped so that V8 must collect as
      // it goes, as it does near an isolate's limit: the request must still complete there.
      const measured: Record<"uncapped" | "capped", { runs: HeapRun[]; bodyBytes: number }> = {
        uncapped: { runs: [], bodyBytes: 0 },
        capped: { runs: [], bodyBytes: 0 },
      };
      for (const mode of ["uncapped", "capped"] as const) {
        const started = await startWorker(config, outdir, script, mode === "capped" ? CAP_MIB : undefined);
        try {
          measured[mode] = await runCase(
            started,
            c,
            mode === "capped" ? `capped at ${CAP_MIB} MiB` : "uncapped",
          );
        } finally {
          await started.dispose();
        }
        expect(measured[mode].bodyBytes).toBeLessThanOrEqual(limit);
      }
      const capped = measured.capped.runs;
      const uncapped = measured.uncapped.runs;
      const completed = capped.length === RUNS && capped.every((r) => r.completed);
      const worst = highest(capped);
      results[c.name] = {
        records: c.records,
        body_mib: round1(measured.capped.bodyBytes / MiB),
        status: c.status,
        completed_under_cap: completed,
        baseline_mib: round1(worst.baseline / MiB),
        peak_mib: completed ? round1(worst.peak / MiB) : null,
        backing_store_mib: round1(worst.backing / MiB),
        samples: worst.samples,
        runs_mib: capped.filter((r) => r.completed).map((r) => round1(r.peak / MiB)),
        uncapped_peak_mib: round1(highest(uncapped).peak / MiB),
        uncapped_runs_mib: uncapped.filter((r) => r.completed).map((r) => round1(r.peak / MiB)),
      };
    }
    task.meta.heap = { runs: RUNS, cases: results, target_mib: HEAP_TARGET_MIB, cap_mib: CAP_MIB };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});

const round1 = (n: number) => Math.round(n * 10) / 10;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
