// `npm run dev`: apply migrations to the local D1, seed the local development values, serve on
// http://localhost:8787 with local queues. Nothing here talks to Cloudflare's API.
import { spawn, spawnSync } from "node:child_process";

// Offline by default: no metrics, and the placeholder `request.cf` instead of fetching the real one.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = (args, options = {}) =>
  spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", env, ...options });

for (const step of [
  ["d1", "migrations", "apply", "DB", "--local"],
  ["d1", "execute", "DB", "--local", "--file", "scripts/seed-local.sql"],
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
    ...process.argv.slice(2),
  ],
  { stdio: "inherit", env },
);
dev.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
