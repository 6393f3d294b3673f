import type { Organization } from "../model/organization";

/** Organizations and their API keys (stored as SHA-256 digests only). */
export interface TenancyRepository {
  /** A new organization starts with the documented contact limits and no blackout dates. */
  createOrganization(org: Pick<Organization, "id" | "name" | "createdAt">): Promise<Organization>;
  findOrganization(id: string): Promise<Organization | undefined>;
  /** Replaces the organization's contact limits and blackout dates; undefined when unknown. */
  updateOrganizationPolicy(
    id: string,
    policy: Pick<Organization, "contactPolicy" | "blackoutDates">,
  ): Promise<Organization | undefined>;
  createApiKey(key: {
    id: string;
    organizationId: string;
    name: string;
    /** SHA-256 of the key, hex. */
    keyHash: string;
    createdAt: number;
  }): Promise<void>;
  /** The organization that owns the live (unrevoked) key with this SHA-256 digest. */
  findOrganizationIdByKeyHash(keyHash: string): Promise<string | undefined>;
  /** Marks a key revoked; returns its SHA-256 digest, or undefined when no live key has that id. */
  revokeApiKey(id: string, at: number): Promise<string | undefined>;
}
