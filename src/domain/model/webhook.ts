// Outcome webhooks: the endpoints an organization registers, and one delivery per event per
// endpoint. Payloads follow the Standard Webhooks conventions ({type, timestamp, data}); what each
// event's `data` holds is documented in the README and in the OpenAPI document's `webhooks`.
import { z } from "zod";

/** The events an organization can subscribe a webhook to. */
export const WEBHOOK_EVENT_TYPES = [
  "call.completed",
  "call.failed",
  "call.skipped",
  "import.completed",
  "workflow.completed",
  "workflow.failed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Sent only to the webhook a campaign workflow's `webhook` step names, never by subscription: a
 * step is the campaign's own decision to notify that endpoint.
 */
export const WORKFLOW_STEP_EVENT = "workflow.step";
export type DeliveryEventType = WebhookEventType | typeof WORKFLOW_STEP_EVENT;

/** pending (waiting for its first or next attempt) -> delivered | failed. */
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Webhook {
  /** Row order for listings. */
  pk: number;
  /** `wh_<24 hex>`. */
  id: string;
  organizationId: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  /** Unix ms. */
  createdAt: number;
  /** When the signing secret was last rotated; null if never. */
  secretRotatedAt: number | null;
}

/** What signing a delivery needs: the current secret, and the previous one while it is still honoured. */
export interface WebhookSigning {
  url: string;
  /** `whsec_<base64>`; null once the webhook is deleted. */
  secret: string | null;
  previousSecret: string | null;
  /** Unix ms; the previous secret signs too until then. */
  previousSecretExpiresAt: number | null;
  deletedAt: number | null;
}

export interface WebhookDelivery {
  /** Row order for listings. */
  pk: number;
  /** `msg_<24 hex>`: the `webhook-id` header, the same on every attempt, so receivers de-duplicate on it. */
  id: string;
  webhookPk: number;
  eventType: DeliveryEventType;
  /** The exact JSON body sent (and signed) on every attempt. */
  payload: string;
  status: DeliveryStatus;
  /** HTTP attempts made so far, redeliveries included. */
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  /**
   * While pending: when the next attempt is due (unix ms). Null while the delivery has not been
   * handed to the queue yet, and once it is finished.
   */
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The queue message contract of the WEBHOOKS queue and its dead-letter queue. */
export const WebhookMessage = z.object({ deliveryId: z.string().min(1).max(64) });
export type WebhookMessage = z.infer<typeof WebhookMessage>;
