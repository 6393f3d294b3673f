// Sends one webhook delivery over HTTP, signed per the Standard Webhooks specification.

export interface WebhookRequest {
  url: string;
  /** The `webhook-id` header: the delivery's id, the same on every attempt. */
  messageId: string;
  /** The exact body to send and sign. */
  payload: string;
  /** `whsec_` secrets to sign with, the current one first; one signature each in `webhook-signature`. */
  secrets: readonly string[];
}

export type WebhookResponse =
  /** The receiver answered 2xx. */
  | { ok: true; status: number }
  /**
   * Anything else: another status (`status`), or no answer at all (`status` null: refused
   * connection, timeout). `retryAfterSeconds` when the receiver sent a Retry-After header.
   */
  | { ok: false; status: number | null; error: string; retryAfterSeconds?: number };

export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
