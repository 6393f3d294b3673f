// The closed set of error codes a caller can see. Domain code throws `DomainError`; the HTTP edge
// maps each code to a status once (src/http/errors.ts).
export const ERROR_CODES = [
  "unauthorized",
  "forbidden",
  "not_found",
  "campaign_not_found",
  "customer_not_found",
  "validation_error",
  "invalid_record",
  "duplicate_existing",
  "invalid_json",
  "request_incomplete",
  "too_many_records",
  "unsupported_media_type",
  "payload_too_large",
  "unknown_agent",
  "unknown_disposition",
  "unknown_webhook",
  "conflict",
  "idempotency_key_reused",
  "idempotency_request_in_flight",
  "admin_disabled",
  "service_unavailable",
  "internal_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The contract's error body: what every refused request answers. */
export interface ErrorBody {
  success: false;
  message: string;
  error: { code: ErrorCode; details: ErrorDetail[] };
}

export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { success: false, message, error: { code, details } };
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** When the caller may usefully retry, in seconds (answered as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/**
 * Something bulkcall depends on (its database) could not be used: the request may succeed if it is
 * retried later. The HTTP edge answers 503 with Retry-After for it, or for any error it wraps.
 */
export class UnavailableError extends Error {
  override readonly name: string = "UnavailableError";
}

/**
 * A short description of an error for logs. The query builder's "Failed query" errors carry every
 * bound parameter in their message — whole chunks of customer names and phone numbers — so the
 * driver's own cause is described instead, and the text is capped.
 */
export function describeError(err: unknown, max = 500): string {
  let e: unknown = err;
  for (
    let depth = 0;
    depth < 5 && e instanceof Error && e.message.startsWith("Failed query") && e.cause;
    depth++
  ) {
    e = e.cause;
  }
  const text = e instanceof Error ? (e.name === "Error" ? e.message : `${e.name}: ${e.message}`) : String(e);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
