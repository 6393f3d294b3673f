import type {
  DeliveryStatus,
  Webhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookSigning,
} from "../model/webhook";

export interface NewWebhook {
  id: string;
  organizationId: string;
  url: string;
  events: readonly WebhookEventType[];
  description: string | null;
  secret: string;
  createdAt: number;
}

/** An organization's webhooks. Every lookup is scoped to the organization and skips deleted ones. */
export interface WebhooksRepository {
  /**
   * Inserts the webhook unless the organization already has `maxPerOrganization` live ones (checked
   * in the same statement, so concurrent requests cannot pass the limit together).
   */
  create(webhook: NewWebhook, maxPerOrganization: number): Promise<Webhook | "limit_reached">;
  find(organizationId: string, id: string): Promise<Webhook | undefined>;
  /** The organization's oldest live webhook with exactly this URL. */
  findByUrl(organizationId: string, url: string): Promise<Webhook | undefined>;
  /** Creation order; `afterPk` is the last pk of the previous page. */
  list(organizationId: string, limit: number, afterPk?: number): Promise<Webhook[]>;
  /**
   * Deletes the webhook: it receives nothing more, its secrets are erased, and its pending
   * deliveries fail with `reason`. False when there is no such live webhook.
   */
  remove(organizationId: string, id: string, reason: string, at: number): Promise<boolean>;
  /**
   * Makes `secret` the signing secret; the old one, if there was one, keeps signing too until
   * `previousExpiresAt` (unix ms), which is returned (null when there was no old secret).
   * Undefined when there is no such live webhook.
   */
  rotateSecret(
    organizationId: string,
    id: string,
    secret: string,
    previousExpiresAt: number,
    at: number,
  ): Promise<{ webhook: Webhook; previousSecretExpiresAt: number | null } | undefined>;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
  limit: number;
  /** The last pk of the previous page. */
  afterPk?: number;
}

/** The outcome of one HTTP attempt, as recorded on the delivery. */
export type AttemptRecord =
  | { outcome: "delivered"; responseStatus: number }
  /** Another attempt will follow at `nextAttemptAt` (unix ms). */
  | { outcome: "retry"; responseStatus: number | null; error: string; nextAttemptAt: number }
  /** No attempt will follow (e.g. the receiver answered 410 Gone). */
  | { outcome: "failed"; responseStatus: number | null; error: string };

/**
 * Deliveries: one per event per webhook, `pending` until delivered or failed. Rows for outcome events
 * are inserted by the store's triggers; this port reads and advances them.
 */
export interface WebhookDeliveriesRepository {
  /** Inserts a delivery for a webhook unless one with the same id exists; true when inserted. */
  insert(delivery: {
    id: string;
    webhookPk: number;
    eventType: string;
    payload: string;
    at: number;
  }): Promise<boolean>;
  list(webhookPk: number, filter: DeliveryFilter): Promise<WebhookDelivery[]>;
  find(webhookPk: number, id: string): Promise<WebhookDelivery | undefined>;
  /** A delivery with what signing and sending it needs, whichever organization it belongs to. */
  findForSending(id: string): Promise<{ delivery: WebhookDelivery; webhook: WebhookSigning } | undefined>;
  /**
   * Claims up to `limit` pending deliveries not yet handed to the queue (sets their next attempt to
   * `at`) and returns their ids, oldest first. One statement: two callers never claim the same row.
   */
  claimUnqueued(limit: number, at: number): Promise<string[]>;
  /** Claims pending deliveries whose next attempt was due before `dueBefore`: their message was lost. */
  claimOverdue(dueBefore: number, limit: number, at: number): Promise<string[]>;
  /** Gives claimed deliveries back (their queue message could not be sent), with the reason. */
  releaseClaims(ids: readonly string[], error: string, at: number): Promise<void>;
  /**
   * Records one HTTP attempt on a pending delivery. A success is recorded on a failed one too (the
   * receiver did get it); anything else only on a pending one. False when nothing was recorded.
   */
  recordAttempt(id: string, attempt: AttemptRecord, at: number): Promise<boolean>;
  /** A pending delivery fails for good (its retries ran out, or its webhook is gone). */
  markFailed(id: string, reason: string, at: number): Promise<boolean>;
  /**
   * Makes a delivered or failed delivery pending again, to be handed to the queue; its id (the
   * webhook-id header) stays. "in_flight" when it is still pending; undefined when unknown.
   */
  redeliver(webhookPk: number, id: string, at: number): Promise<WebhookDelivery | "in_flight" | undefined>;
  /** Deletes up to `limit` delivered or failed deliveries last changed before `before`. */
  deleteFinished(before: number, limit: number): Promise<number>;
}
