// The bodies bulkcall POSTs to webhooks, as OpenAPI `webhooks` and components. The payloads of call,
// import and workflow outcomes are built by the store's triggers (migrations 0005 and 0006) and the
// workflow.step payload by src/domain/webhooks/workflow-step-event.ts; the tests hold both to these
// shapes.

import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { IMPORT_KINDS } from "../../domain/model/imports";
import type { WebhookEventType, WORKFLOW_STEP_EVENT } from "../../domain/model/webhook";
import { ImportCountsSchema, RefreshCountsSchema } from "../schemas";

const Time = z.string().openapi({ format: "date-time", example: "2026-11-23T04:35:00.000Z" });
const NullableTime = Time.nullable();

const customerFields = {
  customerId: z.number().int().nullable().openapi({ description: "The customer's id in bulkcall." }),
  loan_id: z.string().nullable(),
  lead_id: z.string().nullable(),
  phone_number: z.string().nullable().openapi({
    description: "E.164. For calls, the number dialled (or that would have been).",
    example: "+919876543210",
  }),
};

const CallEventData = z
  .object({
    callId: z.string().openapi({ example: "call_5f1c0e2a9b7d4c3e8a6f1b2d" }),
    status: z.enum(["completed", "failed", "skipped"]),
    reason: z.string().nullable().openapi({
      description:
        "Why the call failed or was skipped: the dialer's reason (e.g. no_answer), paid, suppressed, dead_lettered: …",
    }),
    disposition: z
      .string()
      .nullable()
      .openapi({ description: "The outcome the dialer reported for a completed call." }),
    attempts: z
      .number()
      .int()
      .openapi({ description: "Times the call was handed to the dialer (0 when skipped)." }),
    providerCallId: z.string().nullable(),
    ...customerFields,
    campaignId: z.string().nullable(),
    importId: z.string(),
    origin: z
      .string()
      .openapi({ description: '"bulk" for initiateCall; "workflow:<step>" for a workflow call step.' }),
    createdAt: Time,
    dispatchedAt: NullableTime,
    finishedAt: NullableTime,
  })
  .openapi("CallEventData");

const ImportEventData = z
  .object({
    importId: z.string(),
    kind: z.enum(IMPORT_KINDS).openapi({
      description:
        "bulk (a bulk request), single (one customer added) or initiation (calls to stored customers).",
    }),
    campaignId: z.string().nullable(),
    results: ImportCountsSchema.extend({
      ...RefreshCountsSchema.shape,
      matched: z.number().int().optional().openapi({ description: "Only for an initiation." }),
    }),
    initiateCall: z.boolean(),
    useWorkflow: z.boolean(),
    createdAt: Time,
    completedAt: Time,
  })
  .openapi("ImportEventData");

const WorkflowEventData = z
  .object({
    instanceId: z.string(),
    status: z.enum(["completed", "failed"]),
    outcome: z.string().nullable().openapi({
      description:
        "How a completed run ended: finished, stopped_paid, erased, campaign_deleted, cancelled, gone.",
    }),
    reason: z.string().nullable().openapi({ description: "Why a run failed." }),
    step: z.number().int().nullable().openapi({ description: "The last step the run reached (0-based)." }),
    ...customerFields,
    campaignId: z.string().nullable(),
    importId: z.string(),
    createdAt: Time,
    startedAt: NullableTime,
    finishedAt: Time,
  })
  .openapi("WorkflowEventData");

const WorkflowStepEventData = z
  .object({
    instanceId: z.string(),
    step: z.number().int().openapi({ description: "The webhook step's index in the workflow (0-based)." }),
    importId: z.string(),
    campaignId: z.string().nullable(),
    ...customerFields,
    payment_status: z.string().nullable(),
  })
  .openapi("WorkflowStepEventData");

const DESCRIPTIONS: Record<WebhookEventType | typeof WORKFLOW_STEP_EVENT, [string, z.ZodType]> = {
  "call.completed": ["The dialer reported the call completed (with its disposition).", CallEventData],
  "call.failed": [
    "The call failed: the dialer refused it or reported a failure, or its batch was dead-lettered.",
    CallEventData,
  ],
  "call.skipped": [
    "The call was not placed: the customer had paid, or the number is suppressed.",
    CallEventData,
  ],
  "import.completed": [
    "A request that stores customers or initiates calls (bulk, single, initiation) completed, with its counts.",
    ImportEventData,
  ],
  "workflow.completed": [
    "A customer's workflow run ended (finished, or stopped: paid, erased, campaign deleted, gone).",
    WorkflowEventData,
  ],
  "workflow.failed": ["A customer's workflow run failed.", WorkflowEventData],
  "workflow.step": [
    "A workflow `webhook` step was reached. Sent only to the webhook the step names, never by subscription.",
    WorkflowStepEventData,
  ],
};

const Headers = z.object({
  "webhook-id": z.string().openapi({
    description: "The delivery's id: the same on every attempt and redelivery. De-duplicate on it.",
    example: "msg_2b7e1f0c9d8a4e6b3c5d7f90",
  }),
  "webhook-timestamp": z
    .string()
    .openapi({ description: "Unix seconds of this attempt.", example: "1795800000" }),
  "webhook-signature": z.string().openapi({
    description:
      "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `<webhook-id>.<webhook-timestamp>.<body>` (two during a secret rotation). Verify with a Standard Webhooks library.",
  }),
});

/** Registers every event as an OpenAPI 3.1 `webhooks` entry, with its payload as a component. */
export function registerWebhookEvents(registry: OpenAPIHono["openAPIRegistry"]): void {
  for (const [type, [description, data]] of Object.entries(DESCRIPTIONS)) {
    const name = type
      .split(".")
      .map((part) => part[0]?.toUpperCase() + part.slice(1))
      .join("");
    const body = z
      .object({
        type: z.literal(type),
        timestamp: Time.openapi({ description: "When the event happened." }),
        data,
      })
      .openapi(`${name}Event`);
    registry.registerWebhook({
      method: "post",
      path: type,
      tags: ["Webhooks"],
      summary: type,
      description: `${description} Signed per the Standard Webhooks specification; see the README's webhooks section.`,
      request: {
        headers: Headers,
        body: { required: true, content: { "application/json": { schema: body } } },
      },
      responses: {
        200: {
          description:
            "Any 2xx acknowledges the delivery. Anything else (or no answer within 15 s) is retried; 410 stops it.",
        },
      },
    });
  }
}
