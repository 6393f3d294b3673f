// The closed set of error codes a caller can see. Domain code throws `DomainError`; the HTTP edge
// maps each code to a status once (src/http/errors.ts).
export const ERROR_CODES = [
  "unauthorized",
  "forbidden",
  "not_found",
  "campaign_not_found",
  "validation_error",
  "invalid_json",
  "too_many_records",
  "unsupported_media_type",
  "payload_too_large",
  "unknown_agent",
  "unknown_disposition",
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

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "DomainError";
  }
}
