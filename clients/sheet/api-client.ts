// The few API calls an importer makes, with its retry rules; fetch only, so the CLI and the web
// console share it (and with it the wording of every refusal). A part is always retried under the
// same Idempotency-Key, so a retry can never load a row twice: the API replays a finished part,
// resumes a part whose attempt failed, and answers 409 while another attempt is still running.
import type { BulkAnswer } from "./answers";
import { type CampaignType, isCampaignType } from "./fields";

export interface RetryPolicy {
  /** Attempts per request for network errors, timeouts, 429 and 5xx answers. */
  attempts: number;
  /** Wait before the 2nd attempt; doubles each time, up to maxDelayMs (Retry-After wins when sent). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * How long to keep retrying while the API answers 409 idempotency_request_in_flight. The API
   * takes over an attempt whose Worker died after 10 minutes, so waiting a little longer than that
   * always ends in an answer.
   */
  inFlightBudgetMs: number;
  /** Wait between 409s when the API sends no Retry-After. */
  inFlightDelayMs: number;
  /**
   * Give up on one request after this long (then retry it). A 10,000-row request takes seconds;
   * five minutes only trips on a connection that hangs.
   */
  timeoutMs: number;
}

const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  inFlightBudgetMs: 11 * 60_000,
  inFlightDelayMs: 5_000,
  timeoutMs: 5 * 60_000,
};

/** Why a request failed for good. `maybeStored`: the API may have stored part of it (5xx, network). */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly maybeStored: boolean,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Told about every wait before a retry (for the progress output). */
  onRetry?: (message: string) => void;
  /** Sent as User-Agent where the platform allows it (browsers set their own). */
  userAgent?: string;
  /** How refusals name the program's settings; default: the CLI's options. */
  hints?: ApiHints;
}

/** The end of a refusal's message: which of the program's settings to check. */
export interface ApiHints {
  /** 401, for the API at `baseUrl`. */
  badKey(baseUrl: string): string;
  /** 404 campaign_not_found. */
  badCampaign: string;
  /** 404 from something that is not the API, at `where`. */
  badUrl(where: string): string;
  /** No answer at all from `baseUrl` (`reason`: ECONNREFUSED, timed out, …). */
  unreachable(baseUrl: string, reason: string): string;
  /** 413. */
  tooLarge: string;
  /** 400 validation_error on `callConfig`: calls asked for, no agent given, and the campaign has no defaults. */
  noCallConfig: string;
  /** The sentence that says how to resume (after a failed part, or a part in flight). */
  rerun: string;
}

/** The `bulkcall` program's options (README, "Import a spreadsheet (CLI)"). */
const CLI_HINTS: ApiHints = {
  badKey: (baseUrl) => `The API key was refused: check BULKCALL_API_KEY (or --key) for ${baseUrl}.`,
  badCampaign: "The campaign does not exist for this API key: check --campaign.",
  badUrl: (where) => `Nothing answers at ${where}: check --url.`,
  unreachable: (baseUrl, reason) =>
    `Cannot reach the API at ${baseUrl} (${reason}). Is the server running, and is --url right?`,
  tooLarge:
    "The API refused the request as too large: lower --max-body-mb (the server's MAX_BODY_BYTES is smaller than the parts).",
  noCallConfig:
    "The campaign has no default agent and disposition: pass --agent <id> and --disposition <id>, or give the campaign a default agentId and dispositionId (PATCH /api/v1/campaigns/{id}).",
  rerun: "Run the same command again later.",
};

export interface BulkResult {
  status: number;
  replayed: boolean;
  answer: BulkAnswer;
}

interface ErrorBody {
  message?: string;
  error?: { code?: string; details?: { path?: string; message?: string }[] };
}

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

export class ApiClient {
  private readonly retry: RetryPolicy;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly hints: ApiHints;

  constructor(private readonly options: ApiClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // Called through a wrapper: a browser refuses fetch() called as a method of another object.
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.hints = options.hints ?? CLI_HINTS;
  }

  /** The campaign's type, which decides the required columns. */
  async campaignType(campaignId: string): Promise<CampaignType> {
    const res = await this.request("GET", `/api/v1/campaigns/${encodeURIComponent(campaignId)}`);
    const body = (await readJson(res)) as { campaignType?: unknown } | undefined;
    if (res.status === 200 && isCampaignType(body?.campaignType)) return body.campaignType;
    throw this.refusal(res, body, `reading campaign "${campaignId}"`, false);
  }

