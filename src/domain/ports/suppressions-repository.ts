import type { Suppression } from "../model/suppression";

export interface SuppressionsRepository {
  /**
   * Adds the numbers (E.164, already de-duplicated); returns the ones that were new. A number
   * already on the list keeps its original reason and date.
   */
  add(
    organizationId: string,
    phoneNumbers: readonly string[],
    reason: string | null,
    at: number,
  ): Promise<string[]>;
  /** The subset of `phoneNumbers` the organization has suppressed. */
  findSuppressed(organizationId: string, phoneNumbers: readonly string[]): Promise<Set<string>>;
  /** Ordered by number; `after` is the last number of the previous page. */
  list(organizationId: string, limit: number, after?: string): Promise<Suppression[]>;
  /** Removes one number; false when it was not on the list. */
  remove(organizationId: string, phoneNumber: string): Promise<boolean>;
}
