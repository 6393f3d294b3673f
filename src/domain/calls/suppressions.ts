// The organization's do-not-call list. Numbers are normalized exactly like customer phones, so a
// number suppressed as "98765 43210" stops a customer stored as +919876543210, and an entry that
// would not be read as a customer's number (a spreadsheet number such as "8123456789.0") is refused
// here too rather than suppressing somebody else while the borrower stays callable.

import { DomainError } from "../errors";
import type { Suppression } from "../model/suppression";
import type { Clock } from "../ports/clock";
import type { SuppressionsRepository } from "../ports/suppressions-repository";
import { normalizePhone } from "../records/phone";

export const MAX_SUPPRESSIONS_PER_REQUEST = 10_000;

export interface SuppressionError {
  index: number;
  /**
   * The entry as sent when it is a number, a boolean or a string (clipped); an array or object is
   * null: an answer never echoes an unbounded value (a 10,000-level nested array would not even
   * serialize).
   */
  phone_number: string | number | boolean | null;
  message: string;
}

/** Characters of a refused entry the answer repeats: more than any phone number has. */
const ECHO_MAX_CHARS = 64;

function echo(raw: unknown): string | number | boolean | null {
  if (typeof raw === "number" || typeof raw === "boolean") return raw;
  if (typeof raw === "string") return raw.length > ECHO_MAX_CHARS ? `${raw.slice(0, ECHO_MAX_CHARS)}…` : raw;
  return null;
}

function kindOf(raw: object): string {
  return Array.isArray(raw) ? "an array" : "an object";
}

export interface AddSuppressionsResult {
  total: number;
  valid: number;
  invalid: number;
  /** Distinct numbers newly put on the list. */
  added: number;
  /** Distinct numbers that were on the list already (their first reason and date are kept). */
  alreadySuppressed: number;
  /** Valid entries that repeat a number given earlier in the same request. */
  repeated: number;
  errors: SuppressionError[];
}

export async function addSuppressions(
  deps: { suppressions: SuppressionsRepository; clock: Clock },
  input: {
    organizationId: string;
    phoneNumbers: readonly unknown[];
    reason?: string;
    defaultCountry: string;
  },
): Promise<AddSuppressionsResult> {
  const errors: SuppressionError[] = [];
  const numbers = new Set<string>();
  let valid = 0;
  input.phoneNumbers.forEach((raw, index) => {
    const phone = normalizePhone(raw, input.defaultCountry);
    if (!phone.ok) {
      const got = raw !== null && typeof raw === "object" ? ` (got ${kindOf(raw)})` : "";
      errors.push({ index, phone_number: echo(raw), message: `phone_number ${phone.message}${got}` });
      return;
    }
    valid++;
    numbers.add(phone.e164);
  });
  const added = await deps.suppressions.add(
    input.organizationId,
    [...numbers],
    input.reason ?? null,
    deps.clock.now(),
  );
  return {
    total: input.phoneNumbers.length,
    valid,
    invalid: errors.length,
    added: added.length,
    alreadySuppressed: numbers.size - added.length,
    repeated: valid - numbers.size,
    errors,
  };
}

export async function listSuppressions(
  deps: { suppressions: SuppressionsRepository },
  organizationId: string,
  limit: number,
  after?: string,
): Promise<Suppression[]> {
  return deps.suppressions.list(organizationId, limit, after);
}

export async function removeSuppression(
  deps: { suppressions: SuppressionsRepository },
  input: { organizationId: string; phoneNumber: string; defaultCountry: string },
): Promise<void> {
  const phone = normalizePhone(input.phoneNumber, input.defaultCountry);
  if (!phone.ok) {
    throw new DomainError("validation_error", "The phone number is not valid.", [
      { path: "phone", message: phone.message },
    ]);
  }
  if (!(await deps.suppressions.remove(input.organizationId, phone.e164))) {
    throw new DomainError("not_found", `${phone.e164} is not on the suppression list.`);
  }
}
