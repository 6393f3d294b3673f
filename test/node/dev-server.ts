// Starts the real local server (`npm run dev`: migrations, seed, `wrangler dev` with local D1,
// queues and workflows) for Node-side end-to-end tests, on a free port and a fresh temporary state
// directory, so that tests never share data with each other or with a developer's own server.
//
//   const server = await startDevServer();
//   await fetch(`${server.url}/health`);
//   await server.stop();
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The seeded local values of scripts/seed-local.sql (README, "Quickstart"). */
export const DEV_API_KEY = "local-dev-key";

export interface DevServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** The temporary `--persist-to` directory (deleted by stop()). */
  stateDir: string;
  /** Everything the server printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops the server's whole process group and deletes its state directory. */
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** Port to serve on; default: one the operating system reports free. */
  port?: number;
  /** How long to wait for the first answer. Default 120 s: the first start bundles the Worker and
   * applies every migration, which takes tens of seconds on a loaded 2-core machine. */
  startTimeoutMs?: number;
  /** More arguments for `wrangler dev`. */
  args?: string[];
}

const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** A port nobody listens on right now (the OS picks it; released before use). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/** Starts attempts when a port picked free was taken by another process before the server bound it. */
const PORT_ATTEMPTS = 3;

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // freePort() releases the port before wrangler binds it: on a shared machine another process
      // can take it in between. Only ports picked here can be picked again.
      const raced = error instanceof PortTakenError && (options.port === undefined || error.inspector);
      if (!raced || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

class PortTakenError extends Error {
  constructor(
    message: string,
    readonly inspector: boolean,
  ) {
    super(message);
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const stateDir = await mkdtemp(join(tmpdir(), "bulkcall-dev-"));
  let log = "";
  const child: ChildProcess = spawn(
    "npm",
    [
      "run",
      "dev",
      "--",
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      ...(options.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), CI: "true", NO_COLOR: "1" },
      // Its own process group, so that stop() ends npm, wrangler and workerd together.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (chunk) => {
    log += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    log += chunk;
  });
  const exited = new Promise<void>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once("exit", () => resolveExit());
  });

  const url = `http://127.0.0.1:${port}`;
  const server: DevServer = {
    url,
    port,
    stateDir,
    output: () => log,
    async stop() {
      const group = child.pid;
      if (group !== undefined && groupAlive(group)) {
        signalGroup(group, "SIGTERM");
        // wrangler and workerd shut down after npm itself has exited: wait for the whole group.
        const deadline = Date.now() + 10_000;
        while (groupAlive(group) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (groupAlive(group)) signalGroup(group, "SIGKILL");
      }
      await exited;
      await rm(stateDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) {
      await server.stop();
      const taken = /Address already in use \(127\.0\.0\.1:(\d+)\)/.exec(log);
      const message = `npm run dev exited with ${child.exitCode} before answering:\n${log}`;
      if (taken) throw new PortTakenError(message, taken[1] === String(inspectorPort));
      throw new Error(message);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`npm run dev did not answer on ${url} in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Already gone.
  }
}
