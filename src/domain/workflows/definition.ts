// A campaign's workflow: the short list of steps each added customer goes through when a bulk
// request sets useWorkflow. Validated with zod when the campaign is created, so a run never meets
// a step it cannot interpret.
import { z } from "zod";
import type { CampaignType } from "../intake/record-rules";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const DURATION = /^(\d{1,4})\s*(m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

/** "30m", "6h", "2d" (or a number of seconds) as seconds. */
export const Duration = z
  .union([
    z
      .number()
      .int()
      .min(1)
      .max(365 * 86_400),
    z.string().regex(DURATION, 'a number followed by m, h or d, e.g. "2d"'),
  ])
  .transform((value) => {
    if (typeof value === "number") return value;
    const [, amount, unit] = DURATION.exec(value) as RegExpExecArray;
    return Number(amount) * (UNIT_SECONDS[unit as string] as number);
  })
  .refine((seconds) => seconds <= 365 * 86_400, "at most a year");

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

const WebhookStep = z.object({
  type: z.literal("webhook"),
  url: z.url({ protocol: /^https?$/, error: "an http(s) URL" }),
});

export const WorkflowStep = z.union([WaitForDuration, WaitUntilDate, CallStep, StopIfPaidStep, WebhookStep]);
export type WorkflowStep = z.output<typeof WorkflowStep>;

export const WorkflowDefinition = z.object({ steps: z.array(WorkflowStep).min(1).max(20) });
export type WorkflowDefinition = z.output<typeof WorkflowDefinition>;

/**
 * The workflow a campaign gets when it defines none. Collections (emi/edi): call three days before
 * the instalment is due and again the day after it, unless it has been paid meanwhile. Leads: call
 * at once and again two days later.
 */
export function defaultWorkflow(type: CampaignType): WorkflowDefinition {
  if (type === "lead") {
    return { steps: [{ type: "call" }, { type: "wait", duration: 2 * 86_400 }, { type: "call" }] };
  }
  return {
    steps: [
      { type: "wait", until: { field: "emi_due_date", offsetDays: -3, at: "10:00" } },
      { type: "stop_if_paid" },
      { type: "call" },
      { type: "wait", until: { field: "emi_due_date", offsetDays: 1, at: "11:00" } },
      { type: "stop_if_paid" },
      { type: "call" },
    ],
  };
}

/** The campaign's own workflow, or the default for its type. */
export function workflowOf(campaign: { campaignType: CampaignType; workflow: unknown }): WorkflowDefinition {
  if (campaign.workflow == null) return defaultWorkflow(campaign.campaignType);
  return WorkflowDefinition.parse(campaign.workflow);
}

/** True when some call step names no agent, so the bulk request must supply callConfig. */
export function needsCallConfig(definition: WorkflowDefinition): boolean {
  return definition.steps.some((s) => s.type === "call" && (!s.agentId || !s.dispositionId));
}