  /**
   * True when the API documents `field` in the bulk request (its OpenAPI document). The importer
   * checks before sending dryRun or onExisting: an API that does not know a field ignores it, and a
   * dry run would then write.
   */
  async bulkRequestHasField(field: string): Promise<boolean> {
    const res = await this.request("GET", "/openapi.json");
    if (res.status !== 200) return false;
    const doc = (await readJson(res)) as
      | { components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } }
      | undefined;
    const properties = doc?.components?.schemas?.BulkAddCustomersRequest?.properties;
    return properties !== undefined && Object.hasOwn(properties, field);
  }

  /** Sends one part. Retries as RetryPolicy says; the same body and key every time. */
  async addBulk(body: string, idempotencyKey: string | undefined, label: string): Promise<BulkResult> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    const inFlightUntil = Date.now() + this.retry.inFlightBudgetMs;
    let failures = 0;
    for (;;) {
      let res: Response;
      try {
        res = await this.send("POST", "/api/v1/customers/add/bulk", headers, body);
      } catch (err) {
        failures++;
        const reason = networkReason(err);
        if (failures >= this.retry.attempts) {
          throw new ApiError(
            `${label}: no answer after ${failures} attempts (${reason}).`,
            undefined,
            undefined,
            true,
          );
        }
        await this.wait(this.backoff(failures), `${label}: ${reason}; retrying`);
        continue;
      }
      const json = await readJson(res);
      if (res.status === 201 || res.status === 207 || (res.status === 400 && isBulkAnswer(json))) {
        if (!isBulkAnswer(json)) throw this.refusal(res, json, label, true);
        return {
          status: res.status,
          replayed: res.headers.get("Idempotent-Replayed") === "true",
          answer: json,
        };
      }
      const code = (json as ErrorBody | undefined)?.error?.code;
      if (res.status === 409 && code === "idempotency_request_in_flight") {
        if (Date.now() >= inFlightUntil) {
          throw new ApiError(
            `${label}: the API was still processing an earlier attempt of this part after ${Math.round(this.retry.inFlightBudgetMs / 60_000)} minutes (409). ${this.hints.rerun}`,
            409,
            code,
            true,
          );
        }
        // At least a tenth of a second between 409s, whatever Retry-After says.
        const delay = Math.max(retryAfterMs(res) ?? this.retry.inFlightDelayMs, 100);
        await this.wait(
          delay,
          `${label}: an earlier attempt of this part is still running on the server (409); waiting`,
        );
        continue;
      }
      if (RETRIED_STATUSES.has(res.status)) {
        failures++;
        if (failures >= this.retry.attempts) throw this.refusal(res, json, label, true);
        const delay = Math.min(retryAfterMs(res) ?? this.backoff(failures), this.retry.maxDelayMs);
        await this.wait(delay, `${label}: ${describe(res, json)}; retrying`);
        continue;
      }
      throw this.refusal(res, json, label, false);
    }
  }

  private backoff(failures: number): number {
    return Math.min(this.retry.baseDelayMs * 2 ** (failures - 1), this.retry.maxDelayMs);
  }

  private async wait(ms: number, message: string): Promise<void> {
    this.options.onRetry?.(`${message} in ${formatSeconds(ms)}.`);
    await this.sleep(ms);
  }

  /** A GET with the network retries of RetryPolicy. */
  private async request(method: "GET", path: string): Promise<Response> {
    let failures = 0;
    for (;;) {
      try {
        const res = await this.send(method, path, {});
        if (RETRIED_STATUSES.has(res.status) && failures + 1 < this.retry.attempts) {
          failures++;
          await res.body?.cancel();
          await this.wait(
            retryAfterMs(res) ?? this.backoff(failures),
            `${method} ${path}: ${res.status}; retrying`,
          );
          continue;
        }
        return res;
      } catch (err) {
        failures++;
        const reason = networkReason(err);
        if (failures >= this.retry.attempts) {
          throw new ApiError(
            this.hints.unreachable(this.options.baseUrl, reason),
            undefined,
            undefined,
            false,
          );
        }
        await this.wait(this.backoff(failures), `${method} ${path}: ${reason}; retrying`);
      }
    }
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Response> {
    return this.fetchFn(`${this.options.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.options.apiKey}`,
        Accept: "application/json",
        ...(this.options.userAgent ? { "User-Agent": this.options.userAgent } : {}),
        ...headers,
      },
      body,
      signal: AbortSignal.timeout(this.retry.timeoutMs),
    });
  }

  /** The ApiError for an answer the importer cannot go on from, with a message that says what to do. */
  private refusal(res: Response, json: unknown, label: string, maybeStored: boolean): ApiError {
    const body = json as ErrorBody | undefined;
    const code = body?.error?.code;
    const what = describe(res, json);
    const hint: Record<number, string> = {
      400:
        code === "validation_error" && body?.error?.details?.some((d) => d.path === "callConfig")
          ? this.hints.noCallConfig
          : "",
      401: this.hints.badKey(this.options.baseUrl),
      404:
        code === "campaign_not_found"
          ? this.hints.badCampaign
          : this.hints.badUrl(`${this.options.baseUrl}${res.url ? ` (${new URL(res.url).pathname})` : ""}`),
      413: this.hints.tooLarge,
      422:
        code === "idempotency_key_reused"
          ? "The API already holds a different request under this part's Idempotency-Key. The file, its options or the importer changed between runs in a way the key does not capture; nothing more was sent."
          : "",
    };
    const extra = hint[res.status] ? ` ${hint[res.status]}` : "";
    const sentence = /[.!?]$/.test(what) ? what : `${what}.`;
    return new ApiError(`${label}: ${sentence}${extra}`, res.status, code, maybeStored);
  }
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => "");
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isBulkAnswer(json: unknown): json is BulkAnswer {
  const answer = json as BulkAnswer | undefined;
  return typeof answer?.results?.total === "number" && Array.isArray(answer.results.errors);
}

/** "503 service_unavailable: The database … (path: message)". */
function describe(res: Response, json: unknown): string {
  const body = json as ErrorBody | undefined;
  const code = body?.error?.code;
  const details = (body?.error?.details ?? [])
    .map((d) => `${d.path ?? ""}${d.path ? ": " : ""}${d.message ?? ""}`)
    .filter(Boolean)
    .join("; ");
  const message = body?.message ?? res.statusText;
  return `${res.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}${details ? ` (${details})` : ""}`;
}

function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return "timed out";
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent. */
export function retryAfterMs(res: Response, now = Date.now()): number | undefined {
  const value = res.headers.get("Retry-After")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
