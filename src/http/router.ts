import { OpenAPIHono, z } from "@hono/zod-openapi";
import { DomainError } from "../domain/errors";
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

export const ErrorBodySchema = z
  .object({
    success: z.literal(false),
    message: z.string(),
    error: z.object({
      code: z.string().openapi({ example: "validation_error" }),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  })
  .openapi("Error");

export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: "Validation error",
    401: "Missing or unknown API key",
    404: "Not found (or another organization's)",
    409: "Conflict",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Idempotency-Key reused with a different body",
  };
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: descriptions[s] ?? "Error",
        content: { "application/json": { schema: ErrorBodySchema } },
      },
    ]),
  );
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ example: 100 }),
  cursor: z.string().min(1).optional().openapi({ description: "nextCursor of the previous page" }),
});

/** Opaque cursors: the last item's sort key, base64url-encoded. */
export function encodeCursor(value: string | number): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: "string" | "number",
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof value === kind) return value as T;
  } catch {
    // fall through to the error below
  }
  throw new DomainError("validation_error", "The cursor is not valid.", [
    { path: "cursor", message: "not a cursor this endpoint issued" },
  ]);
}

export function page<T>(items: T[], limit: number, keyOf: (item: T) => string | number) {
  const last = items.at(-1);
  return {
    data: items,
    nextCursor: items.length === limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

export const iso = (ms: number) => new Date(ms).toISOString();

export const ResourceId = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "letters, digits, '_', '-' and '.', starting with a letter or digit",
  );
