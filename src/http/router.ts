import { OpenAPIHono } from "@hono/zod-openapi";
import { validationError } from "./errors";
import type { AppBindings } from "./types";

/**
 * Every router is an OpenAPIHono whose validation failures become the contract's JSON error (never
 * Hono's default text), so the routes' zod schemas are both the validators and the OpenAPI source.
 */
export function createRouter() {
  return new OpenAPIHono<AppBindings>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });
}
