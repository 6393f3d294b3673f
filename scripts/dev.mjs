// `npm run dev`: build the static assets, apply migrations to the local D1, seed the local
// development values, serve on http://localhost:8787 with local queues. Nothing here talks to
// Cloudflare's API.
// The port is `$PORT`, else 8787; a `--port <n>` (or `--port=<n>`) among the extra arguments wins,
// and then this script passes no `--port` of its own (given twice, wrangler dev fails to start).
// Extra arguments go to `wrangler dev`; a `--persist-to <dir>` among them is also given to the
// migration and seed steps, so that all three use the same local state (tests start a server on a
// fresh temporary directory this way).
import { spawn, spawnSync } from "node:child_process";

// Offline by default: no metrics, and the placeholder `request.cf` instead of fetching the real one.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = (args, options = {}) =>
  spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", env, ...options });

const extra = process.argv.slice(2);
const persistTo = optionValue(extra, "--persist-to");
const persist = persistTo === undefined ? [] : ["--persist-to", persistTo];
const port = extra.some((arg) => arg === "--port" || arg.startsWith("--port="))
  ? []
  : ["--port", process.env.PORT ?? "8787"];

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
    ...port,
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

/** The value of `<option> <value>` or `<option>=<value>` among wrangler's arguments. */
function optionValue(args, option) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === option) return args[i + 1];
    if (arg.startsWith(`${option}=`)) return arg.slice(option.length + 1);
  }
  return undefined;
}
