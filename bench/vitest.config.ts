// `npm run bench`: three phases, one after the other (sequence.groupOrder; not 0, which Vitest runs
// after the numbered groups when a project has a single worker), whose results the
// reporter (bench/reporter.ts) merges into bench/results.json. See bench/README.md.
//   ingest  inside workerd on local D1, no queue consumers: the request timings, the simulated
//           distance to D1, and the round trips per request.
//   fanout  inside workerd with the queue consumers of wrangler.jsonc running: how fast the calls
//           and the workflow runs of a 10,000-customer import go out.
//   heap    in Node: the production bundle in its own workerd, its JS heap read through the V8
//           inspector while the largest legal requests run.
// `npm run bench -- --project heap` runs one phase (results.json is then left alone).
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

const root = path.resolve(import.meta.dirname, "..");

/** wrangler.jsonc as wrangler reads it, as the pool's Worker options; `consumers` false drops the queue consumers. */
function workerOptionsOf({ consumers }: { consumers: boolean }) {
  const config = unstable_readConfig({ config: path.join(root, "wrangler.jsonc") });
  if (!consumers) config.queues.consumers = [];
  return unstable_getMiniflareWorkerOptions(config).workerOptions;
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  // The pool merges its options into the config's key by key and cannot drop a key, so the options
  // are derived here rather than by `wrangler.configPath`.
  const workersPhase = (name: string, order: number, consumers: boolean) => {
    const workerOptions = workerOptionsOf({ consumers });
    return {
      plugins: [
        cloudflareTest({
          main: path.join(root, "bench", "worker.ts"),
          miniflare: {
            ...workerOptions,
            bindings: {
              ...(workerOptions.bindings as Record<string, unknown> | undefined),
              TEST_MIGRATIONS: migrations,
              ADMIN_TOKEN: "test-admin-token",
              BENCH_WARMUP: process.env.BENCH_WARMUP ?? "2",
              BENCH_REPS: process.env.BENCH_REPS ?? "15",
              BENCH_CASES: process.env.BENCH_CASES ?? "",
              BENCH_WORKFLOW_CUSTOMERS: process.env.BENCH_WORKFLOW_CUSTOMERS ?? "2000",
            },
          },
        }),
      ],
      test: {
        name,
        include: [`bench/${name}.bench-run.ts`],
        setupFiles: ["./test/apply-migrations.ts"],
        sequence: { groupOrder: order },
      },
    };
  };
  return {
    root,
    test: {
      projects: [
        // No queue consumers: the hand-off's messages stay queued instead of being worked through
        // in the same isolate while later cases are timed (the run checks that nothing consumed them).
        workersPhase("ingest", 1, false),
        workersPhase("fanout", 2, true),
        {
          test: {
            name: "heap",
            environment: "node",
            include: ["bench/heap.bench-run.ts"],
            sequence: { groupOrder: 3 },
          },
        },
      ],
      testTimeout: 60 * 60_000,
      hookTimeout: 10 * 60_000,
      reporters: ["default", "./bench/reporter.ts"],
      // The benchmark's own progress lines and the Worker's failures and retries; its other lines
      // (one per request, and one per call from the `log` dialer) would drown them.
      onConsoleLog: (line: string) =>
        line.startsWith("[bench]") || /"event":"[a-z_]+_(failed|retry)"/.test(line),
    },
  };
});
