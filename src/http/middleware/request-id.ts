import { createMiddleware } from "hono/factory";
import type { AppBindings } from "../types";

const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every response carries X-Request-Id: the caller's own when it sent a sane one, else a new one. */
export const requestId = createMiddleware<AppBindings>(async (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const id = incoming && ACCEPTED.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await next();
  c.header("X-Request-Id", id);
});
