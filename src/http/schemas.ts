// Schemas and helpers every route shares: pagination, cursors, ids, times, countries, counts.
import { z } from "@hono/zod-openapi";
import { isSupportedCountry } from "libphonenumber-js/max";
import { DomainError } from "../domain/errors";

/**
 * An object schema that refuses keys it does not take. Its message names the fields it takes
 * (`unlisted` ones aside: fields it only names to refuse), never the unknown key, which may be
 * megabytes long.
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape, unlisted: readonly string[] = []) {
  const fields = Object.keys(shape)
    .filter((name) => !unlisted.includes(name))
    .join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has a field it does not take; its fields are ${fields}`
        : undefined,
  });
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ example: 100 }),
  cursor: z.string().min(1).optional().openapi({ description: "nextCursor of the previous page" }),
});

/** Opaque cursors: the last item's sort key, base64url-encoded. */
function encodeCursor(value: string | number): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: "string" | "number",
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    // Number cursors are row ids: whole and positive, as this endpoint issues them.
    if (
      typeof value === kind &&
      (kind === "string" || (Number.isSafeInteger(value) && (value as number) > 0))
    ) {
      return value as T;
    }
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

/** The country assumed for phone numbers written without a country code (ISO 3166 alpha-2). */
export const Country = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine((c) => isSupportedCountry(c), "an ISO 3166 alpha-2 country code such as IN")
  .openapi({
    description:
      "The country of phone numbers written without a country code: ISO 3166 alpha-2, any letter case, a country with a phone numbering plan.",
    pattern: "^[A-Za-z]{2}$",
    example: "IN",
  });

/** The counts of a bulk request, as its answer and GET /api/v1/imports/{importId} report them. */
export const ImportCountsSchema = z.object({
  total: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  batchesProcessed: z.number().int(),
});

/** With onExisting "update": how the successful records split (added + updated + unchanged). */
export const RefreshCountsSchema = z.object({
  added: z.number().int().optional().openapi({ description: "Only with onExisting update: new customers." }),
  updated: z
    .number()
    .int()
    .optional()
    .openapi({ description: "Only with onExisting update: stored customers changed in place." }),
  unchanged: z.number().int().optional().openapi({
    description: "Only with onExisting update: stored customers whose every value was the same.",
  }),
});

/** The Idempotency-Key header of the requests that run as an import. */
/** The Idempotency-Key header of the requests that run as imports (bulk, single add, initiation). */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .optional()
  .openapi({
    description:
      "Makes retries safe: a retry with the same key and the same JSON body (object key order ignored, array order kept) gets the first answer back (with Idempotent-Replayed: true) and writes nothing; the same key with a different body is a 422 naming the first import.",
    example: "daily-file-2026-11-27",
  });

/** A path parameter naming one of the organization's campaigns. */
export const CampaignParam = z.object({ campaignId: z.string().min(1).max(128) });
