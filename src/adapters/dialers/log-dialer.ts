// The local default dialer: accepts every call and writes one log line per call, so `npm run dev`
// shows the whole flow without a telephony provider. It places no real calls.
import type { Dialer } from "../../domain/ports/dialer";

/** Keeps the country code and the last two digits: enough to follow a run, not to dial. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return e164;
  return `${e164.slice(0, 3)}${"*".repeat(e164.length - 5)}${e164.slice(-2)}`;
}

export function createLogDialer(log: (event: string, fields: Record<string, unknown>) => void): Dialer {
  return {
    name: "log",
    async dispatch(batch) {
      for (const call of batch.calls) {
        log("call_dispatched", {
          dialer: "log",
          callId: call.callId,
          attempt: call.attempt,
          importId: batch.importId,
          campaignId: batch.campaign.id,
          agentId: batch.agentId,
          customerId: call.customer.id,
          phone: maskPhone(call.customer.phone_number),
        });
      }
      return { kind: "accepted", providerCallIds: new Map(), rejected: new Map() };
    },
  };
}
