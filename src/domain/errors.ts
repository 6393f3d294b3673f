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

/**
 * Details an error answer lists, the rest counted in one more: a request's envelope has few
 * problems, and a client that sent thousands (an array of 10,000 wrong values) needs the first.
 */
const MAX_ERROR_DETAILS = 10;
/** Characters of an error's message: a record's (at most MAX_ERROR_BYTES, 2,200) fits. */
const MESSAGE_SHOWN = 2_200;
/** Characters of a detail's message: the longest a rule writes (533, two spellings quoted) fits. */
const DETAIL_SHOWN = 600;
/** Characters of a detail's path: a field's path with a record field's clipped name fits. */
const PATH_SHOWN = 150;

/**
 * The contract's error body, bounded whatever a message or a path repeats of the request: at most
 * MAX_ERROR_DETAILS details and clipped texts, so an error answer stays under 64 KiB even if every
 * character were one JSON writes as six bytes.
 */
export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[] = []): ErrorBody {
  const shown = details
    .slice(0, MAX_ERROR_DETAILS)
    .map((d) => ({ path: clip(d.path, PATH_SHOWN), message: clip(d.message, DETAIL_SHOWN) }));
  if (details.length > MAX_ERROR_DETAILS) {
    shown.push({ path: "…", message: `and ${details.length - MAX_ERROR_DETAILS} more` });
  }
  return { success: false, message: clip(message, MESSAGE_SHOWN), error: { code, details: shown } };
}

/** The first `max` UTF-16 units of `text` and "…" when it is longer, never half a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max;
  return `${text.slice(0, end)}…`;
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
 * driver's own cause is described instead, and the text is capped. Never throws, whatever was
 * thrown (a value String() cannot print, an Error whose message is not a string or whose getters
 * throw): it runs in catch blocks whose own work must go on.
 */
export function describeError(err: unknown, max = 500): string {
  let text: string;
  try {
    let e: unknown = err;
    for (
      let depth = 0;
      depth < 5 && e instanceof Error && String(e.message).startsWith("Failed query") && e.cause;
      depth++
    ) {
      e = e.cause;
    }
    text =
      e instanceof Error
        ? e.name === "Error"
          ? String(e.message)
          : `${String(e.name)}: ${String(e.message)}`
        : String(e);
  } catch {
    text = "an error that cannot be described";
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
