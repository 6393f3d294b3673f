// Agents and dispositions: the voice agent that makes the calls and the disposition set its
// outcomes are recorded against. Both are an id and a name per organization, so one factory
// serves both.
import { createRoute, z } from "@hono/zod-openapi";
import { DomainError } from "../../domain/errors";
import { errorResponses } from "../errors";
import { createRouter } from "../router";
import { decodeCursor, iso, PageQuery, page, ResourceId } from "../schemas";

export function namedResourceRoutes(kind: "agents" | "dispositions", label: string) {
  const app = createRouter();
  const tag = kind === "agents" ? "Agents" : "Dispositions";
  const field = kind === "agents" ? "agentId" : "dispositionId";
  const Item = z.object({ id: z.string(), name: z.string(), createdAt: z.string() }).openapi(label);
  const Create = z.object({ id: ResourceId.optional(), name: z.string().trim().min(1).max(200) });
  const toJson = (r: { id: string; name: string; createdAt: number }) => ({
    ...r,
    createdAt: iso(r.createdAt),
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: [tag],
      summary: `Create ${label.toLowerCase()}`,
      description: `callConfig.${field} and workflow call steps name it by its id, which is generated when not given; an id already taken answers 409.`,
      request: { body: { required: true, content: { "application/json": { schema: Create } } } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: Item } } },
        ...errorResponses(400, 401, 409),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { deps } = c.var;
      const item = { id: input.id ?? crypto.randomUUID(), name: input.name, createdAt: deps.clock.now() };
      if (!(await deps.campaigns[kind].create(c.var.organizationId, item))) {
        throw new DomainError("conflict", `${label} "${item.id}" already exists.`, [
          { path: "id", message: "already taken" },
        ]);
      }
      return c.json(toJson(item), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: [tag],
      summary: `List ${kind}`,
      description: `Your organization's ${kind}, ordered by id; cursor-based pagination (send \`nextCursor\` as \`cursor\`).`,
      request: { query: PageQuery },
      responses: {
        200: {
          description: "A page, ordered by id",
          content: {
            "application/json": {
              schema: z.object({ data: z.array(Item), nextCursor: z.string().nullable() }),
            },
          },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const rows = await c.var.deps.campaigns[kind].list(
        c.var.organizationId,
        limit,
        decodeCursor(cursor, "string"),
      );
      return c.json(
        page(rows.map(toJson), limit, (r) => r.id),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: [tag],
      summary: `Get ${label.toLowerCase()}`,
      description: `One of your organization's ${kind}; another organization's answers 404, like a missing one.`,
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: label, content: { "application/json": { schema: Item } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const item = await c.var.deps.campaigns[kind].find(c.var.organizationId, c.req.valid("param").id);
      if (!item) throw new DomainError("not_found", `${label} not found.`);
      return c.json(toJson(item), 200);
    },
  );
  return app;
}
