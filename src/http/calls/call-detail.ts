// GET /api/v1/calls/{callId}: one call, its attempts and its decision log.
import { createRoute, z } from "@hono/zod-openapi";
import { getCall, MAX_DECISIONS_LISTED } from "../../domain/calls/get-call";
import { CALL_OUTCOMES, CALL_STATUSES, DECISIONS, decisionOf } from "../../domain/model/call";
import { errorResponses } from "../errors";
import { createRouter } from "../router";
import { iso } from "../schemas";

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const CallDetailSchema = z
  .object({
    callId: z.string(),
    campaignId: z.string(),
    importId: z.string(),
    origin: z.string(),
    customerId: z.number().int(),
    customerKey: z.string().nullable().openapi({ description: "The customer's loan_id, or lead_id." }),
    loan_id: z.string().nullable(),
    lead_id: z.string().nullable(),
    phone_number: z.string(),
    status: z.enum(CALL_STATUSES),
    reason: z.string().nullable(),
    disposition: z.string().nullable(),
    providerCallId: z.string().nullable(),
    notBefore: z.string().nullable().openapi({ description: "For a delayed call: not before this moment." }),
    attempts: z
      .array(
        z.object({
          attempt: z.number().int(),
          startedAt: z.string().openapi({ description: "When the attempt was handed to the dialer." }),
          endedAt: z.string().nullable(),
          outcome: z.enum(CALL_OUTCOMES).nullable(),
          reason: z.string().nullable(),
          disposition: z.string().nullable(),
        }),
      )
      .openapi({ description: "Each dial attempt, first first." }),
    decisions: z
      .array(
        z.object({
          at: z.string(),
          decision: z.enum(DECISIONS),
          status: z.enum(CALL_STATUSES),
          reason: z.string().nullable(),
          notBefore: z.string().nullable(),
          attempt: z.number().int(),
        }),
      )
      .openapi({
        description: `Every judgement of the call, oldest first (at most ${MAX_DECISIONS_LISTED}): dispatched, delayed (and why, until when), paused, retry_scheduled, skipped, cancelled, failed, completed, released (the dialer did not take it).`,
      }),
    decisionsTruncated: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("CallDetail");

export const callDetailRoutes = createRouter();

callDetailRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{callId}",
    operationId: "getCall",
    tags: ["Calls"],
    summary: "Get one call with its attempts and decision log",
    description:
      "The call, each of its dial attempts (time and outcome), and every judgement of it with its reason and moment: why it was called when it was, and why not earlier. Another organization's call is 404.",
    request: { params: z.object({ callId: z.string().min(1).max(64) }) },
    responses: {
      200: { description: "The call", content: { "application/json": { schema: CallDetailSchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { call, campaignId, attempts, decisions, decisionsTruncated } = await getCall(
      c.var.deps,
      c.var.organizationId,
      c.req.valid("param").callId,
    );
    return c.json(
      {
        callId: call.id,
        campaignId,
        importId: call.importId,
        origin: call.origin,
        customerId: call.customerId,
        customerKey: call.loanId ?? call.leadId,
        loan_id: call.loanId,
        lead_id: call.leadId,
        phone_number: call.phoneNumber,
        status: call.status,
        reason: call.reason,
        disposition: call.disposition,
        providerCallId: call.providerCallId,
        notBefore: isoOrNull(call.notBefore),
        attempts: attempts.map((a) => ({ ...a, startedAt: iso(a.startedAt), endedAt: isoOrNull(a.endedAt) })),
        decisions: decisions.map((d) => ({
          at: iso(d.at),
          decision: decisionOf(d.status, d.reason),
          status: d.status,
          reason: d.reason,
          notBefore: isoOrNull(d.notBefore),
          attempt: d.attempt,
        })),
        decisionsTruncated,
        createdAt: iso(call.createdAt),
        updatedAt: iso(call.updatedAt),
      },
      200,
    );
  },
);
