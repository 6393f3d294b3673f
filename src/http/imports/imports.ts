// GET /api/v1/imports/{importId}: a bulk request's counts and the live progress of its calls and
// workflow runs; POST .../pause, .../resume, .../cancel control its dialing.
import { createRoute, z } from "@hono/zod-openapi";
import { cancelImport, pauseImport, resumeImport } from "../../domain/dialing/control";
import {
  type DialingStatus,
  FAILURE_EXAMPLES,
  FAILURE_REASONS_LISTED,
  getImportProgress,
  type ImportProgress,
} from "../../domain/imports/get-import-progress";
import { DECISIONS } from "../../domain/model/call";
import { IMPORT_KINDS, IMPORT_STATES } from "../../domain/model/imports";
import { handOffDeliveriesQuietly } from "../../domain/webhooks/hand-off";
import { afterResponse } from "../after-response";
import { errorResponses } from "../errors";
import { noBody } from "../middleware/json-body";
import { createRouter } from "../router";
import { ImportCountsSchema, iso, RefreshCountsSchema } from "../schemas";

const BatchError = z
  .object({ batch: z.number().int(), customers: z.number().int(), message: z.string() })
  .openapi("BatchError", { description: "A batch the dead-letter queue gave up on, with the reason." });

const BatchErrors = z
  .array(BatchError)
  .openapi({ description: "Batches the dead-letter queue gave up on, with the reason." });

const RunFailure = z
  .object({
    customers: z.number().int().openapi({ description: "Runs that failed for this reason." }),
    message: z.string().openapi({
      description: "Where the run failed and why, e.g. `step 4 (webhook): webhook crm.example answered 400`.",
    }),
    examples: z
      .array(
        z.object({
          customerId: z.number().int(),
          loan_id: z.string().nullable(),
          lead_id: z.string().nullable(),
          instanceId: z.string().openapi({ description: "The Workflows instance id of the run." }),
        }),
      )
      .max(FAILURE_EXAMPLES)
      .openapi({ description: `Up to ${FAILURE_EXAMPLES} of those runs, lowest customer id first.` }),
  })
  .openapi("WorkflowRunFailure", {
    description: `Started runs that failed for the same reason. At most ${FAILURE_REASONS_LISTED} reasons are listed, the most frequent first; one more item counts the runs that failed for any other reason (with no examples).`,
  });

export const ImportDialing = z
  .object({
    status: z.enum(["active", "paused", "cancelled", "finished"]).openapi({
      description:
        "active; paused (by the import, or by its campaign: pausedBy); cancelled (for good); finished (every call and run is final).",
    }),
    pausedBy: z.enum(["import", "campaign"]).nullable(),
    pausedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
  })
  .openapi("ImportDialing");

export const CallProgressSchema = z
  .object({
    requested: z.number().int(),
    queued: z.number().int(),
    dispatched: z.number().int(),
    delayed: z.number().int(),
    delayedBy: z.record(z.string(), z.number().int()).openapi({
      description: "The delayed calls by the reason they wait.",
      example: { outside_calling_window: 40, phone_daily_cap: 2, retry_after_no_answer: 7 },
    }),
    skipped: z.record(z.string(), z.number().int()).openapi({ example: { paid: 3, suppressed: 1 } }),
    failed: z.number().int(),
    completed: z.number().int(),
    cancelled: z.number().int().openapi({
      description:
        "Stopped before dialling: the import (or its campaign) was cancelled, the customer erased or the campaign deleted.",
    }),
    errors: BatchErrors,
    decisions: z
      .array(
        z.object({ decision: z.enum(DECISIONS), reason: z.string().nullable(), count: z.number().int() }),
      )
      .openapi({
        description:
          "The calls' decision logs (GET /api/v1/calls/{callId}), counted per decision and reason.",
      }),
  })
  .openapi("CallProgress");

