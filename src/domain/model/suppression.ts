/** A number the organization must never dial. */
export interface Suppression {
  /** E.164. */
  phoneNumber: string;
  reason: string | null;
  /** Unix ms. */
  createdAt: number;
}
