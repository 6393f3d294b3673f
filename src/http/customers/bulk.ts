import { createRoute, z } from "@hono/zod-openapi";
import { addCustomersInBulk, dryRunBulk, MAX_RECORDS } from "../../domain/intake/add-customers-in-bulk";
import { requestFingerprint } from "../../domain/intake/idempotency";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { ErrorBodySchema, errorResponses } from "../errors";
import { createRouter } from "../router";
import { IdempotencyKey, ImportCountsSchema, RefreshCountsSchema } from "../schemas";

export const CallConfigSchema = z
  .object({ agentId: z.string().min(1).max(128), dispositionId: z.string().min(1).max(128) })
  .openapi("CallConfig");

const BulkRequest = z
  .object({
    campaignId: z.string().min(1).max(128).openapi({ example: "demo-emi" }),
    // Records are judged one by one after the envelope passes, so that a bad record never fails
    // the whole request; here only their number is checked.
    records: z
      .array(z.unknown())
      .min(1)
      .max(MAX_RECORDS)
      .openapi({
        type: "array",
        items: { $ref: "#/components/schemas/CustomerRecord" },
        maxItems: MAX_RECORDS,
      }),
    initiateCall: z.boolean().default(false),
    callConfig: CallConfigSchema.optional().openapi({
      description:
        "Required when initiateCall is true, unless the campaign has a default agentId and dispositionId. With useWorkflow, the agent and disposition of the workflow's call steps that name none (the campaign's defaults otherwise).",
    }),
    useWorkflow: z.boolean().default(false),
    onExisting: z.enum(["skip", "update"]).default("skip").openapi({
      description:
        "What happens to a record whose key the campaign already holds. skip (the default): it fails with duplicate_existing and the stored customer is left alone. update: the stored customer is refreshed in place with the record (it counts as successful: updated, or unchanged when every value was the same). With initiateCall, added customers are called, and updated ones that became callable again: not paid or received after the update, and their emi_due_date, lead_date or payment_status changed. A record that makes a customer paid or received skips its waiting calls in the same write.",
    }),
    dryRun: z.boolean().default(false).openapi({
      description:
        "true: answer exactly what this request would answer now (status, counts, every error including duplicate_existing, and with initiateCall the calls it would hand over plus a `preview`), and write nothing: no customers, no import, no calls. The Idempotency-Key is neither read nor claimed.",
    }),
  })
  .superRefine((body, ctx) => {
    if (body.initiateCall && body.useWorkflow) {
      ctx.addIssue({
        code: "custom",
        path: ["useWorkflow"],
        message: "cannot be true when initiateCall is true",
      });
    }
  })
  .openapi("BulkAddCustomersRequest");

const DryRunPreviewSchema = z
  .object({
    wouldCall: z.number().int().openapi({ description: "Customers whose call would be placed." }),
    skipped: z
      .object({ paid: z.number().int(), suppressed: z.number().int() })
      .openapi({ description: "Customers handed over whose call would be skipped at dial time, by reason." }),
    firstCallAt: z.string().datetime().nullable().openapi({
      description:
        "When the first call would be placed (UTC): now when the campaign's calling window is open, else its next opening (past the campaign's and the organization's blackout dates); null when no call would be placed or the campaign is paused. The contact limits are judged at dial time.",
    }),
    paused: z.literal(true).optional().openapi({
      description: "Only when the campaign is paused: the calls would be held until it is resumed.",
    }),
  })
  .openapi("DryRunPreview");

/** The fields by which a dry run's answer differs from the real one (bulk and single add alike). */
export const DryRunAnswerFields = {
  preview: DryRunPreviewSchema.optional().openapi({ description: "Only in a dry run with initiateCall." }),
  importId: z
    .string()
    .optional()
    .openapi({ description: "The import the request ran as; absent in a dry run." }),
  dryRun: z
    .literal(true)
    .optional()
    .openapi({ description: "Only in a dry run's answer: nothing was written." }),
};

