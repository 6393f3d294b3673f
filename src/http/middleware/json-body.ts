import { createMiddleware } from "hono/factory";
import { DomainError } from "../../domain/errors";
import type { AppBindings } from "../types";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Reads a JSON request body once: 415 for another media type, 413 past MAX_BODY_BYTES, 400
 * invalid_json when it does not parse. The raw bytes' SHA-256 is kept for Idempotency-Key checks,
 * and `c.req.json()` is pointed at the parsed value so the zod validator after this does not parse
 * a 5 MB body a second time.
 */
export const jsonBody = createMiddleware<AppBindings>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();

  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new DomainError(
      "unsupported_media_type",
      "The request body must be JSON (Content-Type: application/json).",
    );
  }
  const limit = Number(c.env.MAX_BODY_BYTES);
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > limit) throw tooLarge(limit);

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DomainError("invalid_json", "The request body is not valid JSON.", [
      { path: "body", message: err instanceof Error ? err.message : "unparseable" },
    ]);
  }
  c.set("rawBody", bytes);
  c.req.json = <T>() => Promise.resolve(parsed as T);
  await next();
});

function tooLarge(limit: number): DomainError {
  return new DomainError("payload_too_large", `The request body may be at most ${limit} bytes.`);
}
