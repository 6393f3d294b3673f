/** A tenant: everything an API key can see or touch belongs to one. */
export interface Organization {
  id: string;
  name: string;
  /** Unix ms. */
  createdAt: number;
}
