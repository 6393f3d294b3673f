// PUT /api/v1/customers/update: a partial update of one stored customer, judged by the same record
// rules as the intake. The stored record is merged with the patch and the merged record goes
// through the very validateRecord the bulk endpoint uses (so there is no second rule set: a required
// field cannot be cleared, the phone is normalized again, cross-field rules see the merged record),
// then compared field by field with what is stored.
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { DomainError } from "../errors";
import { invalidRecordError } from "../intake/judge-records";
import type { NormalizedRecord, StoredCustomer, VariableValue } from "../model/customer";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import { normalizeKey } from "../records/keys";
import {
  canonicalFieldName,
  dedupeFieldOf,
  FIELDS,
  KNOWN_FIELDS,
  type KnownField,
} from "../records/record-rules";
import { validateRecord } from "../records/validate-record";

export interface UpdateCustomerInput {
  organizationId: string;
  campaignId: string;
  /** The body's loan_id and lead_id: the campaign's key field names the customer. */
  keys: { loan_id?: unknown; lead_id?: unknown };
  /**
   * The fields to change, written like a record's: documented fields (any spelling the intake
   * accepts) and extra keys (agent variables). null (or a blank value) clears a field or removes a
   * variable.
   */
  patch: Record<string, unknown>;
}

export interface UpdateCustomerResult {
  /** The customer's key. */
  id: string;
  result: "updated" | "unchanged";
  /** Documented fields, then agent variables, whose stored value changed. */
  changed: string[];
}

export interface UpdateCustomerDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  clock: Clock;
}

/** Compare-and-set attempts before a customer that keeps changing under us is reported as 409. */
const MAX_ATTEMPTS = 3;

const KNOWN = new Set<string>(KNOWN_FIELDS);

/**
 * Applies the patch. Throws DomainError: campaign_not_found / customer_not_found (404, also for
 * another organization's campaign), validation_error (no key, or an attempt to change it),
 * invalid_record (400: the merged record breaks a rule, every field named as `data.<field>`),
 * conflict (409: other writes kept changing the customer).
 */
export async function updateCustomer(
  deps: UpdateCustomerDeps,
  input: UpdateCustomerInput,
): Promise<UpdateCustomerResult> {
  const campaign = await deps.campaigns.findCampaign(input.organizationId, input.campaignId);
  if (!campaign) {
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`, [
      { path: "campaignId", message: "no campaign with this id" },
    ]);
  }
  const keyField = dedupeFieldOf(campaign.campaignType);
  const key = readKey(input.keys[keyField], keyField, campaign.campaignType);
  refuseKeyChange(input.patch, keyField, key);

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await deps.customers.findByKey(campaign.pk, key);
    if (!current) {
      throw new DomainError(
        "customer_not_found",
        `The campaign holds no customer with ${keyField} "${key}".`,
        [{ path: keyField, message: "no customer with this key in the campaign" }],
      );
    }
    const merged = merge(current, input.patch);
    const verdict = validateRecord(merged, campaign.campaignType, campaign.defaultCountry);
    if (!verdict.ok) {
      // Reported as the intake reports a record: the first fields, names clipped, the rest counted.
      const error = invalidRecordError(0, merged, keyField, verdict.fields);
      throw new DomainError(
        "invalid_record",
        error.message,
        error.fields.map((f) => ({ path: `data.${f.field}`, message: f.message })),
      );
    }
    const changed = changedFields(current, verdict.record);
    if (changed.length === 0) return { id: key, result: "unchanged", changed };
    const now = deps.clock.now();
    const written = await deps.customers.replaceOne(
      current,
      { dedupeKey: key, record: verdict.record },
      now,
      now - CLAIM_LEASE_MS,
    );
    if (written) return { id: key, result: "updated", changed };
  }
  throw new DomainError(
    "conflict",
    "The customer was changed by other requests while this update was applied; read it again and retry.",
  );
}

function readKey(value: unknown, field: "loan_id" | "lead_id", type: string): string {
  const details = (message: string) => [{ path: field, message }];
  if (typeof value !== "string") {
    throw new DomainError(
      "validation_error",
      `A ${type} campaign names its customers by ${field}.`,
      details(value === undefined ? "is required" : "must be a string"),
    );
  }
  const normalized = normalizeKey(value);
  if (!normalized.ok)
    throw new DomainError("validation_error", "The request is not valid.", details(normalized.message));
  return normalized.key;
}

/** The key is how the customer is found: a patch may repeat it, never change or clear it. */
function refuseKeyChange(patch: Record<string, unknown>, keyField: string, key: string): void {
  for (const [name, value] of Object.entries(patch)) {
    if (canonicalFieldName(name) !== keyField) continue;
    const normalized = typeof value === "string" ? normalizeKey(value) : undefined;
    const same = normalized?.ok === true && normalized.key === key;
    if (!same) {
      throw new DomainError("validation_error", `The customer's ${keyField} cannot be changed.`, [
        { path: `data.${name}`, message: `cannot be changed (it is how the customer is found)` },
      ]);
    }
  }
}

