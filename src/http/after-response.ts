import type { Context } from "hono";

/**
 * Runs `task` once the handler has returned its response (`waitUntil`), so the caller never waits
 * for it: it starts in a later turn of the event loop, never inside the handler. Without an
 * execution context (the app called directly, as some tests do) it runs alongside. `task` must
 * handle its own errors.
 */
export function afterResponse(c: Context, task: () => Promise<unknown>): void {
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const running = new Promise((resolve) => setTimeout(resolve, 0)).then(task);
  ctx?.waitUntil(running);
}
