import { defineConfig } from "drizzle-kit";

// Only `generate` is used: migrations are plain SQL files applied by wrangler (D1), by
// scripts/migrate-libsql.ts (libSQL) and by the test setup, all from the same folder.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
