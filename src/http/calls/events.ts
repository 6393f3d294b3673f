// POST /api/v1/calls/events: the dialer reports call outcomes. It is not called with an API key but
// signed with DIALER_SECRET (the same scheme bulkcall uses towards the dialer), so the API-key
// middleware skips this path (see src/app.ts) and dialerSignature guards it instead.
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { recordCallEvents } from "../../domain/calls/record-call-events";
import { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS, verifySignature } from "../../domain/calls/signature";
import { DomainError } from "../../domain/errors";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { errorResponses } from "../errors";
import { createRouter } from "../router";
import type { AppBindings } from "../types";

export const CALL_EVENTS_PATH = "/api/v1/calls/events";
export const MAX_EVENTS_PER_REQUEST = 1000;

/** Runs after the JSON body middleware, which keeps the exact bytes the signature covers. */
const dialerSignature = createMiddleware<AppBindings>(async (c, next) => {
  const { dialerSecret, clock } = c.var.deps;
  if (!dialerSecret) throw new DomainError("not_found", "Call events are not enabled on this deployment.");
  const check = await verifySignature(
    dialerSecret,
    c.req.header(SIGNATURE_HEADER),
    c.var.rawBody ?? new ArrayBuffer(0),
    Math.floor(clock.now() / 1000),
  );
  if (!check.ok) throw new DomainError("unauthorized", `Call events must be signed: ${check.problem}.`);
  await next();
});

const CallEvent = z
  .looseObject({
    id: z.string().min(1).max(128).openapi({ description: "Unique per event: a resent event is ignored." }),
    callId: z.string().min(1).max(64).openapi({ example: "call_5f1c0e2a9b7d4c3e8a6f1b2d" }),
    status: z.enum(["completed", "failed"]),
    disposition: z.string().min(1).max(128).optional().openapi({ example: "promise_to_pay" }),
    reason: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Why a call failed, e.g. no_answer." }),
    providerCallId: z.string().min(1).max(128).optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .openapi("CallEvent");

const CallEventsRequest = z
  .object({ events: z.array(CallEvent).min(1).max(MAX_EVENTS_PER_REQUEST) })
  .openapi("CallEventsRequest");

const CallEventsResponse = z
  .object({
    received: z.number().int(),
    recorded: z.number().int(),
    duplicates: z.number().int(),
    unknownCalls: z.array(z.string()),
  })
  .openapi("CallEventsResponse");

export const callEventsRoutes = createRouter();

callEventsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/events",
    operationId: "reportCallEvents",
    tags: ["Calls"],
    summary: "Report call outcomes (dialer only)",
    description: `Signed with DIALER_SECRET: \`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">\`. Idempotent on each event's id. The first completed/failed event of a call sets its status and disposition.`,
    security: [],
    middleware: [dialerSignature] as const,
    request: {
      headers: z.object({
        [SIGNATURE_HEADER.toLowerCase()]: z
          .string()
          .optional()
          .openapi({
            description: `\`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with DIALER_SECRET>\`, signed at most ${SIGNATURE_TOLERANCE_SECONDS} seconds from our clock. Missing or wrong: 401.`,
            example: "t=1795800000,v1=5d41402abc4b2a76b9719d911017c592ae5d1a6f0c2b9e7d4a4c1e9b3f2a6d8e",
          }),
      }),
      body: { required: true, content: { "application/json": { schema: CallEventsRequest } } },
    },
    responses: {
      200: { description: "Events stored", content: { "application/json": { schema: CallEventsResponse } } },
      ...errorResponses(400, 401, 404, 413, 415),
    },
  }),
  async (c) => {
    const { events } = c.req.valid("json");
    const result = await recordCallEvents(
      c.var.deps,
      events.map((e) => ({
        id: e.id,
        callId: e.callId,
        status: e.status,
        disposition: e.disposition,
        reason: e.reason,
        providerCallId: e.providerCallId,
        occurredAt: e.occurredAt === undefined ? undefined : Date.parse(e.occurredAt),
        raw: e,
      })),
    );
    // Calls that ended recorded their outcome events with their new status.
    if (result.recorded > 0) afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    return c.json(result, 200);
  },
);
