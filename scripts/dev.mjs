// `npm run dev`: build the static assets, apply migrations to the local D1, seed the local
// development values, serve on http://localhost:8787 with local queues. Nothing here talks to
// Cloudflare's API.
// Extra arguments go to `wrangler dev`; a `--persist-to <dir>` among them is also given to the
// migration and seed steps, so that all three use the same local state (tests start a server on a
// fresh temporary directory this way).
import { spawn, spawnSync } from "node:child_process";

// Offline by default: no metrics, and the placeholder `request.cf` instead of fetching the real one.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = (args, options = {}) =>
  spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", env, ...options });

const extra = process.argv.slice(2);
const persistTo = persistDirOf(extra);
const persist = persistTo === undefined ? [] : ["--persist-to", persistTo];

// The static assets (the console, the API reference page) are built first: wrangler serves them
// from dist/assets.
const built = spawnSync(process.execPath, ["scripts/build-clients.mjs"], { stdio: "inherit", env });
if (built.status !== 0) process.exit(built.status ?? 1);

for (const step of [
  ["d1", "migrations", "apply", "DB", "--local", ...persist],
  ["d1", "execute", "DB", "--local", "--file", "scripts/seed-local.sql", ...persist],
]) {
  const result = wrangler(step);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const dev = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--port",
    process.env.PORT ?? "8787",
    // Local-only secrets (README, "Local development"), and the cron reachable at /__scheduled.
    "--var",
    "ADMIN_TOKEN:local-admin-token",
    "--var",
    "DIALER_SECRET:local-dialer-secret",
    "--test-scheduled",
    ...extra,
  ],
  { stdio: "inherit", env },
);
dev.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));

/** The value of `--persist-to <dir>` or `--persist-to=<dir>` among wrangler's arguments. */
function persistDirOf(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--persist-to") return args[i + 1];
    if (arg.startsWith("--persist-to=")) return arg.slice("--persist-to=".length);
  }
  return undefined;
}
