// Webhook deliveries over HTTP, signed with the Standard Webhooks reference implementation
// (npm `standardwebhooks`): `webhook-id`, `webhook-timestamp` and `webhook-signature` (one
// `v1,<base64 HMAC-SHA256>` per secret, space-separated, so a receiver in the middle of a secret
// rotation verifies with either secret).
import { Webhook } from "standardwebhooks";
import type { Clock } from "../domain/ports/clock";
import type { WebhookSender } from "../domain/ports/webhook-sender";

/**
 * How long a receiver may take to answer: the lower end of the 15-30 s the specification
 * recommends. A slower receiver counts as failed and is retried; it never holds up anything else.
 */
const WEBHOOK_TIMEOUT_MS = 15_000;
/** Characters of a refusing receiver's answer kept in the delivery's last error. */
const ERROR_BODY_CHARS = 300;

export interface WebhookSenderOptions {
  /** Signatures carry this clock's time; receivers compare it with theirs (5 minutes' tolerance). */
  clock: Clock;
  timeoutMs?: number;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  return {
    async send(request) {
      const at = new Date(options.clock.now());
      const signature = request.secrets
        .map((secret) => new Webhook(secret).sign(request.messageId, at, request.payload))
        .join(" ");
      let res: Response;
      try {
        res = await fetch(request.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "User-Agent": "bulkcall-webhooks/1",
            "webhook-id": request.messageId,
            "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
            "webhook-signature": signature,
          },
          body: request.payload,
          // A redirect is a failure (the specification's advice): the URL should be updated instead.
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        return {
          ok: false,
          status: null,
          error: timedOut
            ? `no answer within ${timeoutMs / 1000} s`
            : `could not reach the receiver: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel();
        return { ok: true, status: res.status };
      }
      const retryAfter = Number(res.headers.get("Retry-After"));
      return {
        ok: false,
        status: res.status,
        error: `the receiver answered HTTP ${res.status}${await bodyExcerpt(res)}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      };
    },
  };
}

/** The start of an error answer, read no further than needed (a receiver may answer with megabytes). */
async function bodyExcerpt(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < ERROR_BODY_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The answer's status is what matters; a body that breaks off is reported as far as it came.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const trimmed = text.trim().slice(0, ERROR_BODY_CHARS);
  return trimmed ? `: ${trimmed}` : "";
}