const RecordError = z.object({
  index: z.number().int(),
  key: z.string().optional(),
  code: z.enum(["invalid_record", "duplicate_in_request", "duplicate_existing", "storage_error"]),
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const BulkResponse = z
  .object({
    success: z.boolean(),
    message: z.string().openapi({ example: "Added 3 of 3 records" }),
    results: ImportCountsSchema.extend({
      ...RefreshCountsSchema.shape,
      errors: z.array(RecordError),
    }),
    callResults: z
      .object({
        requested: z.number().int(),
        queued: z.number().int(),
        batches: z.number().int(),
        failed: z.number().int(),
        errors: z.array(
          z.object({ batch: z.number().int(), customers: z.number().int(), message: z.string() }),
        ),
      })
      .optional()
      .openapi({ description: "Only when initiateCall was true." }),
    workflowTriggered: z.boolean().optional().openapi({ description: "Only when useWorkflow was true." }),
    ...DryRunAnswerFields,
  })
  .openapi("BulkAddCustomersResponse");

/** On the answers an Idempotency-Key retry can get back: 201, 207 and the 400 with results. */
const ReplayHeaders = {
  "Idempotent-Replayed": {
    description:
      "`true` on the stored answer to an earlier request with the same Idempotency-Key and body: this request wrote nothing.",
    schema: { type: "string" as const, enum: ["true"] },
  },
};

export const bulkRoutes = createRouter();

bulkRoutes.openapi(
  createRoute({
    method: "post",
    path: "/add/bulk",
    operationId: "addCustomersInBulk",
    tags: ["Customers"],
    summary: "Bulk add customers",
    description: `Adds up to ${MAX_RECORDS.toLocaleString("en-US")} customers to a campaign (with onExisting "update", refreshes the ones it holds: the daily file of a loan-management system). Valid records are stored in atomic chunks; with initiateCall the added customers are handed to the call queue in batches of 500, with useWorkflow to the workflow queue.`,
    request: {
      headers: z.object({ "idempotency-key": IdempotencyKey }),
      body: { required: true, content: { "application/json": { schema: BulkRequest } } },
    },
    responses: {
      201: {
        description: "All records added",
        headers: ReplayHeaders,
        content: { "application/json": { schema: BulkResponse } },
      },
      207: {
        description: "Some records added",
        headers: ReplayHeaders,
        content: { "application/json": { schema: BulkResponse } },
      },
      400: {
        description: "No record added (full results), or an envelope error (error body)",
        headers: ReplayHeaders,
        content: {
          "application/json": {
            schema: z.union([BulkResponse, ErrorBodySchema]),
          },
        },
      },
      ...errorResponses(401, 404, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const parsed = await c.req.json<{ records: unknown[] }>();
    const bodyHash = key && !body.dryRun ? await requestFingerprint(parsed) : undefined;
    // The import consumes its records (BulkInput.records): it gets the validator's copy of the
    // array, and the parsed body lets go of the original, so no other reference holds them.
    parsed.records = [];
    const input = {
      organizationId: c.var.organizationId,
      campaignId: body.campaignId,
      records: body.records,
      initiateCall: body.initiateCall,
      useWorkflow: body.useWorkflow,
      callConfig: body.callConfig,
      onExisting: body.onExisting,
    };
    if (body.dryRun) {
      const dry = await dryRunBulk(c.var.deps, input);
      return c.json(dry.body, dry.status);
    }
    const outcome = await addCustomersInBulk(c.var.deps, {
      ...input,
      idempotency: key && bodyHash !== undefined ? { key, bodyHash } : undefined,
    });
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    // The completed import recorded its import.completed deliveries with it.
    else if (outcome.notifies) afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    if (outcome.afterAnswer) afterResponse(c, outcome.afterAnswer);
    return c.json(outcome.body, outcome.status);
  },
);
