import { createRoute, z } from "@hono/zod-openapi";
import { generateApiKey, revokeApiKey, sha256Hex } from "../../domain/auth";
import { DomainError } from "../../domain/errors";
import { newId } from "../../domain/ids";
import { errorResponses } from "../errors";
import { createRouter } from "../router";

export const adminRoutes = createRouter();

const Name = z.object({ name: z.string().trim().min(1).max(200) });

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/organizations",
    tags: ["Admin"],
    summary: "Create an organization",
    description: "Creates an organization, with a generated id; then issue it an API key.",
    request: { body: { required: true, content: { "application/json": { schema: Name } } } },
    responses: {
      201: {
        description: "Created",
        content: { "application/json": { schema: z.object({ id: z.string(), name: z.string() }) } },
      },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const org = await c.var.deps.tenancy.createOrganization({
      id: newId("org"),
      name,
      createdAt: c.var.deps.clock.now(),
    });
    return c.json({ id: org.id, name: org.name }, 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/organizations/{id}/api-keys",
    tags: ["Admin"],
    summary: "Create an API key (shown this once)",
    description:
      "Issues a new random API key for the organization. The key is in this answer only: bulkcall stores its SHA-256 digest, never the key.",
    request: {
      params: z.object({ id: z.string() }),
      body: { required: true, content: { "application/json": { schema: Name } } },
    },
    responses: {
      201: {
        description: "Created; the key is never shown again",
        content: { "application/json": { schema: z.object({ id: z.string(), key: z.string() }) } },
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { deps } = c.var;
    const organizationId = c.req.valid("param").id;
    if (!(await deps.tenancy.findOrganization(organizationId))) {
      throw new DomainError("not_found", "Organization not found.");
    }
    const key = generateApiKey();
    const id = newId("key");
    await deps.tenancy.createApiKey({
      id,
      organizationId,
      name: c.req.valid("json").name,
      keyHash: await sha256Hex(key),
      createdAt: deps.clock.now(),
    });
    return c.json({ id, key }, 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/api-keys/{id}",
    tags: ["Admin"],
    summary: "Revoke an API key",
    description:
      "Requests with the key answer 401 from then on. A key that is unknown or already revoked answers 404.",
    request: { params: z.object({ id: z.string() }) },
    responses: { 204: { description: "Revoked" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { deps } = c.var;
    if (!(await revokeApiKey(deps, c.req.valid("param").id))) {
      throw new DomainError("not_found", "No live API key with this id.");
    }
    return c.body(null, 204);
  },
);
