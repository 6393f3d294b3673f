import type { ContactLimits } from "./policy";

/** A tenant: everything an API key can see or touch belongs to one. */
export interface Organization {
  id: string;
  name: string;
  /** Contact limits every campaign of the organization obeys (a campaign may only tighten them). */
  contactPolicy: ContactLimits;
  /** Dates (YYYY-MM-DD, in each campaign's time zone) on which no campaign calls. */
  blackoutDates: string[];
  /** Unix ms. */
  createdAt: number;
}
