// API keys: 32 random bytes (256 bits) shown once, stored only as their SHA-256 digest. Keys are
// looked up by digest, so the lookup's timing depends on a hash of the secret, never the secret.
import type { Clock } from "./ports/clock";
import type { TenancyRepository } from "./ports/tenancy-repository";

const encoder = new TextEncoder();

export async function sha256Hex(input: string | ArrayBuffer): Promise<string> {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const token = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return `bc_${token}`;
}

/** Compares two secrets in time independent of where they differ (digests make the lengths equal). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * How long an isolate trusts an API key it has looked up. A key revoked through the admin API stops
 * working at once in the isolate that revoked it, and everywhere else within this bound; in return
 * a busy isolate skips one database round trip on most requests.
 */
export const API_KEY_CACHE_TTL_MS = 30_000;
/** Keys an isolate remembers; the oldest is forgotten first. */
const API_KEY_CACHE_MAX_ENTRIES = 1_000;

/** Live keys this isolate has looked up: SHA-256 digest -> organization, until a time (unix ms). */
export class ApiKeyCache {
  private readonly entries = new Map<string, { organizationId: string; until: number }>();

  get(keyHash: string, now: number): string | undefined {
    const entry = this.entries.get(keyHash);
    if (!entry) return undefined;
    if (entry.until > now) return entry.organizationId;
    this.entries.delete(keyHash);
    return undefined;
  }

  remember(keyHash: string, organizationId: string, now: number): void {
    if (this.entries.size >= API_KEY_CACHE_MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(keyHash, { organizationId, until: now + API_KEY_CACHE_TTL_MS });
  }

  forget(keyHash: string): void {
    this.entries.delete(keyHash);
  }
}

export interface AuthDeps {
  tenancy: TenancyRepository;
  apiKeyCache: ApiKeyCache;
  clock: Clock;
}

/** The organization a live API key belongs to, or undefined for an unknown or revoked key. */
export async function authenticate(deps: AuthDeps, token: string): Promise<string | undefined> {
  const keyHash = await sha256Hex(token);
  const now = deps.clock.now();
  const cached = deps.apiKeyCache.get(keyHash, now);
  if (cached !== undefined) return cached;
  const organizationId = await deps.tenancy.findOrganizationIdByKeyHash(keyHash);
  // Unknown keys are not remembered: a key created a moment later must work at once.
  if (organizationId !== undefined) deps.apiKeyCache.remember(keyHash, organizationId, now);
  return organizationId;
}

/** Revokes a key by id; false when no live key has that id. */
export async function revokeApiKey(deps: AuthDeps, id: string): Promise<boolean> {
  const keyHash = await deps.tenancy.revokeApiKey(id, deps.clock.now());
  if (keyHash === undefined) return false;
  deps.apiKeyCache.forget(keyHash);
  return true;
}
