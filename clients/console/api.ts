// The console's reads of the API, on the page's own origin with the key the user typed. The bulk
// request, the campaign's type and the dryRun check go through clients/sheet's ApiClient (the CLI's
// retries and wording); the listings below are plain GETs whose failures become one sentence.
import { ApiClient } from "../sheet/api-client";
import { type CampaignType, isCampaignType } from "../sheet/fields";
import { type CallCounts, CONSOLE_HINTS } from "./logic";

export interface Campaign {
  id: string;
  name: string;
  campaignType: CampaignType;
  timezone: string;
  callingWindow: { start: string; end: string } | null;
}

export interface Named {
  id: string;
  name: string;
}

export interface Call {
  callId: string;
  loan_id: string | null;
  lead_id: string | null;
  phone_number: string;
  status: string;
  reason: string | null;
  disposition: string | null;
  attempts: number;
  notBefore: string | null;
  importId: string;
  updatedAt: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** A GET that did not answer 200, worded for the page. */
export class ConsoleApiError extends Error {
  override name = "ConsoleApiError";
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export class ConsoleApi {
  readonly client: ApiClient;

  constructor(
    private readonly apiKey: string,
    private readonly baseUrl = location.origin,
  ) {
    this.client = new ApiClient({ baseUrl, apiKey, hints: CONSOLE_HINTS });
  }

  /** Every campaign of the key's organization (pages of 500, the API's largest). */
  async campaigns(): Promise<Campaign[]> {
    const all: Campaign[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Campaign> = await this.get(
        `/api/v1/campaigns?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      all.push(...page.data.filter((c) => isCampaignType(c.campaignType)));
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /** The first 500 agents or dispositions, for the call settings' lists. */
  async named(kind: "agents" | "dispositions"): Promise<Named[]> {
    return (await this.get<Page<Named>>(`/api/v1/${kind}?limit=500`)).data;
  }

  async importCalls(importId: string): Promise<CallCounts> {
    return (await this.get<{ calls: CallCounts }>(`/api/v1/imports/${encodeURIComponent(importId)}`)).calls;
  }

  async calls(campaignId: string, status: string, cursor: string | null, limit = 50): Promise<Page<Call>> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    return this.get(`/api/v1/campaigns/${encodeURIComponent(campaignId)}/calls?${query}`);
  }

  private async get<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${this.apiKey}`, Accept: "application/json" },
      });
    } catch (error) {
      throw new ConsoleApiError(
        CONSOLE_HINTS.unreachable(this.baseUrl, error instanceof Error ? error.message : String(error)),
        undefined,
      );
    }
    const body = (await res.json().catch(() => undefined)) as
      | (T & { message?: string; error?: { code?: string } })
      | undefined;
    if (res.status === 200 && body !== undefined) return body;
    if (res.status === 401) throw new ConsoleApiError(CONSOLE_HINTS.badKey(this.baseUrl), 401);
    const code = body?.error?.code;
    throw new ConsoleApiError(
      `GET ${path.split("?")[0]}: ${res.status}${code ? ` ${code}` : ""}${body?.message ? `: ${body.message}` : ""}`,
      res.status,
    );
  }
}
