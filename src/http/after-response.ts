import type { Context } from "hono";

/**
 * Runs `task` after the response has been sent (`waitUntil`), so the caller never waits for it.
 * Without an execution context (the app called directly, as some tests do) it runs alongside.
 * `task` must handle its own errors.
 */
export function afterResponse(c: Context, task: () => Promise<unknown>): void {
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const running = task();
  ctx?.waitUntil(running);
}
