import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";

async function fetchDocument() {
  const res = await createApp().request("/openapi.json", {}, { MAX_BODY_BYTES: "26214400" } as any);
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
