// The local default dialer: accepts every call and writes one log line per request (up to 100
// calls), so `npm run dev` shows the whole flow without a telephony provider. It places no real
// calls. One line per request rather than per call: the local runtime forwards each log line over a
// loopback request of its own, and a line per call wedged `npm run dev` after about 10,000 dials.
import type { Dialer } from "../../domain/ports/dialer";

/** Masked numbers shown per line: enough to recognise a run, few enough to keep the line short. */
const LOGGED_SAMPLE_PHONES = 3;

/** Keeps the country code and the last two digits: enough to follow a run, not to dial. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return e164;
  return `${e164.slice(0, 3)}${"*".repeat(e164.length - 5)}${e164.slice(-2)}`;
}

export function createLogDialer(log: (event: string, fields: Record<string, unknown>) => void): Dialer {
  return {
    name: "log",
    async dispatch(batch) {
      const retries = batch.calls.filter((c) => c.attempt > 1).length;
      log("calls_dispatched", {
        dialer: "log",
        importId: batch.importId,
        campaignId: batch.campaign.id,
        agentId: batch.agentId,
        calls: batch.calls.length,
        firstAttempts: batch.calls.length - retries,
        retries,
        phones: batch.calls.slice(0, LOGGED_SAMPLE_PHONES).map((c) => maskPhone(c.customer.phone_number)),
        // The ids let a call be followed through the log; with at most 100 calls a request, the
        // line stays a few KB.
        callIds: batch.calls.map((c) => c.callId),
      });
      return { kind: "accepted", providerCallIds: new Map(), rejected: new Map() };
    },
  };
}
