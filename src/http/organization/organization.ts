// GET / PATCH /api/v1/organization: the API key's organization and its dialing policy.
import { createRoute, z } from "@hono/zod-openapi";
import type { Organization } from "../../domain/model/organization";
import { getOrganization, updateOrganizationPolicy } from "../../domain/organization/organization-policy";
import { errorResponses } from "../errors";
import { BlackoutDates, ContactPolicyPatch, ContactPolicySchema } from "../policy-schemas";
import { createRouter } from "../router";
import { iso } from "../schemas";

const OrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    contactPolicy: ContactPolicySchema,
    callingWindow: z.object({ blackoutDates: z.array(z.string()) }).openapi({
      description: "Dates on which no campaign of the organization calls (each campaign's local date).",
    }),
    createdAt: z.string(),
  })
  .openapi("Organization");

const OrganizationPatch = z
  .object({
    contactPolicy: ContactPolicyPatch.optional(),
    callingWindow: z.object({ blackoutDates: BlackoutDates }).optional(),
  })
  .strict()
  .openapi("OrganizationPatch");

function organizationJson(o: Organization) {
  return {
    id: o.id,
    name: o.name,
    contactPolicy: o.contactPolicy,
    callingWindow: { blackoutDates: o.blackoutDates },
    createdAt: iso(o.createdAt),
  };
}

export const organizationRoutes = createRouter();

organizationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "getOrganization",
    tags: ["Organization"],
    summary: "Read your organization and its dialing policy",
    description:
      "The contact limits every campaign of the organization obeys (per phone number and per loan_id, across campaigns) and the dates on which nobody is called.",
    responses: {
      200: {
        description: "The organization",
        content: { "application/json": { schema: OrganizationSchema } },
      },
      ...errorResponses(401),
    },
  }),
  async (c) => c.json(organizationJson(await getOrganization(c.var.deps, c.var.organizationId)), 200),
);

organizationRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/",
    operationId: "updateOrganization",
    tags: ["Organization"],
    summary: "Change your organization's contact limits and blackout dates",
    description:
      "Fields left out keep their value. The limits count attempts per phone number and per loan_id across all campaigns; a campaign may tighten them, never loosen them.",
    request: { body: { required: true, content: { "application/json": { schema: OrganizationPatch } } } },
    responses: {
      200: {
        description: "The organization",
        content: { "application/json": { schema: OrganizationSchema } },
      },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const updated = await updateOrganizationPolicy(c.var.deps, c.var.organizationId, {
      contactPolicy: body.contactPolicy,
      blackoutDates: body.callingWindow?.blackoutDates,
    });
    return c.json(organizationJson(updated), 200);
  },
);
