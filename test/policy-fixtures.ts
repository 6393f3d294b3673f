// Set-up for the dialing-policy tests: one worker whose every entry point (HTTP, queue) runs on a
// pinned clock with its queue captured, so a test plays the dialer, the queue and time itself.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLogDialer } from "../src/adapters/dialers/log-dialer";
import { createDeps, type Deps } from "../src/deps";
import { signatureHeader } from "../src/domain/calls/signature";
import type { CallsQueueMessage } from "../src/domain/model/outbox";
import type { Dialer } from "../src/domain/ports/dialer";
import type { AppEnv } from "../src/env";
import { createWorker } from "../src/index";
import { countingDialer, deliver, pinnedClock } from "./calls-fixtures";

const secret = (env as unknown as AppEnv).DIALER_SECRET as string;
const CALLS = "bulkcall-calls";

/**
 * A pinned-clock world: `api` calls the HTTP API, `deliver` plays the CALLS queue, `report` posts
 * signed outcome events, all through the same worker; `queue.sent` holds what the code sent.
 */
export function pinnedWorld(start: string, options: { dialer?: Dialer; wrap?: (deps: Deps) => Deps } = {}) {
  const clock = pinnedClock(start);
  // Each message remembers when it becomes deliverable (its send time plus its delay).
  const sent: { body: CallsQueueMessage; delaySeconds?: number; at: number }[] = [];
  const queue = {
    sent,
    async sendBatch(messages: Iterable<{ body: CallsQueueMessage; delaySeconds?: number }>) {
      for (const m of messages) sent.push({ ...m, at: clock.now() + (m.delaySeconds ?? 0) * 1000 });
    },
  };
  const counting = countingDialer(options.dialer ?? createLogDialer(() => {}));
  const worker = createWorker({
    deps: (e) => {
      const deps = createDeps(e, { clock, dialer: counting.dialer, callsQueue: queue });
      return options.wrap ? options.wrap(deps) : deps;
    },
  });

  async function fetchJson(path: string, init: RequestInit) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`http://bulkcall.test${path}`, init), env, ctx);
    await waitOnExecutionContext(ctx);
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
  }

  return {
    clock,
    queue,
    dialer: counting,
    worker,
    api(method: string, path: string, auth: Record<string, string>, body?: unknown) {
      return fetchJson(path, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    /** Signed outcome events, at the pinned time. */
    async report(events: Record<string, unknown>[]) {
      const raw = JSON.stringify({ events });
      const r = await fetchJson("/api/v1/calls/events", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Bulkcall-Signature": await signatureHeader(secret, Math.floor(clock.now() / 1000), raw),
        },
        body: raw,
      });
      if (r.status !== 200) throw new Error(`events refused: ${r.text}`);
      return r.json;
    },
    deliver(bodies: readonly unknown[], attempts = 1) {
      return deliver(worker, CALLS, bodies, attempts);
    },
    /**
     * Delivers every captured message whose moment has come, and what those send for now, until
     * none is left; returns how many were delivered.
     */
    async deliverDue() {
      let delivered = 0;
      for (let round = 0; round < 20; round++) {
        const due = sent.filter((m) => m.at <= clock.now());
        if (due.length === 0) break;
        sent.splice(0, sent.length, ...sent.filter((m) => !due.includes(m)));
        await deliver(
          worker,
          CALLS,
          due.map((m) => m.body),
        );
        delivered += due.length;
      }
      return delivered;
    },
    /** Moves the clock to `iso` and delivers what is due then. */
    async at(iso: string) {
      clock.set(iso);
      return this.deliverDue();
    },
  };
}

export type PinnedWorld = ReturnType<typeof pinnedWorld>;
