// Vitest global setup (runs in Node, outside workerd): a real HTTP dialer on loopback for the http
// adapter's tests. It checks every request's X-Bulkcall-Signature with the shared secret (401 when
// it does not verify), then answers as the scenario in the URL says:
//   POST /<scenario>/<key>   scenario: ok | fail-once-503 | rate-limited | bad-request | reject-first
//                            | no-answer (reads the request, never responds)
//                            | refuse-bounced (a workflow webhook receiver: 400 for a customer whose
//                              payment_status is bounced, 200 otherwise)
//   GET  /received/<key>     every request received under that key, with its verdict
// The key keeps tests apart; the worker under test reaches the server through DIALER_URL.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    dialerPort: number;
    dialerSecret: string;
  }
}

interface Received {
  signatureValid: boolean;
  status: number;
  body: unknown;
}

function verify(secret: string, header: string | undefined, raw: string): boolean {
  if (!header) return false;
  const fields = Object.fromEntries(header.split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !fields.v1) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${raw}`).digest();
  const given = Buffer.from(fields.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export default async function setup(project: TestProject) {
  const secret = randomBytes(32).toString("hex");
  const received = new Map<string, Received[]>();

  const server = createServer(async (req, res) => {
    const [, first, key] = (req.url ?? "").split("/");
    if (req.method === "GET" && first === "received" && key) {
      send(res, 200, received.get(key) ?? []);
      return;
    }
    const raw = await readBody(req);
    const scenario = first ?? "";
    const log = received.get(key ?? "") ?? [];
    received.set(key ?? "", log);
    let body: { calls?: { callId: string }[]; customer?: { payment_status?: string | null } } = {};
    try {
      body = JSON.parse(raw);
    } catch {
      // answered below as a bad signature or a bad request
    }
    const record = (status: number) => log.push({ signatureValid: status !== 401, status, body });

    if (!verify(secret, req.headers["x-bulkcall-signature"] as string | undefined, raw)) {
      record(401);
      send(res, 401, { error: "signature does not verify" });
      return;
    }
    const accepted = () => ({
      calls: (body.calls ?? []).map((c) => ({
        callId: c.callId,
        status: "accepted",
        providerCallId: `prov-${c.callId}`,
      })),
    });
    if (scenario === "no-answer") {
      record(0);
      return;
    }
    if (scenario === "fail-once-503" && log.length === 0) {
      record(503);
      send(res, 503, { error: "dialer busy" });
    } else if (scenario === "rate-limited") {
      record(429);
      send(res, 429, { error: "slow down" }, { "Retry-After": "120" });
    } else if (scenario === "refuse-bounced" && body.customer?.payment_status === "bounced") {
      record(400);
      send(res, 400, { error: "bounced customers are handled elsewhere" });
    } else if (scenario === "bad-request") {
      record(400);
      send(res, 400, { error: "unknown agent" });
    } else if (scenario === "reject-first") {
      record(200);
      const calls = accepted().calls;
      if (calls[0]) Object.assign(calls[0], { status: "rejected", reason: "invalid_number" });
      send(res, 200, { calls });
    } else {
      record(200);
      send(res, 200, accepted());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("dialer server has no port");
  project.provide("dialerPort", address.port);
  project.provide("dialerSecret", secret);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
