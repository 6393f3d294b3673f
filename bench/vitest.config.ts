// `npm run bench`: the ingest benchmark inside workerd on local D1, with the bindings of the same
// wrangler.jsonc and the same migrations as the tests, and the Worker entry bench/worker.ts (the
// production Worker plus the comparison endpoints). See bench/README.md.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  // wrangler.jsonc as wrangler reads it, minus the queue consumers: the hand-off's messages stay
  // queued instead of being worked through in the same isolate while later cases are timed (the
  // run checks that nothing consumed them). The pool merges its options into the config's key by
  // key and cannot drop a key, so the options are derived here rather than by `wrangler.configPath`.
  const config = unstable_readConfig({ config: path.join(root, "wrangler.jsonc") });
  config.queues.consumers = [];
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  return {
    root,
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
          },
        },
      }),
    ],
    test: {
      include: ["bench/ingest.bench-run.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 60 * 60_000,
      reporters: ["default", "./bench/reporter.ts"],
      // Only the benchmark's own progress lines; the Worker's per-request logs would drown them.
      onConsoleLog: (line: string) => line.startsWith("[bench]"),
    },
  };
});
