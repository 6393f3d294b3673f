// POST /api/v1/campaigns/{campaignId}/pause | resume | cancel: a campaign's dialing as a whole.
import { createRoute, z } from "@hono/zod-openapi";
import { cancelCampaign, pauseCampaign, resumeCampaign } from "../../domain/dialing/control";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { errorResponses } from "../errors";
import { noBody } from "../middleware/json-body";
import { createRouter } from "../router";
import { CampaignParam } from "../schemas";
import { CampaignSchema, campaignDetailsJson } from "./campaigns";

export const campaignDialingRoutes = createRouter();

const Cancelled = z
  .object({
    imports: z.number().int().openapi({ description: "Imports cancelled (those that still had work)." }),
    calls: z.number().int().openapi({ description: "Waiting calls cancelled." }),
    runs: z.number().int().openapi({ description: "Workflow runs ended." }),
  })
  .openapi("Cancelled");

for (const [action, run, summary, description] of [
  [
    "pause",
    pauseCampaign,
    "Pause a campaign's calls",
    "Nothing new of any of its imports goes to the dialer; waiting calls keep their place and live calls are not hung up. Idempotent.",
  ],
  [
    "resume",
    resumeCampaign,
    "Resume a campaign's calls",
    "Waiting calls (except those of imports paused on their own) are judged again and placed where they stopped. Idempotent.",
  ],
] as const) {
  campaignDialingRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{campaignId}/${action}`,
      operationId: `${action}Campaign`,
      tags: ["Campaigns"],
      summary,
      description: `${description} No request body: one is refused (400), except \`{}\`.`,
      middleware: [noBody] as const,
      request: { params: CampaignParam },
      responses: {
        200: {
          description: "The campaign as it now is",
          content: { "application/json": { schema: CampaignSchema } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const campaign = await run(c.var.deps, c.var.organizationId, c.req.valid("param").campaignId);
      return c.json(await campaignDetailsJson(c.var.deps, c.var.organizationId, campaign), 200);
    },
  );
}

campaignDialingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{campaignId}/cancel",
    operationId: "cancelCampaign",
    tags: ["Campaigns"],
    summary: "Cancel a campaign's calls",
    description:
      "Cancels every import of the campaign that still has work: waiting calls become cancelled, workflow runs not finished end; live calls are not hung up. The campaign stays (paused or not, as it was) and takes new imports. No request body: one is refused (400), except `{}`.",
    middleware: [noBody] as const,
    request: { params: CampaignParam },
    responses: {
      200: {
        description: "The campaign, and what was cancelled",
        content: { "application/json": { schema: CampaignSchema.extend({ cancelled: Cancelled }) } },
      },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { campaign, cancelled } = await cancelCampaign(
      c.var.deps,
      c.var.organizationId,
      c.req.valid("param").campaignId,
    );
    // Runs a cancel ended recorded their outcome events.
    afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    return c.json(
      { ...(await campaignDetailsJson(c.var.deps, c.var.organizationId, campaign)), cancelled },
      200,
    );
  },
);
