import { createMiddleware } from "hono/factory";
import { authenticate, bearerToken, secretsEqual } from "../../domain/auth";
import { DomainError } from "../../domain/errors";
import type { AppBindings } from "../types";

/** /api/v1: the Bearer API key decides the organization every later query is scoped to. */
export const apiKeyAuth = createMiddleware<AppBindings>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw new DomainError("unauthorized", "Send your API key as Authorization: Bearer <key>.");
  const organizationId = await authenticate(c.var.deps, token);
  if (!organizationId) throw new DomainError("unauthorized", "The API key is not valid or has been revoked.");
  c.set("organizationId", organizationId);
  await next();
});

/** /admin/v1: off (404) while ADMIN_TOKEN is unset; otherwise that token as a Bearer token. */
export const adminAuth = createMiddleware<AppBindings>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new DomainError("admin_disabled", "Not found.");
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !(await secretsEqual(token, expected))) {
    throw new DomainError("unauthorized", "Send the admin token as Authorization: Bearer <token>.");
  }
  await next();
});
