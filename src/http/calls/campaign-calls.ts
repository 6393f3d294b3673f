// GET /api/v1/campaigns/{campaignId}/calls: one row per customer per request, newest last.
import { createRoute, z } from "@hono/zod-openapi";
import { DomainError } from "../../domain/errors";
import { CALL_STATUSES } from "../../domain/model/call";
import type { CallListItem } from "../../domain/ports/calls-repository";
import { errorResponses } from "../errors";
import { createRouter } from "../router";
import { CampaignParam, decodeCursor, iso, PageQuery, page } from "../schemas";

const CallSchema = z
  .object({
    callId: z.string(),
    customerId: z.number().int(),
    loan_id: z.string().nullable(),
    lead_id: z.string().nullable(),
    phone_number: z.string().openapi({ example: "+919876543210" }),
    status: z.enum(CALL_STATUSES),
    reason: z.string().nullable().openapi({ description: "Why a call was skipped, delayed or failed." }),
    disposition: z.string().nullable(),
    providerCallId: z.string().nullable().openapi({ description: "The dialer's own id for the call." }),
    attempts: z.number().int(),
    notBefore: z.string().nullable().openapi({ description: "For delayed calls: when the window opens." }),
    importId: z.string(),
    origin: z.string().openapi({ description: '"bulk" for initiateCall; workflow steps have their own.' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Call");

function callJson(c: CallListItem) {
  return {
    callId: c.id,
    customerId: c.customerId,
    loan_id: c.loanId,
    lead_id: c.leadId,
    phone_number: c.phoneNumber,
    status: c.status,
    reason: c.reason,
    disposition: c.disposition,
    providerCallId: c.providerCallId,
    attempts: c.attempts,
    notBefore: c.notBefore === null ? null : iso(c.notBefore),
    importId: c.importId,
    origin: c.origin,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export const campaignCallsRoutes = createRouter();

campaignCallsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{campaignId}/calls",
    tags: ["Calls"],
    summary: "List a campaign's calls",
    description: "Oldest first; filter by status; cursor-based pagination.",
    request: {
      params: CampaignParam,
      query: PageQuery.extend({ status: z.enum(CALL_STATUSES).optional() }),
    },
    responses: {
      200: {
        description: "A page of calls",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(CallSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { deps } = c.var;
    const { limit, cursor, status } = c.req.valid("query");
    const campaign = await deps.campaigns.findCampaign(c.var.organizationId, c.req.valid("param").campaignId);
    if (!campaign) throw new DomainError("campaign_not_found", "Campaign not found.");
    const rows = await deps.calls.listByCampaign(campaign.pk, {
      status,
      limit,
      afterPk: decodeCursor<number>(cursor, "number"),
    });
    const last = rows.at(-1);
    const body = page(rows.map(callJson), limit, () => last?.pk ?? 0);
    return c.json(body, 200);
  },
);
