// The `http` dialer adapter: POSTs a batch of calls as JSON to DIALER_URL, signed with
// DIALER_SECRET (see signature.ts and the README, "The dialer protocol"). 2xx = taken (the body may refuse single
// calls); 429 and 5xx = not taken, try again later; any other status = refused for good.

import { SIGNATURE_HEADER, signatureHeader } from "../../domain/calls/signature";
import type { Clock } from "../../domain/ports/clock";
import type { DialBatch, Dialer, DialOutcome } from "../../domain/ports/dialer";

export interface HttpDialerConfig {
  url: string;
  secret: string;
  /** Signing time: wall-clock time, whatever clock the business rules run on. */
  clock: Clock;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REASON_CHARS = 300;

/** What a dialer may answer with a 2xx; every call not listed as rejected counts as accepted. */
interface AcceptedBody {
  calls?: { callId?: unknown; status?: unknown; providerCallId?: unknown; reason?: unknown }[];
}

export function createHttpDialer(config: HttpDialerConfig): Dialer {
  const doFetch = config.fetch ?? fetch;
  return {
    name: "http",
    async dispatch(batch: DialBatch): Promise<DialOutcome> {
      const body = JSON.stringify(batch);
      const timestamp = Math.floor(config.clock.now() / 1000);
      let response: Response;
      try {
        response = await doFetch(config.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            [SIGNATURE_HEADER]: await signatureHeader(config.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
      } catch (err) {
        // No answer: the dialer may or may not have the batch. Sending it again is safe because
        // every call carries its stable callId, which the dialer treats as an idempotency key.
        return {
          kind: "retry",
          reason: `no answer from the dialer: ${err instanceof Error ? err.message : err}`,
        };
      }
      const text = await response.text();
      if (response.ok) return acceptedOutcome(batch, text);
      const reason = `dialer answered HTTP ${response.status}${text ? `: ${text.slice(0, MAX_REASON_CHARS)}` : ""}`;
      if (response.status === 429 || response.status >= 500) {
        return {
          kind: "retry",
          reason,
          retryAfterSeconds: retryAfter(response.headers.get("Retry-After"), config.clock.now()),
        };
      }
      return { kind: "rejected", reason };
    },
  };
}

function acceptedOutcome(batch: DialBatch, text: string): DialOutcome {
  const providerCallIds = new Map<string, string>();
  const rejected = new Map<string, string>();
  let parsed: AcceptedBody | undefined;
  try {
    parsed = text ? (JSON.parse(text) as AcceptedBody) : undefined;
  } catch {
    parsed = undefined;
  }
  const known = new Set(batch.calls.map((c) => c.callId));
  for (const entry of Array.isArray(parsed?.calls) ? parsed.calls : []) {
    if (typeof entry?.callId !== "string" || !known.has(entry.callId)) continue;
    if (entry.status === "rejected") {
      const reason = typeof entry.reason === "string" ? entry.reason.slice(0, MAX_REASON_CHARS) : "rejected";
      rejected.set(entry.callId, `dialer rejected the call: ${reason}`);
    } else if (typeof entry.providerCallId === "string") {
      providerCallIds.set(entry.callId, entry.providerCallId.slice(0, 128));
    }
  }
  return { kind: "accepted", providerCallIds, rejected };
}

/** Retry-After in seconds (either form the header allows), or undefined. */
function retryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
