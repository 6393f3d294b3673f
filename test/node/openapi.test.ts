import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { ERROR_CODES } from "../../src/domain/errors";
import { statusOf } from "../../src/http/errors";
import { operationIdFor } from "../../src/http/openapi";

async function fetchDocument() {
  const res = await createApp().request("/openapi.json", {}, { MAX_BODY_BYTES: "20000000" } as any);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents the bulk endpoint from the same zod schemas the route validates with", async () => {
    const document = await fetchDocument();
    const bulk = document.paths["/api/v1/customers/add/bulk"].post;
    expect(Object.keys(bulk.responses)).toEqual(
      expect.arrayContaining(["201", "207", "400", "401", "404", "413", "415"]),
    );
    const request = document.components.schemas.BulkAddCustomersRequest;
    expect(request.required).toEqual(expect.arrayContaining(["campaignId", "records"]));
    expect(request.properties.records.maxItems).toBe(10_000);
    expect(request.properties.records.items.$ref).toBe("#/components/schemas/CustomerRecord");
    const record = document.components.schemas.CustomerRecord;
    expect(Object.keys(record.properties)).toEqual(
      expect.arrayContaining([
        "loan_id",
        "lead_id",
        "first_name",
        "phone_number",
        "emi_amount",
        "emi_due_date",
      ]),
    );
    expect(bulk.parameters.map((p: any) => p.name)).toContain("idempotency-key");
  });

  it("documents every webhook event under `webhooks`, with its payload and the signature headers", async () => {
    const document = await fetchDocument();
    expect(Object.keys(document.webhooks).sort()).toEqual(
      [
        "call.completed",
        "call.failed",
        "call.skipped",
        "import.completed",
        "workflow.completed",
        "workflow.failed",
        "workflow.step",
      ].sort(),
    );
    const completed = document.webhooks["call.completed"].post;
    expect(completed.parameters.map((p: any) => p.name).sort()).toEqual([
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
    ]);
    expect(completed.requestBody.content["application/json"].schema.$ref).toBe(
      "#/components/schemas/CallCompletedEvent",
    );
    const event = document.components.schemas.CallCompletedEvent;
    expect(event.required).toEqual(expect.arrayContaining(["type", "timestamp", "data"]));
    expect(event.properties.data.$ref).toBe("#/components/schemas/CallEventData");
    expect(Object.keys(document.components.schemas.CallEventData.properties)).toEqual(
      expect.arrayContaining([
        "callId",
        "loan_id",
        "lead_id",
        "phone_number",
        "campaignId",
        "importId",
        "status",
        "disposition",
        "reason",
        "attempts",
      ]),
    );
    expect(document.paths["/api/v1/webhooks"].post.responses["201"]).toBeDefined();
    expect(
      document.paths["/api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver"].post,
    ).toBeDefined();
  });
});

const METHODS = ["get", "put", "post", "delete", "patch"];

/** Every operation of `paths`, with its method and path template. */
function operationsOf(document: any): { method: string; path: string; op: any }[] {
  return Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}

