// Shared set-up for the webhook tests: webhooks registered through the API and pointed at the
// loopback receiver of test/webhook-receiver.ts (which is told each secret, and verifies every
// request with the Standard Webhooks library), and readers for what it received and what the API
// reports.
import { env } from "cloudflare:workers";
import type { WebhookEventType } from "../src/domain/model/webhook";
import { call } from "./helpers";

export const RECEIVER = env.WEBHOOK_RECEIVER_URL;

export const ALL_EVENTS: WebhookEventType[] = [
  "call.completed",
  "call.failed",
  "call.skipped",
  "import.completed",
  "workflow.completed",
  "workflow.failed",
];

export type Scenario = "ok" | "fail-once-500" | "always-500" | "gone" | "hang";

export interface Received {
  headers: { "webhook-id"?: string; "webhook-timestamp"?: string; "webhook-signature"?: string };
  raw: string;
  verified: boolean;
  problem?: string;
  status: number;
}

/** Tells the receiver the secret of the webhook whose URL carries `key`. */
export async function teachReceiver(key: string, secret: string) {
  const res = await fetch(`${RECEIVER}/secrets/${key}`, { method: "PUT", body: JSON.stringify({ secret }) });
  if (res.status !== 204) throw new Error(`receiver refused the secret: ${res.status}`);
}

/** Registers a webhook at the receiver (scenario and a fresh key in its URL) and teaches it the secret. */
export async function registerWebhook(
  auth: Record<string, string>,
  options: { events?: WebhookEventType[]; scenario?: Scenario } = {},
) {
  const key = `k-${crypto.randomUUID()}`;
  const r = await call(
    "POST",
    "/api/v1/webhooks",
    { url: `${RECEIVER}/hook/${options.scenario ?? "ok"}/${key}`, events: options.events ?? ALL_EVENTS },
    auth,
  );
  if (r.status !== 201) throw new Error(`webhook registration failed: ${r.text}`);
  await teachReceiver(key, r.json.secret);
  return { id: r.json.id as string, secret: r.json.secret as string, key, url: r.json.url as string };
}

export async function receivedBy(key: string): Promise<Received[]> {
  return (await fetch(`${RECEIVER}/received/${key}`)).json<Received[]>();
}

/** The bodies the receiver accepted (verified) under `key`, parsed. */
export async function verifiedBodies(key: string): Promise<any[]> {
  return (await receivedBy(key)).filter((r) => r.verified).map((r) => JSON.parse(r.raw));
}

export async function deliveriesOf(webhookId: string, auth: Record<string, string>, query = "") {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams(query);
    qs.set("limit", "500");
    if (cursor) qs.set("cursor", cursor);
    const r = await call("GET", `/api/v1/webhooks/${webhookId}/deliveries?${qs}`, undefined, auth);
    if (r.status !== 200) throw new Error(`list deliveries failed: ${r.text}`);
    all.push(...r.json.data);
    cursor = r.json.nextCursor;
  } while (cursor);
  return all;
}

/**
 * An import's counts as its import.completed event carries them: the progress view's results
 * without `pending`, which is 0 once an import has completed.
 */
export function countsOf(results: Record<string, number>) {
  const { pending, ...counts } = results;
  if (pending !== 0) throw new Error(`a completed import has nothing pending, not ${pending}`);
  return counts;
}
