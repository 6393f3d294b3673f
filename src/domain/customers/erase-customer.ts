// DELETE /api/v1/campaigns/{campaignId}/customers/{key}: a borrower's right to erasure (India's
// Digital Personal Data Protection Act 2023, section 12). Everything that identifies the customer
// leaves every table in one atomic write (see src/db/erasure.ts for what each table held); what is
// kept is de-identified: the customer row without any data (so an import's counts still add up),
// call statuses, times and counts, and, when asked, the number on the suppression list.
import { CLAIM_LEASE_MS } from "../calls/place-calls";
import { DomainError } from "../errors";
import { unpackResponse } from "../intake/stored-response";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import { normalizeKey } from "../records/keys";
import { dedupeFieldOf } from "../records/record-rules";

export interface EraseCustomerInput {
  organizationId: string;
  campaignId: string;
  /** The customer's loan_id (lead_id in a lead campaign), as sent. */
  key: string;
  /** Put the number on the organization's suppression list first, so it is never dialled again. */
  suppress: boolean;
}

export interface EraseCustomerDeps {
  campaigns: CampaignsRepository;
  customers: CustomersRepository;
  imports: ImportsRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/** The reason recorded with the number when the erasure also suppresses it. */
const ERASURE_SUPPRESSION_REASON = "erasure request";

/**
 * Erases one customer's personal data. Throws campaign_not_found / customer_not_found (404, also
 * for another organization's campaign, and for a customer already erased).
 */
export async function eraseCustomer(deps: EraseCustomerDeps, input: EraseCustomerInput): Promise<void> {
  const campaign = await deps.campaigns.findCampaign(input.organizationId, input.campaignId);
  if (!campaign)
    throw new DomainError("campaign_not_found", `Campaign "${input.campaignId}" does not exist.`);
  const keyField = dedupeFieldOf(campaign.campaignType);
  const key = normalizeKey(input.key);
  const customer = key.ok ? await deps.customers.findByKey(campaign.pk, key.key) : undefined;
  if (!customer) {
    throw new DomainError(
      "customer_not_found",
      `The campaign holds no customer with ${keyField} "${input.key}".`,
    );
  }
  const dropAnswersOf = await answersMentioning(deps, campaign.pk, [
    JSON.stringify(key.ok ? key.key : input.key),
    customer.phoneNumber,
    customer.phoneNumber.slice(-8),
  ]);
  const now = deps.clock.now();
  const erased = await deps.customers.erase({
    organizationId: input.organizationId,
    campaignPk: campaign.pk,
    customerIds: [customer.id],
    suppress: input.suppress ? { reason: ERASURE_SUPPRESSION_REASON } : undefined,
    dropAnswersOf,
    at: now,
    leaseExpiredBefore: now - CLAIM_LEASE_MS,
  });
  // Not logged: the key or the number (the log would keep what the erasure removed).
  deps.log("customer_erased", {
    campaignId: campaign.id,
    customerId: customer.id,
    erased,
    suppressed: input.suppress,
    answersDropped: dropAnswersOf.length,
  });
}

/**
 * The campaign's imports whose stored Idempotency-Key answer contains one of `needles` (answers
 * list failed records by key, and a single customer's answer names its key). Answers are kept 7 days
 * and only for requests that sent a key, so this reads a bounded set.
 */
async function answersMentioning(
  deps: Pick<EraseCustomerDeps, "imports">,
  campaignPk: number,
  needles: readonly string[],
): Promise<string[]> {
  const ids = await deps.imports.withStoredAnswers(campaignPk);
  const found: string[] = [];
  for (const id of ids) {
    const packed = await deps.imports.storedResponse(id);
    if (packed === undefined) continue;
    const text = JSON.stringify(await unpackResponse(packed));
    if (needles.some((n) => n.length > 0 && text.includes(n))) found.push(id);
  }
  return found;
}