const ImportSchema = z
  .object({
    importId: z.string(),
    kind: z.enum(IMPORT_KINDS).openapi({
      description:
        "bulk (POST /customers/add/bulk), single (POST /customers/add) or initiation (POST /initiate/{campaignId}/calls).",
    }),
    campaignId: z.string(),
    createdAt: z.string(),
    state: z.enum(IMPORT_STATES).openapi({
      description:
        "processing: an attempt holds the import; failed: it stopped (a retry with the same Idempotency-Key resumes it); completed.",
    }),
    attempt: z.object({
      number: z.number().int(),
      leaseExpiresAt: z.string().nullable().openapi({
        description: "While processing: when the running attempt stops holding the import unless it renews.",
      }),
    }),
    results: ImportCountsSchema.extend({
      ...RefreshCountsSchema.shape,
      matched: z.number().int().optional().openapi({
        description: "Only for an initiation: the customers its filters matched (it took `total`).",
      }),
      pending: z.number().int().openapi({
        description:
          "Records whose outcome is not final yet (while processing): valid + invalid + pending = total and successful + failed + pending = total.",
      }),
    }),
    dialing: ImportDialing,
    calls: CallProgressSchema,
    workflows: z.object({
      requested: z.number().int(),
      started: z.number().int(),
      running: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
      errors: z.array(z.union([BatchError, RunFailure])).openapi({
        description:
          "Batches the dead-letter queue gave up on (items with `batch`), then the reasons started runs failed for (items with `examples`).",
      }),
    }),
  })
  .openapi("ImportProgress");

export const importsRoutes = createRouter();

importsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{importId}",
    tags: ["Imports"],
    summary: "Get a request's progress (bulk, single customer or initiation)",
    description:
      "calls.requested = queued + delayed + dispatched + skipped (all reasons) + failed + completed + cancelled at every moment.",
    request: { params: z.object({ importId: z.string().min(1).max(64) }) },
    responses: {
      200: { description: "The import", content: { "application/json": { schema: ImportSchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const progress = await getImportProgress(c.var.deps, c.var.organizationId, c.req.valid("param").importId);
    return c.json(progressJson(progress), 200);
  },
);

function progressJson(progress: ImportProgress) {
  const { leaseExpiresAt } = progress.attempt;
  return {
    ...progress,
    attempt: { ...progress.attempt, leaseExpiresAt: leaseExpiresAt === null ? null : iso(leaseExpiresAt) },
    createdAt: iso(progress.createdAt),
    dialing: dialingJson(progress.dialing),
  };
}

/** An import's (or initiation's) dialing status as answered (ImportDialing). */
export function dialingJson(dialing: DialingStatus) {
  return {
    ...dialing,
    pausedAt: dialing.pausedAt === null ? null : iso(dialing.pausedAt),
    cancelledAt: dialing.cancelledAt === null ? null : iso(dialing.cancelledAt),
  };
}

const ACTIONS = {
  pause: {
    run: pauseImport,
    summary: "Pause an import's calls",
    description:
      "Nothing new goes to the dialer; waiting calls keep their place and live calls are not hung up. Idempotent. 409 when the import was cancelled or has finished.",
  },
  resume: {
    run: resumeImport,
    summary: "Resume an import's calls",
    description:
      "Waiting calls are judged again (calling window, limits, retry intervals) and placed where they stopped. 409 when the import was cancelled or has finished.",
  },
  cancel: {
    run: cancelImport,
    summary: "Cancel an import's calls",
    description:
      "Every waiting call becomes cancelled, every workflow run not finished ends (outcome cancelled); live calls are not hung up. For good: a cancelled import cannot be resumed. 409 when already cancelled or finished.",
  },
} as const;

for (const [action, { run, summary, description }] of Object.entries(ACTIONS)) {
  importsRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{importId}/${action}`,
      operationId: `${action}Import`,
      tags: ["Imports"],
      summary,
      description: `${description} The same applies to an initiation (its id). No request body: one is refused (400), except \`{}\`.`,
      middleware: [noBody] as const,
      request: { params: z.object({ importId: z.string().min(1).max(64) }) },
      responses: {
        200: {
          description: "The import as it now is",
          content: { "application/json": { schema: ImportSchema } },
        },
        ...errorResponses(401, 404, 409),
      },
    }),
    async (c) => {
      const { importId } = c.req.valid("param");
      await run(c.var.deps, c.var.organizationId, importId);
      // Runs a cancel ended recorded their outcome events.
      if (action === "cancel") afterResponse(c, () => handOffDeliveriesQuietly(c.var.deps));
      const progress = await getImportProgress(c.var.deps, c.var.organizationId, importId);
      return c.json(progressJson(progress), 200);
    },
  );
}
