// Customers: the record a request sends once it passed every rule, and the stored customer.

export const PAYMENT_STATUSES = ["bounced", "pending", "partial", "paid", "received"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** An agent variable: an extra record key's value. */
export type VariableValue = string | number | boolean | null;

/** A record that passed every rule, normalized for storage (phone in E.164, language as its name). */
export interface NormalizedRecord {
  loan_id?: string;
  lead_id?: string;
  first_name: string;
  last_name?: string;
  phone_number: string;
  loan_amount?: number;
  emi_amount?: number;
  loan_period?: number;
  current_emi?: number;
  emi_due_date?: string;
  payment_status?: PaymentStatus;
  language?: string;
  lead_date?: string;
  variables?: Record<string, VariableValue>;
}

/** A customer as stored. */
export interface StoredCustomer {
  id: number;
  campaignPk: number;
  loanId: string | null;
  leadId: string | null;
  firstName: string;
  lastName: string | null;
  /** E.164. */
  phoneNumber: string;
  loanAmount: number | null;
  emiAmount: number | null;
  loanPeriod: number | null;
  currentEmi: number | null;
  /** YYYY-MM-DD. */
  emiDueDate: string | null;
  paymentStatus: string | null;
  language: string | null;
  leadDate: string | null;
  variables: Record<string, VariableValue>;
  /** The import that added the customer. */
  importId: string;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms when an update last changed the customer; null while it is as it was added. */
  updatedAt: number | null;
  /** Unix ms when its personal data was erased (every field above is then blank); null otherwise. */
  erasedAt: number | null;
}
