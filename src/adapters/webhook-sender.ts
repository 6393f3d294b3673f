import { SIGNATURE_HEADER, signatureHeader } from "../domain/calls/signature";
import type { Clock } from "../domain/ports/clock";
import type { WebhookSender } from "../domain/ports/workflows";

/** How long a webhook receiver may take before the step counts as failed (and is retried). */
export const WEBHOOK_TIMEOUT_MS = 15_000;

/**
 * Webhook steps POST JSON signed exactly like the dialer protocol (X-Bulkcall-Signature over
 * "<t>.<body>") with WEBHOOK_SECRET, so a receiver verifies both the same way.
 */
export function createWebhookSender(secret: string | undefined, clock: Clock): WebhookSender {
  return async (url, payload) => {
    if (!secret) throw new Error("WEBHOOK_SECRET is not set: webhook steps cannot be signed");
    const body = JSON.stringify(payload);
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        [SIGNATURE_HEADER]: await signatureHeader(secret, Math.floor(clock.now() / 1000), body),
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`webhook ${new URL(url).host} answered ${res.status}`);
  };
}
