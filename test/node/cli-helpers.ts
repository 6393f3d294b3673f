// Shared by the command-line importer's tests: build and run the real `bulkcall` program, and small
// loopback HTTP servers (a stub API, and a proxy that counts and can intercept what reaches the
// real dev server).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { promisify } from "node:util";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const BIN = resolve(REPO_ROOT, "bin/bulkcall.mjs");

/** Builds dist/cli/bulkcall.mjs from the current sources, so tests never run a stale bundle. */
export async function buildCli(): Promise<void> {
  await promisify(execFile)(process.execPath, ["scripts/build-clients.mjs"], { cwd: REPO_ROOT });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Called with each line the program writes to stderr (progress lines when not on a terminal). */
  onStderrLine?: (line: string, child: ChildProcess) => void;
}

/** Runs `node bin/bulkcall.mjs …` without a terminal (stdin closed, output piped). */
export function runCli(args: string[], options: CliOptions): Promise<CliRun> & { child: ChildProcess } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // Only what the program needs, so a developer's own BULKCALL_* settings never leak in.
    env: {
      PATH: process.env.PATH ?? "",
      BULKCALL_API_KEY: "local-dev-key",
      ...options.env,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      options.onStderrLine?.(pending.slice(0, newline), child);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  const done = new Promise<CliRun>((resolveRun) => {
    child.on("close", (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
  return Object.assign(done, { child });
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function closer(server: Server) {
  return () =>
    new Promise<void>((resolveClose) => {
      server.closeAllConnections();
      server.close(() => resolveClose());
    });
}

/** A stub API: `handle` answers each request (it may also destroy the socket). */
export async function startStub(
  handle: (request: Recorded, res: ServerResponse, count: number) => void | Promise<void>,
): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const recorded = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: await readBody(req),
    };
    requests.push(recorded);
    await handle(recorded, res, requests.length);
  });
  return { url: await listen(server), requests, close: closer(server) };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export interface CountingProxy extends TestServer {
  /** Bulk requests (POST …/customers/add/bulk) that reached the proxy. */
  bulkPosts(): Recorded[];
  /**
   * Called for each bulk POST before it is forwarded, with its 1-based number among bulk POSTs;
   * the returned promise (if any) is awaited before forwarding.
   */
  onBulk?: (n: number, request: Recorded) => void | Promise<void>;
  /** Answers of forwarded bulk POSTs, by number, once the upstream server has answered. */
  upstreamAnswers: Map<number, Promise<number>>;
}

/** Forwards everything to `target`, recording each request; see CountingProxy for the bulk POST hook. */
export async function startProxy(target: string): Promise<CountingProxy> {
  const requests: Recorded[] = [];
  let bulk = 0;
  const proxy: CountingProxy = {
    url: "",
    requests,
    bulkPosts: () => requests.filter((r) => r.method === "POST" && r.path.endsWith("/customers/add/bulk")),
    upstreamAnswers: new Map(),
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const recorded = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: await readBody(req),
    };
    requests.push(recorded);
    const isBulk = recorded.method === "POST" && recorded.path.endsWith("/customers/add/bulk");
    const n = isBulk ? ++bulk : 0;
    if (isBulk) await proxy.onBulk?.(n, recorded);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && !["host", "connection", "content-length"].includes(name))
        headers[name] = value;
    }
    const upstream = fetch(`${target}${recorded.path}`, {
      method: recorded.method,
      headers,
      body: recorded.method === "GET" ? undefined : recorded.body,
    }).then(async (answer) => ({ answer, body: await answer.text() }));
    if (isBulk)
      proxy.upstreamAnswers.set(
        n,
        upstream.then((u) => u.answer.status),
      );
    try {
      const { answer, body } = await upstream;
      // The client may be gone (a test killed it); the upstream request still ran to its end.
      if (res.destroyed) return;
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name))
          out[name] = value;
      });
      res.writeHead(answer.status, out);
      res.end(body);
    } catch {
      res.destroy();
    }
  });
  proxy.url = await listen(server);
  proxy.close = closer(server);
  return proxy;
}
