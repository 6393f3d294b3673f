// /api/v1/suppressions: the organization's do-not-call list.
import { createRoute, z } from "@hono/zod-openapi";
import {
  addSuppressions,
  listSuppressions,
  MAX_SUPPRESSIONS_PER_REQUEST,
  removeSuppression,
} from "../../domain/calls/suppressions";
import { ErrorBodySchema, errorResponses } from "../errors";
import { createRouter } from "../router";
import { Country, decodeCursor, iso, PageQuery, page } from "../schemas";

const DefaultCountry = Country.default("IN").openapi({
  description: "Country assumed for numbers without a country code.",
  example: "IN",
});

const AddSuppressions = z
  .object({
    phone_numbers: z
      .array(z.unknown())
      .min(1)
      .max(MAX_SUPPRESSIONS_PER_REQUEST)
      .openapi({
        type: "array",
        items: { oneOf: [{ type: "string" }, { type: "integer" }] },
        maxItems: MAX_SUPPRESSIONS_PER_REQUEST,
        example: ["+919876543210", "09876543211"],
      }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ example: "customer asked not to be called" }),
    defaultCountry: DefaultCountry,
  })
  .openapi("AddSuppressionsRequest");

const AddSuppressionsResponse = z
  .object({
    success: z.boolean(),
    message: z.string().openapi({ example: "Suppressed 2 of 2 numbers" }),
    results: z.object({
      total: z.number().int(),
      valid: z.number().int(),
      invalid: z.number().int(),
      added: z.number().int().openapi({ description: "Distinct numbers newly put on the list." }),
      alreadySuppressed: z.number().int(),
      repeated: z.number().int().openapi({ description: "Valid entries repeating an earlier one." }),
      errors: z.array(
        z.object({
          index: z.number().int(),
          phone_number: z.union([z.string(), z.number(), z.boolean()]).nullable().openapi({
            description: "The entry as sent (strings clipped to 64 characters); null for an array or object.",
          }),
          message: z.string(),
        }),
      ),
    }),
  })
  .openapi("AddSuppressionsResponse");

const SuppressionSchema = z
  .object({
    phone_number: z.string().openapi({ example: "+919876543210" }),
    reason: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Suppression");

export const suppressionsRoutes = createRouter();

suppressionsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    operationId: "addSuppressions",
    tags: ["Suppressions"],
    summary: "Add numbers to the suppression list",
    description: `Up to ${MAX_SUPPRESSIONS_PER_REQUEST.toLocaleString("en-US")} numbers, normalized to E.164 like customer phones. Invalid entries are reported one by one; the valid ones are stored. A suppressed number is never dialled.`,
    request: { body: { required: true, content: { "application/json": { schema: AddSuppressions } } } },
    responses: {
      201: {
        description: "Every number stored",
        content: { "application/json": { schema: AddSuppressionsResponse } },
      },
      207: {
        description: "Some numbers invalid",
        content: { "application/json": { schema: AddSuppressionsResponse } },
      },
      400: {
        description: "No valid number (full results), or an envelope error",
        content: { "application/json": { schema: z.union([AddSuppressionsResponse, ErrorBodySchema]) } },
      },
      ...errorResponses(401, 413, 415),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const results = await addSuppressions(c.var.deps, {
      organizationId: c.var.organizationId,
      phoneNumbers: body.phone_numbers,
      reason: body.reason,
      defaultCountry: body.defaultCountry,
    });
    const status = results.invalid === 0 ? 201 : results.valid > 0 ? 207 : 400;
    return c.json(
      {
        success: results.invalid === 0,
        message: `Suppressed ${results.valid} of ${results.total} numbers`,
        results,
      },
      status,
    );
  },
);

suppressionsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Suppressions"],
    summary: "List suppressed numbers",
    description: "Ordered by number; cursor-based pagination.",
    request: { query: PageQuery },
    responses: {
      200: {
        description: "A page of suppressed numbers",
        content: {
          "application/json": {
            schema: z.object({ data: z.array(SuppressionSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listSuppressions(
      c.var.deps,
      c.var.organizationId,
      limit,
      decodeCursor<string>(cursor, "string"),
    );
    return c.json(
      page(
        rows.map((r) => ({ phone_number: r.phoneNumber, reason: r.reason, createdAt: iso(r.createdAt) })),
        limit,
        (r) => r.phone_number,
      ),
      200,
    );
  },
);

suppressionsRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{phone}",
    tags: ["Suppressions"],
    summary: "Remove a number from the suppression list",
    description: "The number may be written any way a customer phone may (URL-encode the +: %2B).",
    request: {
      params: z.object({ phone: z.string().min(1).max(64).openapi({ example: "+919876543210" }) }),
      query: z.object({ defaultCountry: DefaultCountry }),
    },
    responses: {
      204: { description: "Removed" },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    await removeSuppression(c.var.deps, {
      organizationId: c.var.organizationId,
      phoneNumber: c.req.valid("param").phone,
      defaultCountry: c.req.valid("query").defaultCountry,
    });
    return c.body(null, 204);
  },
);
