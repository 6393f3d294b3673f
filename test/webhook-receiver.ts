// Vitest global setup (runs in Node, outside workerd): a real webhook receiver on loopback, the kind
// a lender runs. It verifies every request with the Standard Webhooks reference library — the same
// one bulkcall signs with — against the secret the test registered for the URL's key, answers 401
// when the signature does not verify, and otherwise answers as the scenario in the URL says:
//   PUT  /secrets/<key>           body {"secret": "whsec_…"}: the secret a webhook was created with
//   POST /hook/<scenario>/<key>   scenario: ok | fail-once-500 (500, then 200) | always-500 | gone (410)
//                                 | hang (reads the request, never answers)
//   GET  /received/<key>          every request received under that key: headers, raw body, verdict
// The key keeps tests apart; the worker under test reaches the server through WEBHOOK_RECEIVER_URL.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    webhookReceiverPort: number;
  }
}

interface Received {
  headers: { "webhook-id"?: string; "webhook-timestamp"?: string; "webhook-signature"?: string };
  raw: string;
  verified: boolean;
  /** Why verification failed, when it did. */
  problem?: string;
  /** What the receiver answered; 0 when it never did. */
  status: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

export default async function setup(project: TestProject) {
  const secrets = new Map<string, string>();
  const received = new Map<string, Received[]>();

  const server = createServer(async (req, res) => {
    const [, first, second, third] = (req.url ?? "").split("/");
    if (req.method === "GET" && first === "received" && second) {
      send(res, 200, received.get(second) ?? []);
      return;
    }
    const raw = await readBody(req);
    if (req.method === "PUT" && first === "secrets" && second) {
      secrets.set(second, (JSON.parse(raw) as { secret: string }).secret);
      send(res, 204, null);
      return;
    }
    if (req.method !== "POST" || first !== "hook" || !second || !third) {
      send(res, 404, { error: "no such route" });
      return;
    }
    const scenario = second;
    const key = third;
    const log = received.get(key) ?? [];
    received.set(key, log);
    const headers = {
      "webhook-id": req.headers["webhook-id"] as string | undefined,
      "webhook-timestamp": req.headers["webhook-timestamp"] as string | undefined,
      "webhook-signature": req.headers["webhook-signature"] as string | undefined,
    };
    const entry: Received = { headers, raw, verified: false, status: 0 };
    log.push(entry);

    const secret = secrets.get(key);
    try {
      if (!secret) throw new Error("no secret registered for this key");
      new Webhook(secret).verify(raw, headers as Record<string, string>);
      entry.verified = true;
    } catch (err) {
      entry.problem = err instanceof Error ? err.message : String(err);
      entry.status = 401;
      send(res, 401, { error: "signature does not verify" });
      return;
    }

    const verifiedBefore = log.filter((r) => r.verified).length - 1;
    if (scenario === "hang") return;
    if (scenario === "always-500" || (scenario === "fail-once-500" && verifiedBefore === 0)) {
      entry.status = 500;
      send(res, 500, { error: "receiver is down" });
    } else if (scenario === "gone") {
      entry.status = 410;
      send(res, 410, { error: "no longer interested" });
    } else {
      entry.status = 200;
      send(res, 200, { ok: true });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("webhook receiver has no port");
  project.provide("webhookReceiverPort", address.port);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
