// The one place where domain error codes become HTTP statuses and the contract's error body.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { DomainError, type ErrorCode, type ErrorDetail } from "../domain/errors";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  campaign_not_found: 404,
  validation_error: 400,
  invalid_json: 400,
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

export interface ErrorBody {
  success: false;
  message: string;
  error: { code: ErrorCode; details: ErrorDetail[] };
}

export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { success: false, message, error: { code, details } };
}

export function errorResponse(c: Context, err: DomainError): Response {
  if (err.code === "unauthorized") c.header("WWW-Authenticate", 'Bearer realm="bulkcall"');
  return c.json(errorBody(err.code, err.message, err.details), STATUS[err.code]);
}

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/** A zod failure of a request's envelope (body, query or path) as the contract's error. */
export function validationError(error: ZodError, target: string): DomainError {
  const details = error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join(".") : target,
    message: issue.message,
  }));
  const tooMany = error.issues.find(
    (issue) =>
      target === "json" && issue.code === "too_big" && issue.path.length === 1 && issue.path[0] === "records",
  );
  if (tooMany) {
    return new DomainError("too_many_records", "A request may carry at most 10,000 records.", details);
  }
  return new DomainError("validation_error", "The request is not valid.", details);
}
