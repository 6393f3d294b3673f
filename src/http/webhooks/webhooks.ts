// /api/v1/webhooks: the organization's outcome webhooks, their deliveries and redelivery.
import { createRoute, z } from "@hono/zod-openapi";
import {
  DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type Webhook,
  type WebhookDelivery,
} from "../../domain/model/webhook";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import {
  createWebhook,
  findWebhook,
  MAX_WEBHOOKS_PER_ORGANIZATION,
  redeliver,
  removeWebhook,
  rotateWebhookSecret,
} from "../../domain/webhooks/manage-webhooks";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from "../../domain/webhooks/webhook-url";
import { afterResponse } from "../after-response";
import { errorResponses } from "../errors";
import { noBody } from "../middleware/json-body";
import { createRouter } from "../router";
import { decodeCursor, iso, PageQuery, page, strictObject } from "../schemas";

const WebhookUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const check = checkWebhookUrl(value);
    if (!check.ok) ctx.addIssue({ code: "custom", message: check.message });
  })
  .openapi({
    description: `https, or http for a loopback host (localhost, 127.0.0.1, [::1]) in local development; no user name or password; at most ${MAX_WEBHOOK_URL_LENGTH} characters.`,
    example: "https://lender.example/hooks/bulkcall",
  });

// Strict: a misspelled or unsupported field (a `secret` of the caller's choosing) is refused, never
// silently ignored.
const CreateWebhook = strictObject({
  url: WebhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    // Each event at most twice over: room for repeats (which are ignored), none for a runaway list.
    .max(WEBHOOK_EVENT_TYPES.length * 2)
    .openapi({
      description:
        "The events to receive (repeats are ignored). An empty list receives only the workflow.step events of the workflow steps that name this webhook.",
      example: ["call.completed", "call.failed"],
    }),
  description: z.string().trim().min(1).max(500).optional(),
}).openapi("CreateWebhook");

const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "wh_5f1c0e2a9b7d4c3e8a6f1b2d" }),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    description: z.string().nullable(),
    createdAt: z.string(),
    secretRotatedAt: z.string().nullable(),
  })
  .openapi("Webhook");

const SecretSchema = z.string().openapi({
  description: "The Standard Webhooks signing secret (whsec_<base64>). Shown this once: store it now.",
  example: "whsec_hLYKia3dMlfvdy8yaf0+BTi85KjB5fya8/jC2og40WE=",
});

const CreatedWebhookSchema = WebhookSchema.extend({ secret: SecretSchema }).openapi("CreatedWebhook");

const RotatedSecretSchema = z
  .object({
    id: z.string(),
    secret: SecretSchema,
    previousSecretExpiresAt: z.string().nullable().openapi({
      description:
        "Until then deliveries carry a signature with the previous secret too; null when there was none.",
    }),
  })
  .openapi("RotatedWebhookSecret");

const DeliverySchema = z
  .object({
    id: z.string().openapi({
      description: "The webhook-id header of every attempt.",
      example: "msg_2b7e1f0c9d8a4e6b3c5d7f90",
    }),
    eventType: z.string().openapi({ example: "call.completed" }),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    lastResponseStatus: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The receiver's last HTTP status; null when it never answered." }),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z
      .string()
      .nullable()
      .openapi({ description: "While pending: when the next attempt is due." }),
    deliveredAt: z.string().nullable(),
    payload: z
      .unknown()
      .openapi({ description: "The body sent (see the webhooks section of this document)." }),
  })
  .openapi("WebhookDelivery");

const WebhookParam = z.object({ webhookId: z.string().min(1).max(64) });
const DeliveryParam = WebhookParam.extend({ deliveryId: z.string().min(1).max(64) });

function webhookJson(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    description: w.description,
    createdAt: iso(w.createdAt),
    secretRotatedAt: w.secretRotatedAt === null ? null : iso(w.secretRotatedAt),
  };
}

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function deliveryJson(d: WebhookDelivery) {
  return {
    id: d.id,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    lastAttemptAt: isoOrNull(d.lastAttemptAt),
    nextAttemptAt: d.status === "pending" ? isoOrNull(d.nextAttemptAt) : null,
    deliveredAt: isoOrNull(d.deliveredAt),
    payload: JSON.parse(d.payload) as unknown,
  };
}