describe("/openapi.json for generated clients", () => {
  it("names every operation and webhook with a unique, stable operationId", async () => {
    const document = await fetchDocument();
    const ids = [
      ...operationsOf(document).map((o) => o.op.operationId),
      ...Object.values(document.webhooks).map((w: any) => w.post.operationId),
    ];
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Generated clients call these names: renaming one breaks them. Routes added later only add.
    const byRoute = Object.fromEntries(
      operationsOf(document).map((o) => [`${o.method.toUpperCase()} ${o.path}`, o.op.operationId]),
    );
    expect(byRoute).toMatchObject({
      "POST /api/v1/customers/add/bulk": "addCustomersInBulk",
      "POST /api/v1/customers/add": "addCustomer",
      "PUT /api/v1/customers/update": "updateCustomer",
      "PATCH /api/v1/campaigns/{campaignId}": "updateCampaign",
      "DELETE /api/v1/campaigns/{campaignId}": "deleteCampaign",
      "DELETE /api/v1/campaigns/{campaignId}/customers/{key}": "eraseCustomer",
      "POST /api/v1/campaigns/{campaignId}/pause": "pauseCampaign",
      "POST /api/v1/campaigns/{campaignId}/resume": "resumeCampaign",
      "POST /api/v1/campaigns/{campaignId}/cancel": "cancelCampaign",
      "POST /api/v1/initiate/{campaignId}/calls": "initiateCalls",
      "GET /api/v1/initiations/{initiationId}": "getInitiation",
      "GET /api/v1/calls/{callId}": "getCall",
      "GET /api/v1/organization": "getOrganization",
      "PATCH /api/v1/organization": "updateOrganization",
      "POST /api/v1/imports/{importId}/pause": "pauseImport",
      "POST /api/v1/imports/{importId}/resume": "resumeImport",
      "POST /api/v1/imports/{importId}/cancel": "cancelImport",
      "POST /api/v1/campaigns": "createCampaign",
      "GET /api/v1/campaigns": "listCampaigns",
      "GET /api/v1/campaigns/{campaignId}": "getCampaign",
      "GET /api/v1/campaigns/{campaignId}/customers": "listCampaignCustomers",
      "GET /api/v1/campaigns/{campaignId}/calls": "listCampaignCalls",
      "POST /api/v1/calls/events": "reportCallEvents",
      "GET /api/v1/imports/{importId}": "getImport",
      "POST /api/v1/suppressions": "addSuppressions",
      "GET /api/v1/suppressions": "listSuppressions",
      "DELETE /api/v1/suppressions/{phone}": "deleteSuppression",
      "POST /api/v1/webhooks": "createWebhook",
      "GET /api/v1/webhooks": "listWebhooks",
      "GET /api/v1/webhooks/{webhookId}": "getWebhook",
      "DELETE /api/v1/webhooks/{webhookId}": "deleteWebhook",
      "POST /api/v1/webhooks/{webhookId}/rotate-secret": "rotateWebhookSecret",
      "GET /api/v1/webhooks/{webhookId}/deliveries": "listWebhookDeliveries",
      "POST /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver": "redeliverWebhookDelivery",
      "POST /api/v1/agents": "createAgent",
      "GET /api/v1/agents": "listAgents",
      "GET /api/v1/agents/{id}": "getAgent",
      "POST /api/v1/dispositions": "createDisposition",
      "GET /api/v1/dispositions": "listDispositions",
      "GET /api/v1/dispositions/{id}": "getDisposition",
      "POST /admin/v1/organizations": "adminCreateOrganization",
      "POST /admin/v1/organizations/{id}/api-keys": "adminCreateOrganizationApiKey",
      "DELETE /admin/v1/api-keys/{id}": "adminDeleteApiKey",
    });
    expect(document.webhooks["call.completed"].post.operationId).toBe("onCallCompleted");
  });

  it("derives readable operationIds from method and path for routes that name none", () => {
    expect(operationIdFor("post", "/api/v1/campaigns/{campaignId}/pause")).toBe("pauseCampaign");
    expect(operationIdFor("patch", "/api/v1/campaigns/{campaignId}")).toBe("updateCampaign");
    expect(operationIdFor("put", "/api/v1/campaigns/{campaignId}")).toBe("replaceCampaign");
    expect(operationIdFor("get", "/api/v1/calls/{callId}")).toBe("getCall");
    expect(operationIdFor("get", "/api/v1/organization/policy")).toBe("getOrganizationPolicy");
    expect(operationIdFor("get", "/api/v1/campaigns/{campaignId}/customers")).toBe("listCampaignCustomers");
    expect(operationIdFor("post", "/admin/v1/organizations/{id}/api-keys")).toBe(
      "adminCreateOrganizationApiKey",
    );
    expect(operationIdFor("post", "/api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver")).toBe(
      "redeliverWebhookDelivery",
    );
  });

  it("says where the API is, its license, and every tag with a description", async () => {
    const document = await fetchDocument();
    expect(document.servers).toEqual([{ url: "/", description: expect.any(String) }]);
    expect(document.info.license).toEqual({ name: "MIT", identifier: "MIT" });
    const used = new Set([
      ...operationsOf(document).flatMap((o) => o.op.tags),
      ...Object.values(document.webhooks).flatMap((w: any) => w.post.tags),
    ]);
    expect(document.tags.map((t: any) => t.name).sort()).toEqual([...used].sort());
    for (const tag of document.tags) expect(tag.description, tag.name).toMatch(/\S/);
  });

  it("lists the statuses every operation can answer, with the headers each carries", async () => {
    const document = await fetchDocument();
    for (const { method, path, op } of operationsOf(document)) {
      const where = `${method} ${path}`;
      const statuses = Object.keys(op.responses);
      expect(statuses, where).toEqual(expect.arrayContaining(["401", "500", "503"]));
      if (method !== "get" && method !== "delete") {
        expect(statuses, where).toEqual(expect.arrayContaining(["400", "413", "415"]));
      }
      if (path.startsWith("/admin/v1/")) expect(statuses, where).toContain("404");
      for (const [status, response] of Object.entries(op.responses) as [string, any][]) {
        expect(response.headers?.["X-Request-Id"], `${where} ${status}`).toEqual({
          $ref: "#/components/headers/X-Request-Id",
        });
        // An error body is the one whose error.code lists exactly this status's codes.
        const refs = JSON.stringify(response.content ?? {}).match(/#\/components\/schemas\/Error\d*/g) ?? [];
        for (const ref of refs) expect(ref, `${where} ${status}`).toBe(`#/components/schemas/Error${status}`);
      }
      expect(op.responses["401"].headers["WWW-Authenticate"], where).toBeDefined();
      expect(op.responses["503"].headers["Retry-After"], where).toBeDefined();
    }
    const bulk = document.paths["/api/v1/customers/add/bulk"].post.responses;
    expect(bulk["409"].headers["Retry-After"]).toBeDefined();
    for (const status of ["201", "207", "400"]) {
      expect(bulk[status].headers["Idempotent-Replayed"].schema).toEqual({ type: "string", enum: ["true"] });
    }
    expect(document.components.headers["X-Request-Id"].required).toBe(true);
  });

  it("gives each error status the closed list of its codes", async () => {
    const document = await fetchDocument();
    const errors = Object.entries(document.components.schemas).filter(([name]) => /^Error\d+$/.test(name));
    expect(errors.map(([name]) => name)).toEqual(
      expect.arrayContaining(["Error400", "Error401", "Error500", "Error503"]),
    );
    for (const [name, schema] of errors as [string, any][]) {
      const status = Number(name.slice("Error".length));
      expect(schema.properties.error.properties.code.enum, name).toEqual(
        ERROR_CODES.filter((code) => statusOf(code) === status),
      );
    }
  });

  it("keeps what it documents: a 401 with WWW-Authenticate, a 404 while /admin/v1 is off", async () => {
    const document = await fetchDocument();
    const codes = (status: number) =>
      document.components.schemas[`Error${status}`].properties.error.properties.code.enum;
    const unauthorized = await createApp().request("/api/v1/campaigns", {}, {} as never);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(unauthorized.headers.get("X-Request-Id")).toMatch(/\S/);
    expect(codes(401)).toContain(((await unauthorized.json()) as any).error.code);
    const off = await createApp().request(
      "/admin/v1/organizations",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"name":"x"}' },
      {} as never,
    );
    expect(off.status).toBe(404);
    expect(codes(404)).toContain(((await off.json()) as any).error.code);
  });

  it("puts /admin/v1 under the admin token's own scheme", async () => {
    const document = await fetchDocument();
    expect(document.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.security).toEqual([{ apiKey: [] }]);
    for (const { method, path, op } of operationsOf(document)) {
      if (path.startsWith("/admin/v1/"))
        expect(op.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
      else if (path !== "/api/v1/calls/events") expect(op.security, `${method} ${path}`).toBeUndefined();
    }
    // The dialer signs its reports instead (described on the operation and its header parameter).
    expect(document.paths["/api/v1/calls/events"].post.security).toEqual([]);
  });

  it("leaves request fields with a default optional, the default in their description", async () => {
    const document = await fetchDocument();
    const request = document.components.schemas.BulkAddCustomersRequest;
    expect(request.required).toEqual(["campaignId", "records"]);
    expect(request.properties.initiateCall).toEqual({ type: "boolean", description: "Default: `false`." });
    const campaign = document.components.schemas.CreateCampaign;
    expect(campaign.required).toEqual(["name", "campaignType"]);
    expect(campaign.properties.timezone.description).toContain('Default: `"Asia/Kolkata"`.');
    expect(JSON.stringify(campaign)).not.toContain('"default"');
    // Query parameters keep theirs: generators read parameter defaults correctly.
    const limit = document.paths["/api/v1/campaigns"].get.parameters.find((p: any) => p.name === "limit");
    expect(limit).toMatchObject({ required: false, schema: { default: 100 } });
  });
});
