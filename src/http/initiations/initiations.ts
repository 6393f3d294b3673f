// POST /api/v1/initiate/{campaignId}/calls: call a campaign's stored customers chosen by filters;
// GET /api/v1/initiations/{initiationId}: its live progress (an initiation is an import of kind
// `initiation`, so GET /api/v1/imports/{id} answers for it too).
import { createRoute, z } from "@hono/zod-openapi";
import { initiateCalls, MAX_CUSTOM_FILTERS, MAX_FILTER_IDS } from "../../domain/calls/initiate-calls";
import { DomainError } from "../../domain/errors";
import { getImportProgress } from "../../domain/imports/get-import-progress";
import { requestFingerprint } from "../../domain/intake/idempotency";
import { ErrorBodySchema, errorResponses } from "../errors";
import { CallProgressSchema, dialingJson, ImportDialing } from "../imports/imports";
import { createRouter } from "../router";
import { CampaignParam, IdempotencyKey, iso, strictObject } from "../schemas";

const keyList = (description: string) =>
  z
    .array(z.unknown())
    .min(1)
    .max(MAX_FILTER_IDS)
    .optional()
    .openapi({ type: "array", items: { type: "string" }, description });

const Filters = strictObject({
  ids: keyList("Only these customers (loan_id, or lead_id in a lead campaign)."),
  exclude_ids: keyList("Never these customers."),
  payment_status: z
    .array(z.unknown())
    .min(1)
    .max(20)
    .optional()
    .openapi({
      type: "array",
      items: { type: "string" },
      description:
        "Stored payment statuses, case-insensitive. Without this filter paid and received customers are not selected.",
      example: ["bounced"],
    }),
  language: z
    .array(z.unknown())
    .min(1)
    .max(50)
    .optional()
    .openapi({
      type: "array",
      items: { type: "string" },
      description: "Languages, in any spelling a record may use (hindi, hi, hi-IN).",
      example: ["hindi"],
    }),
  custom: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({
      description: `Agent variables that must hold exactly these values (string, number, boolean or null), at most ${MAX_CUSTOM_FILTERS}.`,
      example: { branch: "Pune" },
    }),
}).openapi("InitiationFilters", { description: "Every filter given must hold (AND)." });

const InitiateRequest = z
  .object({
    agentId: z.string().min(1).max(128).optional(),
    dispositionId: z.string().min(1).max(128).optional(),
    limit: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "At most this many customers: the oldest matching ones." }),
    filters: Filters.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.agentId === undefined) !== (body.dispositionId === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [body.agentId === undefined ? "agentId" : "dispositionId"],
        message: "agentId and dispositionId go together (or leave both out to use the campaign's defaults)",
      });
    }
  })
  .openapi("InitiateCallsRequest", {
    description:
      "agentId and dispositionId are required unless the campaign has defaults. Customers with a call already waiting or being dialled in the campaign are not selected again.",
  });

const InitiationResults = z.object({
  totalMatched: z.number().int().openapi({ description: "Customers the filters match." }),
  customersSelected: z.number().int().openapi({ description: "Those taken: all, or `limit` of them." }),
  initiated: z.number().int().openapi({ description: "Selected customers handed to the call queue." }),
  failed: z.number().int().openapi({
    description:
      "Selected customers not handed over yet (they stay in the outbox; the cron hands them over).",
  }),
  batchesProcessed: z.number().int().openapi({ description: "Batches of up to 500 customers." }),
});

const InitiateResponse = z
  .object({
    success: z.boolean(),
    message: z.string().openapi({ example: "Calls initiated for 120 customers" }),
    results: InitiationResults.extend({
      errors: z.array(
        z.object({
          code: z.enum(["unknown_id", "not_queued"]),
          key: z
            .string()
            .optional()
            .openapi({ description: "unknown_id: a listed id the campaign does not hold." }),
          batch: z.number().int().optional(),
          customers: z.number().int().optional(),
          message: z.string(),
        }),
      ),
    }),
    initiationId: z.string(),
  })
  .openapi("InitiateCallsResponse");

const InitiationProgress = z
  .object({
    initiationId: z.string(),
    campaignId: z.string(),
    createdAt: z.string(),
    results: InitiationResults,
    // Pause, resume and cancel apply to an initiation as to an import (POST /api/v1/imports/{id}/...).
    dialing: ImportDialing,
    calls: CallProgressSchema,
  })
  .openapi("InitiationProgress");

export const initiationRoutes = createRouter();

initiationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/initiate/{campaignId}/calls",
    operationId: "initiateCalls",
    tags: ["Calls"],
    summary: "Call stored customers chosen by filters",
    description:
      "Selects the campaign's customers matching every filter, in batches of 500 written to the outbox in SQL, and hands them to the call queue: the same consumer, eligibility rules, calling window and claim as initiateCall. A re-run is a new initiation; with the same Idempotency-Key it is a replay.",
    request: {
      params: CampaignParam,
      headers: z.object({ "idempotency-key": IdempotencyKey }),
      body: { required: true, content: { "application/json": { schema: InitiateRequest } } },
    },
    responses: {
      200: {
        description: "Every selected customer initiated",
        content: { "application/json": { schema: InitiateResponse } },
      },
      207: { description: "Some initiated", content: { "application/json": { schema: InitiateResponse } } },
      400: {
        description: "None initiated (full results), or invalid filters (error body)",
        content: { "application/json": { schema: z.union([InitiateResponse, ErrorBodySchema]) } },
      },
      ...errorResponses(401, 404, 409, 415, 422),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const outcome = await initiateCalls(c.var.deps, {
      organizationId: c.var.organizationId,
      campaignId: c.req.valid("param").campaignId,
      agentId: body.agentId,
      dispositionId: body.dispositionId,
      limit: body.limit,
      filters: body.filters,
      // The campaign is in the path, not the body: the request is both, so the same body sent to
      // another campaign with the same key is another request (422), not a replay.
      idempotency: key
        ? {
            key,
            bodyHash: await requestFingerprint({
              campaignId: c.req.valid("param").campaignId,
              body: await c.req.json(),
            }),
          }
        : undefined,
    });
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(outcome.body as never, outcome.status);
  },
);

initiationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/initiations/{initiationId}",
    operationId: "getInitiation",
    tags: ["Calls"],
    summary: "Get an initiation's progress",
    description:
      "calls.requested = queued + delayed + dispatched + skipped (all reasons) + failed + completed + cancelled at every moment.",
    request: { params: z.object({ initiationId: z.string().min(1).max(64) }) },
    responses: {
      200: { description: "The initiation", content: { "application/json": { schema: InitiationProgress } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { initiationId } = c.req.valid("param");
    const progress = await getImportProgress(c.var.deps, c.var.organizationId, initiationId);
    if (progress.kind !== "initiation") {
      throw new DomainError("not_found", `Initiation "${initiationId}" does not exist.`);
    }
    const r = progress.results;
    return c.json(
      {
        initiationId: progress.importId,
        campaignId: progress.campaignId,
        createdAt: iso(progress.createdAt),
        results: {
          totalMatched: r.matched ?? 0,
          customersSelected: r.total,
          initiated: r.successful,
          failed: r.failed,
          batchesProcessed: r.batchesProcessed,
        },
        dialing: dialingJson(progress.dialing),
        calls: progress.calls,
      },
      200,
    );
  },
);