export const webhooksRoutes = createRouter();

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Webhooks"],
    summary: "Register a webhook",
    description: `Outcome events of the organization's calls, imports and workflow runs are POSTed to the URL, signed per the Standard Webhooks specification with the secret in the answer (shown this once). At most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks per organization.`,
    request: { body: { required: true, content: { "application/json": { schema: CreateWebhook } } } },
    responses: {
      201: { description: "Registered", content: { "application/json": { schema: CreatedWebhookSchema } } },
      ...errorResponses(400, 401, 409, 415),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { webhook, secret } = await createWebhook(c.var.deps, {
      organizationId: c.var.organizationId,
      url: input.url,
      events: input.events,
      description: input.description,
    });
    return c.json({ ...webhookJson(webhook), secret }, 201);
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Webhooks"],
    summary: "List webhooks",
    description: "Oldest first; cursor-based pagination. Secrets are never shown again.",
    request: { query: PageQuery },
    responses: {
      200: {
        description: "A page of webhooks",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(WebhookSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await c.var.deps.webhooks.list(
      c.var.organizationId,
      limit,
      decodeCursor<number>(cursor, "number"),
    );
    const last = rows.at(-1);
    return c.json(
      page(rows.map(webhookJson), limit, () => last?.pk ?? 0),
      200,
    );
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{webhookId}",
    tags: ["Webhooks"],
    summary: "Get a webhook",
    description: "Its URL, events and description. The signing secret is never shown again.",
    request: { params: WebhookParam },
    responses: {
      200: { description: "The webhook", content: { "application/json": { schema: WebhookSchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const webhook = await findWebhook(c.var.deps, c.var.organizationId, c.req.valid("param").webhookId);
    return c.json(webhookJson(webhook), 200);
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{webhookId}",
    tags: ["Webhooks"],
    summary: "Delete a webhook",
    description:
      "Nothing more is sent to it: its pending deliveries fail, its secrets are erased. A workflow step that names it is skipped from then on.",
    request: { params: WebhookParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    await removeWebhook(c.var.deps, c.var.organizationId, c.req.valid("param").webhookId);
    return c.body(null, 204);
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{webhookId}/rotate-secret",
    tags: ["Webhooks"],
    summary: "Rotate a webhook's signing secret",
    description:
      "Issues a new secret (shown this once). For 24 hours deliveries carry two signatures, one with each secret, so the receiver can switch without missing anything. No request body: one is refused (400), except `{}`.",
    middleware: [noBody] as const,
    request: { params: WebhookParam },
    responses: {
      200: {
        description: "The new secret",
        content: { "application/json": { schema: RotatedSecretSchema } },
      },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const rotated = await rotateWebhookSecret(
      c.var.deps,
      c.var.organizationId,
      c.req.valid("param").webhookId,
    );
    return c.json(
      {
        id: rotated.webhook.id,
        secret: rotated.secret,
        previousSecretExpiresAt: isoOrNull(rotated.previousSecretExpiresAt),
      },
      200,
    );
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{webhookId}/deliveries",
    tags: ["Webhooks"],
    summary: "List a webhook's deliveries",
    description:
      "Oldest first; filter by status and event type; cursor-based pagination. Finished deliveries are kept 30 days.",
    request: {
      params: WebhookParam,
      query: PageQuery.extend({
        status: z.enum(DELIVERY_STATUSES).optional(),
        eventType: z.string().min(1).max(64).optional().openapi({ example: "call.failed" }),
      }),
    },
    responses: {
      200: {
        description: "A page of deliveries",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(DeliverySchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { deps } = c.var;
    const { limit, cursor, status, eventType } = c.req.valid("query");
    const webhook = await findWebhook(deps, c.var.organizationId, c.req.valid("param").webhookId);
    const rows = await deps.webhookDeliveries.list(webhook.pk, {
      status,
      eventType,
      limit,
      afterPk: decodeCursor<number>(cursor, "number"),
    });
    const last = rows.at(-1);
    return c.json(
      page(rows.map(deliveryJson), limit, () => last?.pk ?? 0),
      200,
    );
  },
);

webhooksRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{webhookId}/deliveries/{deliveryId}/redeliver",
    tags: ["Webhooks"],
    summary: "Redeliver a delivery",
    description:
      "Sends a delivered or failed delivery again, with the same webhook-id (so a receiver that already has it can tell) and a fresh retry schedule. 409 while it is still pending. No request body: one is refused (400), except `{}`.",
    middleware: [noBody] as const,
    request: { params: DeliveryParam },
    responses: {
      202: {
        description: "Pending again, handed to the queue",
        content: { "application/json": { schema: DeliverySchema } },
      },
      ...errorResponses(401, 404, 409),
    },
  }),
  async (c) => {
    const { webhookId, deliveryId } = c.req.valid("param");
    const delivery = await redeliver(c.var.deps, {
      organizationId: c.var.organizationId,
      webhookId,
      deliveryId,
    });
    afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    return c.json(deliveryJson(delivery), 202);
  },
);
