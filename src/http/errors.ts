// The one place where errors become HTTP answers: domain error codes become statuses and the
// contract's error body, validation failures of any route's schema become validation_error, and
// anything else is logged with the request id and answered without a stack trace.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import {
  DomainError,
  describeError,
  ERROR_CODES,
  type ErrorCode,
  errorBody,
  UnavailableError,
} from "../domain/errors";

export { type ErrorBody, errorBody } from "../domain/errors";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  campaign_not_found: 404,
  customer_not_found: 404,
  validation_error: 400,
  invalid_record: 400,
  duplicate_existing: 409,
  invalid_json: 400,
  request_incomplete: 400,
  too_many_records: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unknown_agent: 400,
  unknown_disposition: 400,
  unknown_webhook: 400,
  conflict: 409,
  idempotency_key_reused: 422,
  idempotency_request_in_flight: 409,
  admin_disabled: 404,
  service_unavailable: 503,
  internal_error: 500,
};

/**
 * What each code means, for the OpenAPI document's per-status error bodies (src/http/openapi.ts).
 * Keyed by every code, so a new code cannot be left out of the document.
 */
export const ERROR_CODE_DESCRIPTIONS: Record<ErrorCode, string> = {
  unauthorized: "the API key (or admin token, or the dialer's signature) is missing or not valid",
  forbidden: "the credentials may not do this",
  not_found: "no such resource in your organization (or it belongs to another)",
  campaign_not_found: "no such campaign in your organization (or it belongs to another)",
  customer_not_found: "the campaign holds no customer with this loan_id / lead_id",
  validation_error: "a field of the request is missing or not valid; error.details names each",
  invalid_record: "the customer record breaks a record rule; error.details names each field",
  duplicate_existing: "the campaign already holds a customer with this loan_id / lead_id",
  invalid_json: "the body is not JSON, or not UTF-8 (the message gives the byte offset)",
  request_incomplete: "the connection closed before the whole body arrived; send it again",
  too_many_records: "more than 10,000 records in one request",
  unsupported_media_type: "the body is not application/json in UTF-8",
  payload_too_large: "the body is larger than MAX_BODY_BYTES (20 MB unless configured)",
  unknown_agent: "callConfig.agentId names no agent of your organization",
  unknown_disposition: "callConfig.dispositionId names no disposition of your organization",
  unknown_webhook: "a workflow step names no webhook of your organization",
  conflict:
    "the request conflicts with the resource's state (an id already taken, a limit reached, a delivery still pending)",
  idempotency_key_reused: "the Idempotency-Key was used with a different body; the message names its import",
  idempotency_request_in_flight:
    "a request with this Idempotency-Key is still being processed; retry after Retry-After seconds",
  admin_disabled: "the admin API is off (ADMIN_TOKEN is unset)",
  service_unavailable: "the database cannot be reached; retry after Retry-After seconds",
  internal_error: "an unexpected failure, logged with the request id; retrying is safe",
};

/** The codes answered with `status`, in ERROR_CODES order. */
export function errorCodesFor(status: number): ErrorCode[] {
  return ERROR_CODES.filter((code) => STATUS[code] === status);
}

function errorResponse(c: Context, err: DomainError): Response {
  if (err.code === "unauthorized") c.header("WWW-Authenticate", 'Bearer realm="bulkcall"');
  if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
  return c.json(errorBody(err.code, err.message, err.details), STATUS[err.code]);
}

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/** True when `err` or an error it wraps (drizzle wraps driver errors) is a `type`. */
function causedBy(err: unknown, type: abstract new (...args: never[]) => Error): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof type) return true;
    e = (e as Error).cause;
  }
  return false;
}

/** How long a client should wait before retrying after a 503, in seconds. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/** The answer to any error a route or middleware threw. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof DomainError) return errorResponse(c, err);
  if (err instanceof HTTPException && err.status === 415) {
    return errorResponse(c, new DomainError("unsupported_media_type", "The request body must be JSON."));
  }
  if (err instanceof HTTPException && err.status === 400) {
    return errorResponse(c, new DomainError("invalid_json", "The request body is not valid JSON."));
  }
  // Only a request that carried an Idempotency-Key can be retried with it.
  const retry = c.req.header("Idempotency-Key") ? "retry with the same Idempotency-Key" : "retry the request";
  if (causedBy(err, UnavailableError)) {
    // The database could not be reached (already logged, naming the setting): a retry may work.
    c.header("Retry-After", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    return errorResponse(c, new DomainError("service_unavailable", `The database is unavailable; ${retry}.`));
  }
  // Anything else is a bug or an outage: log it with the request id, never leak a stack trace.
  console.error(
    JSON.stringify({
      event: "unhandled_error",
      requestId: c.get("requestId"),
      error: describeError(err),
      // The stack of the original error only: its message (first line) may carry query parameters.
      stack: err.stack?.split("\n").slice(1, 12).join("\n"),
    }),
  );
  return c.json(errorBody("internal_error", `Something went wrong on our side; ${retry}.`), 500);
}

/** The contract's error body, as the OpenAPI document describes it. */
export const ErrorBodySchema = z
  .object({
    success: z.literal(false),
    message: z.string(),
    error: z.object({
      code: z.enum(ERROR_CODES).openapi({ example: "validation_error" }),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  })
  .openapi("Error");

const DESCRIPTIONS: Partial<Record<number, string>> = {
  400: "Validation error",
  401: "Missing or unknown credentials",
  404: "Not found (or another organization's)",
  409: "Conflict",
  413: "Body too large",
  415: "Body is not JSON",
  422: "Idempotency-Key reused with a different body",
  500: "Unexpected failure (logged with the request id; no stack trace)",
  503: "The database cannot be reached; retry after Retry-After seconds",
};

/** The description of an error status's response in the OpenAPI document. */
export function errorDescription(status: number): string {
  return DESCRIPTIONS[status] ?? "Error";
}

/** The OpenAPI responses of these error statuses, all with the contract's error body. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: errorDescription(s),
        content: { "application/json": { schema: ErrorBodySchema } },
      },
    ]),
  );
}

/** How an error names the request part as a whole: the JSON body is "body", as the body reader names it. */
const whole = (target: string) => (target === "json" ? "body" : target);

/**
 * A path as the request spells it. Headers are validated under their lower-case names (as HTTP
 * reads them); an error names the header as the contract and the other errors do
 * (`Idempotency-Key`).
 */
function pathIn(target: string, path: readonly PropertyKey[]): string {
  const joined = path.map(String).join(".");
  return target === "header"
    ? joined.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
    : joined;
}

/** A zod failure of a request's envelope (body, query or path) as the contract's error. */
export function validationError(error: ZodError, target: string): DomainError {
  const details = error.issues.flatMap((issue) =>
    // A key a strict schema does not know is named itself (clipped like every path, see errorBody),
    // with the fields the object takes when its schema lists them (schemas.ts strictObject).
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: [...issue.path, key].join("."),
          message: issue.message.startsWith("has a field") ? issue.message : "is not a known field",
        }))
      : [
          {
            path: issue.path.length > 0 ? pathIn(target, issue.path) : whole(target),
            message: issue.message,
          },
        ],
  );
  const tooMany = error.issues.find(
    (issue) =>
      target === "json" && issue.code === "too_big" && issue.path.length === 1 && issue.path[0] === "records",
  );
  if (tooMany) {
    return new DomainError("too_many_records", "A request may carry at most 10,000 records.", details);
  }
  return new DomainError("validation_error", "The request is not valid.", details);
}
