// A D1 binding that answers every call a fixed time late: a Worker far from its database's primary.
// One call is one delay, whatever it carries (a batch of 10 statements is still one round trip),
// which is how D1's network cost scales. Bench-only; bench/worker.ts applies it to a request that
// sends the X-Bench-D1-Rtt-Ms header.
import { interceptD1 } from "../test/d1-meter";

/** Longest delay accepted: anything above is a typo, not a network. */
const MAX_RTT_MS = 1_000;

export function withD1Latency(inner: D1Database, rttMs: number): D1Database {
  if (!Number.isFinite(rttMs) || rttMs < 0 || rttMs > MAX_RTT_MS) {
    throw new RangeError(`D1 round trip must be 0-${MAX_RTT_MS} ms, got ${rttMs}`);
  }
  if (rttMs === 0) return inner;
  return interceptD1(inner, async (_call, perform) => {
    await new Promise((resolve) => setTimeout(resolve, rttMs));
    return perform();
  });
}
