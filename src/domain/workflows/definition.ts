// What a campaign's workflow means when it defines none, and what a bulk request must bring for it.
// The stored shape (the zod schema) is part of the domain model: src/domain/model/workflow.ts.
import type { CampaignType } from "../model/campaign";
import { WorkflowDefinition } from "../model/workflow";

/**
 * The workflow a campaign gets when it defines none. Collections (emi/edi): call three days before
 * the instalment is due and again the day after it, unless it has been paid meanwhile. Leads: call
 * at once and again two days later.
 */
function defaultWorkflow(type: CampaignType): WorkflowDefinition {
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
