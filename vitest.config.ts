import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            // The dialer's URL and secret come from test/dialer-server.ts, the webhook receiver's
            // URL from test/webhook-receiver.ts: real HTTP servers started in Node before the
            // workers run.
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.jsonc" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ADMIN_TOKEN: "test-admin-token",
                  DIALER_URL: `http://127.0.0.1:${inject("dialerPort")}`,
                  DIALER_SECRET: inject("dialerSecret"),
                  WEBHOOK_RECEIVER_URL: `http://127.0.0.1:${inject("webhookReceiverPort")}`,
                },
              },
            })),
          ],
          test: {
            name: "workers",
            // Top-level test/ files run inside workerd; test/<project>/ folders belong to Node projects.
            include: ["test/*.test.ts", "src/**/*.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
            globalSetup: ["./test/dialer-server.ts", "./test/webhook-receiver.ts"],
          },
        },
        {
          // Node-side checks of what the Worker serves (e.g. validating the OpenAPI document with a
          // validator that needs code generation, which workerd forbids), and the `bulkcall`
          // importer (clients/): its units, and end to end against `npm run dev`
          // (test/node/dev-server.ts) through the built program.
          test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
        },
        {
          // The repository contract and the migrator on libSQL (Node client, file: and :memory:).
          test: { name: "libsql", environment: "node", include: ["test/libsql/**/*.test.ts"] },
        },
      ],
    },
  };
});
