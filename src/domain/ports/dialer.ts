// The port to the voice-agent dialer. Two adapters implement it (src/adapters/dialers): `log` (local
// development: every call is accepted and written to the log) and `http` (the signed protocol
// described in the README, "The dialer protocol"). A workflow's call step uses the same port
// through placeCalls.

export interface DialCustomer {
  id: number;
  loan_id: string | null;
  lead_id: string | null;
  first_name: string;
  last_name: string | null;
  phone_number: string;
  loan_amount: number | null;
  emi_amount: number | null;
  loan_period: number | null;
  current_emi: number | null;
  emi_due_date: string | null;
  payment_status: string | null;
  language: string | null;
  lead_date: string | null;
  variables: Record<string, unknown>;
}

export interface DialRequest {
  /** Stable for the life of the call: the dialer's idempotency key. */
  callId: string;
  /** 1 on the first hand-off, more when an unanswered hand-off is repeated. */
  attempt: number;
  customer: DialCustomer;
}

export interface DialBatch {
  organizationId: string;
  importId: string;
  campaign: { id: string; campaignType: string; timezone: string };
  agentId: string | null;
  dispositionId: string | null;
  calls: DialRequest[];
}

export type DialOutcome =
  /** The dialer took the batch; individual calls may still have been refused. */
  | {
      kind: "accepted";
      providerCallIds: ReadonlyMap<string, string>;
      rejected: ReadonlyMap<string, string>;
    }
  /** Not taken, try again later (429, 5xx, unreachable). */
  | { kind: "retry"; reason: string; retryAfterSeconds?: number }
  /** Refused for good (another 4xx): every call of the batch fails with the reason. */
  | { kind: "rejected"; reason: string };

export interface Dialer {
  readonly name: string;
  dispatch(batch: DialBatch): Promise<DialOutcome>;
}

/** A dialer that cannot work because of its configuration: calls wait (retry) until it is fixed. */
export function unconfiguredDialer(problem: string): Dialer {
  return {
    name: "unconfigured",
    dispatch: async () => ({ kind: "retry", reason: problem }),
  };
}
