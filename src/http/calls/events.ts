// POST /api/v1/calls/events: the dialer reports call outcomes. It is not called with an API key but
// signed with DIALER_SECRET (the same scheme bulkcall uses towards the dialer), so neither the API-key
// middleware nor the JSON body middleware runs on this path (see src/app.ts): dialerSignedBody
// checks the signature over the raw bytes first, and only a signed body is parsed.
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { recordCallEvents } from "../../domain/calls/record-call-events";
import {
  checkSignatureHeader,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
  verifySignature,
} from "../../domain/calls/signature";
import { DomainError } from "../../domain/errors";
import { RETRY_BOUNDS } from "../../domain/model/policy";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { errorResponses } from "../errors";
import { checkJsonMediaType, parseJsonBody, readBody, tooLarge } from "../middleware/json-body";
import { createRouter } from "../router";
import type { AppBindings } from "../types";

const CALL_EVENTS_PATH = "/api/v1/calls/events";
const MAX_EVENTS_PER_REQUEST = 1000;
/**
 * Largest events body: 1,000 events of the documented fields take about 400 KB, and the rest leaves
 * room for the dialer's own keys. A body is refused past this many bytes before it is parsed.
 */
const MAX_EVENTS_BODY_BYTES = 1_048_576;

/**
 * Authenticates before anything else is done with the body: 404 when the deployment has no
 * DIALER_SECRET, 401 for a missing, malformed or stale signature header (the body is not read),
 * 413 past MAX_EVENTS_BODY_BYTES (read with a running count, never buffered whole), 401 when the
 * HMAC does not match the raw bytes; only then 415 for another media type and 400 for invalid JSON.
 */
const dialerSignedBody = createMiddleware<AppBindings>(async (c, next) => {
  const { dialerSecret, clock } = c.var.deps;
  if (!dialerSecret) throw new DomainError("not_found", "Call events are not enabled on this deployment.");
  const header = c.req.header(SIGNATURE_HEADER);
  const nowSeconds = Math.floor(clock.now() / 1000);
  const early = checkSignatureHeader(header, nowSeconds);
  if (!early.ok) throw new DomainError("unauthorized", `Call events must be signed: ${early.problem}.`);
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > MAX_EVENTS_BODY_BYTES) throw tooLarge(MAX_EVENTS_BODY_BYTES);
  // Read with a running count whether or not a length was declared: the cap is far below the
  // platform's own limit, which is all a declared length guarantees.
  const bytes = await readBody(c.req.raw, false, MAX_EVENTS_BODY_BYTES, c.get("requestId"));
  const check = await verifySignature(dialerSecret, header, bytes, nowSeconds);
  if (!check.ok) throw new DomainError("unauthorized", `Call events must be signed: ${check.problem}.`);
  checkJsonMediaType(c.req.header("Content-Type"));
  const parsed = parseJsonBody(bytes);
  c.set("rawBody", bytes);
  c.req.json = <T>() => Promise.resolve(parsed as T);
  await next();
});

/** The dialer's outcome reports: POST on CALL_EVENTS_PATH, which takes no API key. */
export function isCallEventsRequest(c: { req: { method: string; path: string } }): boolean {
  return c.req.method === "POST" && c.req.path === CALL_EVENTS_PATH;
}

const CallEvent = z
  .looseObject({
    id: z.string().min(1).max(128).openapi({ description: "Unique per event: a resent event is ignored." }),
    callId: z.string().min(1).max(64).openapi({ example: "call_5f1c0e2a9b7d4c3e8a6f1b2d" }),
    attempt: z.number().int().min(1).max(RETRY_BOUNDS.maxAttempts.max).optional().openapi({
      description:
        "The attempt the event reports on (the `attempt` of the request that carried the call). Without it, the call's current attempt.",
    }),
    status: z.enum(["completed", "failed"]),
    disposition: z.string().min(1).max(128).optional().openapi({ example: "promise_to_pay" }),
    reason: z.string().min(1).max(200).optional().openapi({
      description:
        "Why a call failed: `no_answer` and `busy` are retried by the campaign's retry policy, `invalid_number` never is, any other reason counts as `failed`.",
    }),
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
    description: `Signed with DIALER_SECRET: \`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">\`. Idempotent on each event's id (per organization). The first outcome reported for an attempt decides it: completed, failed for good, or a retry when the campaign's retry policy allows one.`,
    security: [],
    middleware: [dialerSignedBody] as const,
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
        attempt: e.attempt,
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
