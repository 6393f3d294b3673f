// The rules that stop a call for one customer. They are checked when the call is about to be
// handed to the dialer (not when the customer was added), so a payment or a suppression recorded
// while a call waited for its window still stops it.
export const SKIP_REASONS = ["paid", "suppressed"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

const SETTLED = new Set(["paid", "received"]);

export interface EligibilityFacts {
  paymentStatus: string | null;
  phoneNumber: string;
}

/** True when the customer's payment status says the instalment is settled (paid or received). */
export function isPaid(paymentStatus: string | null): boolean {
  return paymentStatus !== null && SETTLED.has(paymentStatus.toLowerCase());
}

/** Why this customer must not be called, or undefined when nothing stops the call. */
export function skipReasonFor(
  customer: EligibilityFacts,
  suppressedNumbers: ReadonlySet<string>,
): SkipReason | undefined {
  if (isPaid(customer.paymentStatus)) return "paid";
  if (suppressedNumbers.has(customer.phoneNumber)) return "suppressed";
  return undefined;
}
