// POST /api/v1/customers/add and PUT /api/v1/customers/update: one customer at a time, judged by the
// same record rules as the bulk endpoint.
import { createRoute, z } from "@hono/zod-openapi";
import { updateCustomer } from "../../domain/customers/update-customer";
import { addCustomer, dryRunAddCustomer } from "../../domain/intake/add-customer";
import { requestFingerprint } from "../../domain/intake/idempotency";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { ErrorBodySchema, errorResponses } from "../errors";
import { createRouter } from "../router";
import { IdempotencyKey } from "../schemas";
import { CallConfigSchema, DryRunAnswerFields } from "./bulk";

/**
 * The request's `data` object as JSON.parse read it. zod's record schema rebuilds the object and
 * drops an own "__proto__" key, which the record rules must see to report it, as they do for the
 * bulk endpoint's records (whose items the schema passes through untouched).
 */
async function rawData(c: { req: { json: <T>() => Promise<T> } }): Promise<unknown> {
  return (await c.req.json<{ data: unknown }>()).data;
}

const AddCustomerRequest = z
  .object({
    campaignId: z.string().min(1).max(128).openapi({ example: "demo-emi" }),
    // Judged by the record rules after the envelope passes, like a bulk request's records.
    data: z.record(z.string(), z.unknown()).openapi({
      description: "One record, exactly as one of the bulk endpoint's records (schema CustomerRecord).",
      example: {
        loan_id: "LN-1001",
        first_name: "Asha",
        phone_number: "9876543210",
        emi_amount: 12500,
        emi_due_date: "2026-12-05",
      },
    }),
    initiateCall: z.boolean().default(false),
    callConfig: CallConfigSchema.optional().openapi({
      description:
        "Required when initiateCall is true, unless the campaign has a default agentId and dispositionId.",
    }),
    dryRun: z.boolean().default(false).openapi({
      description:
        "true: answer exactly what this request would answer now (201, 400 or 409, and with initiateCall callInitiated plus a `preview` of the call), and write nothing. The Idempotency-Key is neither read nor claimed.",
    }),
  })
  .openapi("AddCustomerRequest");

const AddCustomerResponse = z
  .object({
    success: z.literal(true),
    message: z.literal("Customer added to campaign successfully"),
    data: z.object({
      id: z.string().openapi({ description: "The customer's loan_id (lead_id in a lead campaign)." }),
      campaignId: z.string(),
    }),
    callInitiated: z
      .boolean()
      .optional()
      .openapi({ description: "Only with initiateCall: the customer was handed to the call queue." }),
    callError: z.string().optional().openapi({
      description: "Only when the call could not be handed over yet (it is handed over automatically later).",
    }),
    ...DryRunAnswerFields,
  })
  .openapi("AddCustomerResponse");

const UpdateCustomerRequest = z
  .object({
    campaignId: z.string().min(1).max(128).openapi({ example: "demo-emi" }),
    loan_id: z.string().optional().openapi({ description: "Names the customer in emi and edi campaigns." }),
    lead_id: z.string().optional().openapi({ description: "Names the customer in lead campaigns." }),
    data: z.record(z.string(), z.unknown()).openapi({
      description:
        "The fields to change, written as in a record (documented fields and extra keys as agent variables). null clears an optional field or removes a variable; a required field cannot be cleared and the key cannot change.",
      example: { payment_status: "paid", emi_due_date: "2026-12-05" },
    }),
  })
  .openapi("UpdateCustomerRequest");

const UpdateCustomerResponse = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: "Customer updated" }),
    data: z.object({
      id: z.string(),
      result: z.enum(["updated", "unchanged"]),
      changed: z.array(z.string()).openapi({
        description: "Documented fields, then agent variables, whose stored value changed.",
        example: ["payment_status"],
      }),
    }),
  })
  .openapi("UpdateCustomerResponse");

export const singleCustomerRoutes = createRouter();

singleCustomerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/add",
    operationId: "addCustomer",
    tags: ["Customers"],
    summary: "Add one customer",
    description:
      "The same record rules, messages, duplicate check and Idempotency-Key semantics as the bulk endpoint. With initiateCall the customer is handed to the call queue at once.",
    request: {
      headers: z.object({ "idempotency-key": IdempotencyKey }),
      body: { required: true, content: { "application/json": { schema: AddCustomerRequest } } },
    },
    responses: {
      201: { description: "Added", content: { "application/json": { schema: AddCustomerResponse } } },
      400: {
        description:
          "The record breaks a rule (invalid_record, every field named as data.<field>), or an envelope error",
        content: { "application/json": { schema: ErrorBodySchema } },
      },
      409: {
        description: "duplicate_existing: the campaign already holds a customer with this key",
        content: { "application/json": { schema: ErrorBodySchema } },
      },
      ...errorResponses(401, 404, 413, 415, 422),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const input = {
      organizationId: c.var.organizationId,
      campaignId: body.campaignId,
      data: await rawData(c),
      initiateCall: body.initiateCall,
      callConfig: body.callConfig,
    };
    if (body.dryRun) {
      const dry = await dryRunAddCustomer(c.var.deps, input);
      return c.json(dry.body as never, dry.status);
    }
    const outcome = await addCustomer(c.var.deps, {
      ...input,
      idempotency: key ? { key, bodyHash: await requestFingerprint(await c.req.json()) } : undefined,
    });
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    else if (outcome.notifies) afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    return c.json(outcome.body as never, outcome.status);
  },
);

singleCustomerRoutes.openapi(
  createRoute({
    method: "put",
    path: "/update",
    operationId: "updateCustomer",
    tags: ["Customers"],
    summary: "Update one customer",
    description:
      "A partial update judged by the same record rules as the intake (the stored record merged with the patch). Setting payment_status to paid or received skips the customer's waiting calls in the same write, and its running workflow runs end at their next step.",
    request: { body: { required: true, content: { "application/json": { schema: UpdateCustomerRequest } } } },
    responses: {
      200: {
        description: "Updated, or nothing to change",
        content: { "application/json": { schema: UpdateCustomerResponse } },
      },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const result = await updateCustomer(c.var.deps, {
      organizationId: c.var.organizationId,
      campaignId: body.campaignId,
      keys: { loan_id: body.loan_id, lead_id: body.lead_id },
      patch: (await rawData(c)) as Record<string, unknown>,
    });
    // Calls a payment skipped recorded their call.skipped deliveries with them.
    if (result.result === "updated") afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
    return c.json(
      {
        success: true as const,
        message: result.result === "updated" ? "Customer updated" : "Nothing to change",
        data: result,
      },
      200,
    );
  },
);
