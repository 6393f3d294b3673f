// A campaign's workflow: the short list of steps each customer added with useWorkflow goes through.
// The schema is the stored shape (validated when a campaign is created, so a run never meets a step
// it cannot interpret); what the steps mean lives in domain/workflows.
import { z } from "zod";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const DURATION = /^(\d{1,4})\s*(m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };
/** Longest single wait: a year; a longer plan is a mistake, not a workflow. */
const MAX_WAIT_SECONDS = 365 * 86_400;

/** "30m", "6h", "2d" (or a number of seconds) as seconds. */
const Duration = z
  .union([
    z.number().int().min(1).max(MAX_WAIT_SECONDS),
    z.string().regex(DURATION, 'a number followed by m, h or d, e.g. "2d"'),
  ])
  .transform((value) => {
    if (typeof value === "number") return value;
    const [, amount, unit] = DURATION.exec(value) as RegExpExecArray;
    return Number(amount) * (UNIT_SECONDS[unit as string] as number);
  })
  .refine((seconds) => seconds <= MAX_WAIT_SECONDS, "at most a year");

const WaitForDuration = z.object({ type: z.literal("wait"), duration: Duration });

const WaitUntilDate = z.object({
  type: z.literal("wait"),
  until: z.object({
    field: z.enum(["emi_due_date", "lead_date"]),
    offsetDays: z.number().int().min(-60).max(60).default(0),
    at: z.string().regex(HHMM, "HH:MM, 24-hour, in the campaign's time zone").default("10:00"),
  }),
});

const CallStep = z.object({
  type: z.literal("call"),
  agentId: z.string().min(1).optional(),
  dispositionId: z.string().min(1).optional(),
});

const StopIfPaidStep = z.object({ type: z.literal("stop_if_paid") });

/**
 * Sends a `workflow.step` event to one of the organization's registered webhooks, signed with its
 * secret and retried like every outcome event. Steps stored before webhooks were registered per
 * organization named a URL instead; migration 0005 turned each into a registered webhook.
 */
const WebhookStep = z.object({
  type: z.literal("webhook"),
  webhookId: z.string().min(1).max(64),
});

export const WorkflowStep = z.union([WaitForDuration, WaitUntilDate, CallStep, StopIfPaidStep, WebhookStep]);
export type WorkflowStep = z.output<typeof WorkflowStep>;

export const WorkflowDefinition = z.object({ steps: z.array(WorkflowStep).min(1).max(20) });
export type WorkflowDefinition = z.output<typeof WorkflowDefinition>;

/** queued (row written, no instance yet), started, running, completed, failed. */
export const WORKFLOW_RUN_STATUSES = ["queued", "started", "running", "completed", "failed"] as const;
export type WorkflowRunStatus = (typeof WORKFLOW_RUN_STATUSES)[number];

/** One customer's durable run for one import. */
export interface WorkflowRun {
  /** `<importId>-c<customerId>`: the same on every delivery, so Workflows refuses a second one. */
  instanceId: string;
  importId: string;
  batchNo: number;
  customerId: number;
  status: WorkflowRunStatus;
  /** Why a completed run ended: finished, stopped_paid, erased, campaign_deleted, cancelled, gone. */
  outcome: string | null;
  step: number | null;
  lastError: string | null;
  /** Unix ms; null while queued. */
  startedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What a run is started with. Small on purpose: everything else is read inside a step. */
export interface CustomerRunParams {
  importId: string;
  customerId: number;
}
