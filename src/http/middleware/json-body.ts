import { createMiddleware } from "hono/factory";
import { DomainError } from "../../domain/errors";
import type { AppBindings } from "../types";

export const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
/** The documented default of MAX_BODY_BYTES (25 MiB), used when the var is unset or not a number. */
export const DEFAULT_MAX_BODY_BYTES = 26_214_400;

/**
 * Reads a JSON request body once: 415 for another media type, 413 past MAX_BODY_BYTES, 400
 * invalid_json when it does not parse. The raw bytes' SHA-256 is kept for Idempotency-Key checks,
 * and `c.req.json()` is pointed at the parsed value so the zod validator after this does not parse
 * a 5 MB body a second time.
 */
export const jsonBody = createMiddleware<AppBindings>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
  // A POST that carries nothing (e.g. rotating a webhook's secret) has nothing to parse; a route
  // that needs a body refuses the missing fields through its own schema.
  const contentType = c.req.header("Content-Type");
  if (contentType === undefined && (c.req.raw.body === null || c.req.header("Content-Length") === "0")) {
    c.set("rawBody", new ArrayBuffer(0));
    return next();
  }

  const mediaType = (contentType ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new DomainError(
      "unsupported_media_type",
      "The request body must be JSON (Content-Type: application/json).",
    );
  }
  const configured = Number(c.env.MAX_BODY_BYTES);
  const limit = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MAX_BODY_BYTES;
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  // With a declared length the platform has already bounded the body; without one (chunked
  // transfer) it is read with a running count and abandoned at the limit, never buffered whole.
  const bytes = Number.isFinite(declared) ? await c.req.arrayBuffer() : await readAtMost(c.req.raw, limit);
  if (bytes.byteLength > limit) throw tooLarge(limit);

  const parsed = parseJson(bytes);
  c.set("rawBody", bytes);
  c.req.json = <T>() => Promise.resolve(parsed as T);
  await next();
});

/** The body's JSON value, or 400 invalid_json with the parser's message. */
export function parseJson(bytes: ArrayBuffer): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DomainError("invalid_json", "The request body is not valid JSON.", [
      { path: "body", message: err instanceof Error ? err.message : "unparseable" },
    ]);
  }
}

/** Reads a body, abandoning it (413) as soon as it passes `limit` bytes: it is never buffered whole. */
export async function readAtMost(request: Request, limit: number): Promise<ArrayBuffer> {
  if (!request.body) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}

export function tooLarge(limit: number): DomainError {
  return new DomainError("payload_too_large", `The request body may be at most ${limit} bytes.`);
}
