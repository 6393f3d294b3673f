// `npm run bench:policy`: the cost of the dialing policy's checks at claim time, inside workerd on
// local D1, with the bindings of wrangler.jsonc minus its queue consumers (the run plays the
// consumer itself) and the same migrations as the tests. See bench/dispatch-policy.bench-run.ts.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  const config = unstable_readConfig({ config: path.join(root, "wrangler.jsonc") });
  config.queues.consumers = [];
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  return {
    root,
    plugins: [
      cloudflareTest({
        main: path.join(root, "src", "index.ts"),
        miniflare: {
          ...workerOptions,
          bindings: {
            ...(workerOptions.bindings as Record<string, unknown> | undefined),
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            BENCH_WARMUP: process.env.BENCH_WARMUP ?? "1",
            BENCH_REPS: process.env.BENCH_REPS ?? "7",
          },
        },
      }),
    ],
    test: {
      include: ["bench/dispatch-policy.bench-run.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 60 * 60_000,
      onConsoleLog: (line: string) => line.startsWith("[bench]"),
    },
  };
});
