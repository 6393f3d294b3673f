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
import { HEAP_TARGET_MIB, type HeapCase, type HeapResults } from "./results";

declare module "vitest" {
  interface TaskMeta {
    heap?: HeapResults;
  }
}

const root = path.resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_HEAP_RUNS ?? 3);
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
  } finally {
    running = false;
    await sampler;
  }
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
  ];
}

it("measures the peak JS heap of the largest requests", { timeout: 30 * 60_000 }, async ({ task }) => {
  const config = unstable_readConfig({ config: path.join(root, "wrangler.jsonc") });
  // No consumers: the hand-off's messages must not be worked through in the measured isolate.
  config.queues.consumers = [];
  const limit = maxBodyBytes(config);
  const outdir = mkdtempSync(path.join(os.tmpdir(), "bulkcall-heap-"));
  const inspectorPort = await freePort();
  let mf: Miniflare | undefined;
  let isolate: Isolate | undefined;
  try {
    log("heap: building the production bundle");
    const script = buildBundle(outdir);
    const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
    const name = config.name as string;
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
    log(`heap: workerd started, inspector on port ${inspectorPort}`);

    const db = await mf.getD1Database("DB");
    for (const migration of await readD1Migrations(path.join(root, "migrations"))) {
      await db.batch(migration.queries.map((q) => db.prepare(q)));
    }
    log("heap: migrations applied");
    const call = async (method: string, url: string, body?: string, headers: Record<string, string> = {}) => {
      const response = await mf!.dispatchFetch(`http://bulkcall.heap${url}`, {
        method,
        headers: { "Content-Type": "application/json", ...headers },
        ...(body === undefined ? {} : { body }),
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
    isolate = await inspectIsolate(target.webSocketDebuggerUrl);

    const cases = heapCases(limit);
    const results: Record<string, HeapCase> = {};
    let campaigns = 0;
    for (const c of cases) {
      const runs: Sampled[] = [];
      let bodyBytes = 0;
      for (let run = 0; run < RUNS; run++) {
        const campaignId = `heap-${++campaigns}`;
        const created = await call(
          "POST",
          "/api/v1/campaigns",
          JSON.stringify({ id: campaignId, name: campaignId, campaignType: "emi" }),
          auth,
        );
        expect(created.status, created.text).toBe(201);
        const body = c.make(campaignId);
        bodyBytes = Buffer.byteLength(body);
        expect(bodyBytes).toBeLessThanOrEqual(limit);

        const sampled = await sampleDuring(isolate, () =>
          call("POST", "/api/v1/customers/add/bulk", body, {
            ...auth,
            "Idempotency-Key": `heap-${campaignId}`,
          }),
        );
        const answer = sampled.result;
        expect(answer.status, answer.text.slice(0, 300)).toBe(c.status);
        // What was stored, read back: every valid record added, the invalid ones all reported.
        const stored = (
          await call("GET", `/api/v1/imports/${answer.json().importId}`, undefined, auth)
        ).json();
        expect(stored.results).toMatchObject(
          c.status === 201
            ? { total: c.records, successful: c.records }
            : { total: c.records, successful: 0 },
        );
        if (c.status === 400) expect(answer.json().results.errors).toHaveLength(c.records);
        runs.push(sampled);
        log(
          `heap ${c.name} run ${run + 1}/${RUNS}: peak ${mib(sampled.peak)} MiB, ${mib(sampled.baseline)} MiB before; ${sampled.samples} samples`,
        );
      }
      const worst = runs.reduce((a, b) => (b.peak > a.peak ? b : a));
      results[c.name] = {
        records: c.records,
        body_mib: round1(bodyBytes / MiB),
        status: c.status,
        baseline_mib: round1(worst.baseline / MiB),
        peak_mib: round1(worst.peak / MiB),
        backing_store_mib: round1(worst.backing / MiB),
        samples: worst.samples,
        runs_mib: runs.map((r) => round1(r.peak / MiB)),
      };
    }
    task.meta.heap = { runs: RUNS, cases: results, target_mib: HEAP_TARGET_MIB };
  } finally {
    isolate?.close();
    await mf?.dispose();
    rmSync(outdir, { recursive: true, force: true });
  }
});

const round1 = (n: number) => Math.round(n * 10) / 10;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
