// Registering, rotating and deleting an organization's webhooks, and redelivering one delivery.
// Every function is scoped to the caller's organization: another organization's webhook is
// `not_found`, exactly like a missing one.

import { DomainError } from "../errors";
import { newId } from "../ids";
import type { Webhook, WebhookDelivery, WebhookEventType } from "../model/webhook";
import type { Clock } from "../ports/clock";
import type { WebhookDeliveriesRepository, WebhooksRepository } from "../ports/webhooks-repository";
import { checkWebhookUrl } from "./webhook-url";

/** Each event is copied once per subscribed webhook inside the statement that finishes a call: a bound keeps that fan-out small. */
export const MAX_WEBHOOKS_PER_ORGANIZATION = 20;
/** After a rotation the old secret signs too for a day, so receivers can switch without missing a delivery. */
const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
/** Random bytes in a signing secret: the Standard Webhooks specification asks for 24 to 64. */
const SECRET_BYTES = 32;

export interface ManageWebhooksDeps {
  webhooks: WebhooksRepository;
  webhookDeliveries: WebhookDeliveriesRepository;
  clock: Clock;
}

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `whsec_${btoa(binary)}`;
}

/**
 * Registers a webhook. Throws validation_error (path `url`) for a URL the rules refuse (the route's
 * schema refuses it first; this keeps the rule with the domain) and conflict past
 * MAX_WEBHOOKS_PER_ORGANIZATION. The secret is returned here and never again.
 */
export async function createWebhook(
  deps: ManageWebhooksDeps,
  input: { organizationId: string; url: string; events: readonly WebhookEventType[]; description?: string },
): Promise<{ webhook: Webhook; secret: string }> {
  const url = checkWebhookUrl(input.url);
  if (!url.ok) {
    throw new DomainError("validation_error", "The webhook URL is not accepted.", [
      { path: "url", message: url.message },
    ]);
  }
  const secret = newWebhookSecret();
  const created = await deps.webhooks.create(
    {
      id: newId("wh"),
      organizationId: input.organizationId,
      url: url.url,
      // Each event once, in the documented order.
      events: [...new Set(input.events)],
      description: input.description ?? null,
      secret,
      createdAt: deps.clock.now(),
    },
    MAX_WEBHOOKS_PER_ORGANIZATION,
  );
  if (created === "limit_reached") {
    throw new DomainError(
      "conflict",
      `An organization may have at most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks; delete one first.`,
    );
  }
  return { webhook: created, secret };
}

export async function findWebhook(
  deps: { webhooks: WebhooksRepository },
  organizationId: string,
  id: string,
): Promise<Webhook> {
  const webhook = await deps.webhooks.find(organizationId, id);
  if (!webhook) throw new DomainError("not_found", "Webhook not found.");
  return webhook;
}

/**
 * A new signing secret, returned this once. The previous one keeps signing alongside it (both
 * signatures are sent) for PREVIOUS_SECRET_GRACE_MS; `previousSecretExpiresAt` is null when there
 * was none (a webhook created by the upgrade from URL workflow steps).
 */
export async function rotateWebhookSecret(
  deps: ManageWebhooksDeps,
  organizationId: string,
  id: string,
): Promise<{ webhook: Webhook; secret: string; previousSecretExpiresAt: number | null }> {
  const now = deps.clock.now();
  const secret = newWebhookSecret();
  const rotated = await deps.webhooks.rotateSecret(
    organizationId,
    id,
    secret,
    now + PREVIOUS_SECRET_GRACE_MS,
    now,
  );
  if (!rotated) throw new DomainError("not_found", "Webhook not found.");
  return { webhook: rotated.webhook, secret, previousSecretExpiresAt: rotated.previousSecretExpiresAt };
}

/** Deletes the webhook; its pending deliveries fail and nothing more is sent to it. */
export async function removeWebhook(deps: ManageWebhooksDeps, organizationId: string, id: string) {
  const removed = await deps.webhooks.remove(organizationId, id, "the webhook was deleted", deps.clock.now());
  if (!removed) throw new DomainError("not_found", "Webhook not found.");
}

/**
 * Sends a delivered or failed delivery again, under the same id (the `webhook-id` header), with a
 * fresh retry schedule. Throws not_found (webhook or delivery) and conflict (still pending).
 */
export async function redeliver(
  deps: ManageWebhooksDeps,
  input: { organizationId: string; webhookId: string; deliveryId: string },
): Promise<WebhookDelivery> {
  const webhook = await findWebhook(deps, input.organizationId, input.webhookId);
  const result = await deps.webhookDeliveries.redeliver(webhook.pk, input.deliveryId, deps.clock.now());
  if (result === undefined) throw new DomainError("not_found", "Delivery not found.");
  if (result === "in_flight") {
    throw new DomainError(
      "conflict",
      "The delivery is still pending: it is being attempted and retried. Redeliver it once it is delivered or failed.",
    );
  }
  return result;
}
