// Which database holds an organization's rows, and how a Worker reaches a libSQL one. Settings are
// checked here, before any query, so a mistyped URL is reported by name instead of surfacing later
// as an opaque driver error, and so a libSQL setting can never be ignored in favour of D1.
import { UnavailableError } from "../domain/errors";

/** The settings that choose the store (declared on AppEnv in src/env.ts). */
export interface StoreSettings {
  DB: D1Database;
  LIBSQL_URL?: string;
  LIBSQL_AUTH_TOKEN?: string;
}

export type StoreTarget =
  | { kind: "d1"; binding: D1Database }
  | { kind: "libsql"; url: string; authToken: string | undefined };

type StoreSetting = "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN";

/** The store settings are wrong; nothing was sent anywhere. */
export class StoreConfigError extends Error {
  override readonly name = "StoreConfigError";
  constructor(
    readonly setting: StoreSetting,
    message: string,
  ) {
    super(message);
  }
}

/** The configured libSQL server could not be used: unreachable, too slow, or it refused us. */
export class StoreUnavailableError extends UnavailableError {
  override readonly name = "StoreUnavailableError";
  constructor(
    readonly setting: StoreSetting,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Longest wait for one HTTP round trip to the libSQL server. A chunk of 1,000 customers is one round
 * trip; a server that has not answered by then is treated as down rather than left to hang the request.
 */
const LIBSQL_REQUEST_TIMEOUT_MS = 10_000;

// A Worker has no file system and keeps no connection between requests, so it speaks to libSQL over
// HTTP only (`libsql:` is the same server addressed over HTTPS).
const WORKER_SCHEMES = new Set(["libsql:", "https:", "http:"]);

const HOW_TO_FIX =
  "Set LIBSQL_URL to the libsql:// or https:// URL of a libSQL server (e.g. a Turso database), " +
  "or remove LIBSQL_URL and LIBSQL_AUTH_TOKEN to use the D1 binding DB.";

/** The store the settings select, checked for what a Worker can reach. */
export function configuredStore(settings: StoreSettings): StoreTarget {
  const rawUrl = settings.LIBSQL_URL;
  const authToken = settings.LIBSQL_AUTH_TOKEN;
  if (rawUrl === undefined) {
    if (authToken !== undefined && authToken !== "") {
      throw new StoreConfigError(
        "LIBSQL_URL",
        `LIBSQL_AUTH_TOKEN is set but LIBSQL_URL is not, so it is unclear which store to use. ${HOW_TO_FIX}`,
      );
    }
    return { kind: "d1", binding: settings.DB };
  }
  const url = rawUrl.trim();
  if (url === "") throw new StoreConfigError("LIBSQL_URL", `LIBSQL_URL is set but empty. ${HOW_TO_FIX}`);
  const local = url === ":memory:" || url.startsWith("file:");
  if (local) {
    throw new StoreConfigError(
      "LIBSQL_URL",
      `LIBSQL_URL is a local database (${url.startsWith("file:") ? "file:" : ":memory:"}), which a Worker ` +
        "cannot open: it has no file system. Local databases are for the Node tools (npm run " +
        `db:migrate:libsql, the libsql test project). ${HOW_TO_FIX}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreConfigError("LIBSQL_URL", `LIBSQL_URL is not a valid URL. ${HOW_TO_FIX}`);
  }
  if (!WORKER_SCHEMES.has(parsed.protocol)) {
    throw new StoreConfigError(
      "LIBSQL_URL",
      `LIBSQL_URL uses ${parsed.protocol}, which bulkcall cannot use from a Worker; use libsql:, https: or http:. ${HOW_TO_FIX}`,
    );
  }
  if (parsed.hostname === "") {
    throw new StoreConfigError("LIBSQL_URL", `LIBSQL_URL names no host. ${HOW_TO_FIX}`);
  }
  return { kind: "libsql", url, authToken: authToken === "" ? undefined : authToken };
}

/**
 * The organization -> store lookup. One store holds every organization today, so each resolves to the
 * configured store, and a caller that does not know the organization yet (a request before its API
 * key is checked) gets the same one. Giving organizations their own databases (docs/scaling.md)
 * replaces this body with a routing-table read; the callers and the repositories stay as they are.
 */
export function resolveStore(settings: StoreSettings, _organizationId?: string): StoreTarget {
  return configuredStore(settings);
}

/** The URL without credentials or query, fit for logs and error messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * The fetch the libSQL HTTP client uses: every round trip gets a deadline, and a failure to reach the
 * server or a refusal of the token becomes an error naming the setting to fix. The line is logged here
 * because the query builder wraps driver errors in its own "Failed query" error.
 */
export function libsqlFetch(url: string, timeoutMs: number = LIBSQL_REQUEST_TIMEOUT_MS) {
  const where = describeUrl(url);
  return async (request: Request): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === "TimeoutError";
      throw unavailable(
        "LIBSQL_URL",
        timedOut
          ? `The libSQL server at LIBSQL_URL (${where}) did not answer within ${timeoutMs} ms.`
          : `The libSQL server at LIBSQL_URL (${where}) could not be reached: ${String(cause)}`,
        cause,
      );
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw unavailable(
        "LIBSQL_AUTH_TOKEN",
        `The libSQL server at LIBSQL_URL (${where}) refused LIBSQL_AUTH_TOKEN (HTTP ${response.status}); ` +
          "set a valid token for this database.",
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw unavailable(
        "LIBSQL_URL",
        `LIBSQL_URL (${where}) answered 404: no libSQL database is served at this URL.`,
      );
    }
    return response;
  };
}

function unavailable(setting: StoreSetting, message: string, cause?: unknown): StoreUnavailableError {
  console.error(JSON.stringify({ event: "store_unavailable", setting, error: message }));
  return new StoreUnavailableError(setting, message, { cause });
}