/** The stored customer as a record, with its fields in the API's names. */
function storedRecord(c: StoredCustomer): Record<KnownField, unknown> {
  return {
    loan_id: c.loanId,
    lead_id: c.leadId,
    first_name: c.firstName,
    last_name: c.lastName,
    phone_number: c.phoneNumber,
    loan_amount: c.loanAmount,
    emi_amount: c.emiAmount,
    loan_period: c.loanPeriod,
    current_emi: c.currentEmi,
    emi_due_date: c.emiDueDate,
    payment_status: c.paymentStatus,
    language: c.language,
    lead_date: c.leadDate,
  };
}

/**
 * The record to judge: the stored fields minus every documented field the patch names (in whatever
 * spelling, so that two spellings in the patch still conflict as in a record), the patch's
 * documented fields, then the variables: stored ones in their order with the patch's value (a
 * variable set to null is removed), then the patch's new ones. Keeping the order keeps the stored
 * variables comparable with the next daily file's.
 */
function merge(current: StoredCustomer, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const isDocumented = (name: string) => KNOWN.has(canonicalFieldName(name));
  const named = new Set(Object.keys(patch).filter(isDocumented).map(canonicalFieldName));
  for (const [field, value] of Object.entries(storedRecord(current))) {
    if (!named.has(field) && value !== null) put(merged, field, value);
  }
  for (const [name, value] of Object.entries(patch)) {
    if (isDocumented(name)) put(merged, name, value);
  }
  for (const [name, value] of Object.entries(current.variables)) {
    if (!Object.hasOwn(patch, name)) put(merged, name, value);
    else if (patch[name] !== null) put(merged, name, patch[name]);
  }
  for (const [name, value] of Object.entries(patch)) {
    if (!isDocumented(name) && !Object.hasOwn(current.variables, name) && value !== null)
      put(merged, name, value);
  }
  return merged;
}

/** An own property even for "__proto__", which plain assignment would take as the prototype. */
function put(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function changedFields(current: StoredCustomer, next: NormalizedRecord): string[] {
  const before = storedRecord(current);
  const after = next as unknown as Record<string, unknown>;
  const changed: string[] = FIELDS.map((f) => f.name).filter(
    (field) => !Object.is(before[field] ?? null, after[field] ?? null),
  );
  const oldVars = current.variables;
  const newVars: Record<string, VariableValue> = next.variables ?? {};
  const names = new Set([...Object.keys(oldVars), ...Object.keys(newVars)]);
  for (const name of names) {
    if (
      !Object.hasOwn(oldVars, name) ||
      !Object.hasOwn(newVars, name) ||
      !Object.is(oldVars[name], newVars[name])
    ) {
      changed.push(name);
    }
  }
  return changed;
}
