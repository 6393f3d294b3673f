import { except } from "hono/combine";
import { createDeps, type Deps } from "./deps";
import { customerRecordJsonSchema } from "./domain/records/record-json-schema";
import type { AppEnv } from "./env";
import { adminRoutes } from "./http/admin/admin";
import { callDetailRoutes } from "./http/calls/call-detail";
import { campaignCallsRoutes } from "./http/calls/campaign-calls";
import { callEventsRoutes, isCallEventsRequest } from "./http/calls/events";
import { campaignDialingRoutes } from "./http/campaigns/campaign-dialing";
import { campaignsRoutes } from "./http/campaigns/campaigns";
import { bulkRoutes } from "./http/customers/bulk";
import { singleCustomerRoutes } from "./http/customers/single";
import { errorBody, handleError } from "./http/errors";
import { importsRoutes } from "./http/imports/imports";
import { initiationRoutes } from "./http/initiations/initiations";
import { adminAuth, apiKeyAuth } from "./http/middleware/auth";
import { jsonBody } from "./http/middleware/json-body";
import { requestId } from "./http/middleware/request-id";
import { serveOpenApiDocument } from "./http/openapi";
import { organizationRoutes } from "./http/organization/organization";
import { namedResourceRoutes } from "./http/resources/named-resources";
import { createRouter } from "./http/router";
import { suppressionsRoutes } from "./http/suppressions/suppressions";
import { registerWebhookEvents } from "./http/webhooks/event-schemas";
import { webhooksRoutes } from "./http/webhooks/webhooks";

export interface AppOptions {
  /** How a request gets its dependencies; tests pass one with a pinned clock. */
  deps?: (env: AppEnv) => Deps;
}

export function createApp(options: AppOptions = {}) {
  const makeDeps = options.deps ?? ((env: AppEnv) => createDeps(env));
  const app = createRouter();

  app.use("*", requestId);
  app.use("*", async (c, next) => {
    c.set("deps", makeDeps(c.env));
    await next();
  });
  // Authentication runs before the body is read: an unauthenticated caller costs no parsing. The
  // dialer's outcome reports carry no API key: that route checks their HMAC signature over the raw
  // bytes itself, before it parses them.
  app.use("/api/v1/*", except(isCallEventsRequest, apiKeyAuth, jsonBody));
  app.use("/admin/v1/*", adminAuth, jsonBody);

  app.route("/api/v1/customers", bulkRoutes);
  app.route("/api/v1/customers", singleCustomerRoutes);
  app.route("/api/v1/campaigns", campaignsRoutes);
  app.route("/api/v1/campaigns", campaignCallsRoutes);
  app.route("/api/v1/campaigns", campaignDialingRoutes);
  app.route("/api/v1/calls", callEventsRoutes);
  app.route("/api/v1/calls", callDetailRoutes);
  app.route("/api/v1/organization", organizationRoutes);
  app.route("/api/v1/imports", importsRoutes);
  app.route("/api/v1", initiationRoutes);
  app.route("/api/v1/suppressions", suppressionsRoutes);
  app.route("/api/v1/webhooks", webhooksRoutes);
  app.route("/api/v1/agents", namedResourceRoutes("agents", "Agent"));
  app.route("/api/v1/dispositions", namedResourceRoutes("dispositions", "Disposition"));
  app.route("/admin/v1", adminRoutes);

  app.get("/health", (c) => c.json({ ok: true }));

  app.openAPIRegistry.registerComponent("schemas", "CustomerRecord", customerRecordJsonSchema());
  registerWebhookEvents(app.openAPIRegistry);
  serveOpenApiDocument(app, "/openapi.json");
  // /docs (the API reference page) and /console are static assets (wrangler.jsonc "assets"), served
  // before this app runs: see scripts/build-clients.mjs.

  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  app.onError(handleError);

  return app;
}
