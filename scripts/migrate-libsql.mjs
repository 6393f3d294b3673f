// npm run db:migrate:libsql — applies migrations/*.sql to the libSQL database at LIBSQL_URL
// (file:, :memory:, libsql://, https://, http://) with LIBSQL_AUTH_TOKEN, recording each applied
// file so that a second run applies nothing. Settings come from the environment, else from .dev.vars
// in the current folder (the file `wrangler dev` reads), so the Worker and its migrations point at
// the same database. MIGRATIONS_DIR overrides the folder (default: the project's migrations/).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { createClient } from "@libsql/client";
import { applyMigrations, readMigrations } from "../src/db/migrator.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function settings() {
  const fromEnv = { url: process.env.LIBSQL_URL, authToken: process.env.LIBSQL_AUTH_TOKEN };
  if (fromEnv.url !== undefined) return { ...fromEnv, source: "the environment" };
  const devVars = join(process.cwd(), ".dev.vars");
  if (existsSync(devVars)) {
    const vars = parseEnv(readFileSync(devVars, "utf8"));
    if (vars.LIBSQL_URL !== undefined) {
      return { url: vars.LIBSQL_URL, authToken: vars.LIBSQL_AUTH_TOKEN, source: ".dev.vars" };
    }
  }
  return undefined;
}

function where(url) {
  if (url === ":memory:" || url.startsWith("file:")) return url;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparseable URL)";
  }
}

const s = settings();
if (!s || s.url.trim() === "") {
  console.error(
    "LIBSQL_URL is not set. Set it (and LIBSQL_AUTH_TOKEN for a remote database) in the environment or in " +
      ".dev.vars, e.g. LIBSQL_URL=file:local.db npm run db:migrate:libsql",
  );
  process.exit(1);
}

const dir = process.env.MIGRATIONS_DIR ?? join(root, "migrations");
let client;
try {
  client = createClient({
    url: s.url.trim(),
    authToken: s.authToken || undefined,
    // A server that stops answering fails the run instead of leaving it waiting forever.
    fetch: (request) => fetch(request, { signal: AbortSignal.timeout(60_000) }),
  });
} catch (error) {
  console.error(`LIBSQL_URL (from ${s.source}) is not usable: ${error.message}`);
  process.exit(1);
}
try {
  const report = await applyMigrations(client, await readMigrations(dir));
  console.log(`libSQL database ${where(s.url.trim())} (LIBSQL_URL from ${s.source})`);
  for (const name of report.applied) console.log(`  applied ${name}`);
  console.log(
    report.applied.length === 0
      ? `  nothing to apply; ${report.alreadyApplied.length} migration(s) already applied`
      : `  ${report.applied.length} applied, ${report.alreadyApplied.length} already applied`,
  );
} catch (error) {
  const message = error?.message ?? String(error);
  console.error(`Migrating the libSQL database at LIBSQL_URL (${where(s.url.trim())}) failed: ${message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
