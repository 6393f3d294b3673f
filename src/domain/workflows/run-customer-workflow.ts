// One customer's run through the campaign's workflow, written against the durable-execution
// primitives (`Steps`): every side effect and every reading of the clock happens inside a named
// step, so a run that is restarted replays the recorded results instead of repeating them — a call
// step dials at most once, a wait keeps its original deadline.

import { zonedInstant } from "../calls/calling-window";
import { isPaid } from "../calls/eligibility";
import { type PlaceCallsDeps, placeCalls } from "../calls/place-calls";
import { describeError } from "../errors";
import type { CustomerRunParams, WorkflowDefinition } from "../model/workflow";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { WorkflowRunsRepository } from "../ports/workflow-runs-repository";
import type { Steps } from "../ports/workflows";
import { type HandOffDeps, handOffDeliveriesQuietly } from "../webhooks/hand-off";
import { recordWorkflowStepEvent, type WorkflowStepEventDeps } from "../webhooks/workflow-step-event";
import { workflowOf } from "./definition";

export interface RunCustomerWorkflowDeps extends PlaceCallsDeps, HandOffDeps, WorkflowStepEventDeps {
  campaigns: CampaignsRepository;
  calls: CallsRepository;
  imports: ImportsRepository;
  workflowRuns: WorkflowRunsRepository;
}

interface Plan {
  organizationId: string;
  campaignPk: number;
  batchNo: number;
  timezone: string;
  definition: WorkflowDefinition;
  agentId: string | null;
  dispositionId: string | null;
  dates: { emi_due_date: string | null; lead_date: string | null };
}

export type RunOutcome = "finished" | "stopped_paid" | "gone";

/** The origin of the call a workflow's step `index` places (one call per step, ever). */
export function workflowCallOrigin(index: number): string {
  return `workflow:${index}`;
}

export async function runCustomerWorkflow(
  deps: RunCustomerWorkflowDeps,
  steps: Steps,
  instanceId: string,
  params: CustomerRunParams,
): Promise<{ outcome: RunOutcome }> {
  const { importId, customerId } = params;
  const plan = await steps.do("load", async (): Promise<Plan | null> => {
    const [imp, run, customer] = await Promise.all([
      deps.imports.findById(importId),
      deps.workflowRuns.find(instanceId),
      deps.customers.findByIds([customerId]).then((rows) => rows[0]),
    ]);
    const campaign = imp ? await deps.campaigns.findCampaignByPk(imp.campaignPk) : undefined;
    if (!imp || !campaign || !customer || !run) return null;
    await deps.workflowRuns.update(instanceId, { status: "running", step: 0 }, deps.clock.now());
    return {
      organizationId: imp.organizationId,
      campaignPk: campaign.pk,
      batchNo: run.batchNo,
      timezone: campaign.timezone,
      definition: workflowOf(campaign),
      agentId: imp.agentId,
      dispositionId: imp.dispositionId,
      dates: { emi_due_date: customer.emiDueDate, lead_date: customer.leadDate },
    };
  });
  if (!plan) {
    // Nothing to work on (the import, campaign or customer is gone): end quietly, recorded.
    await steps.do("gone", async () => {
      await deps.workflowRuns.update(instanceId, { status: "completed", outcome: "gone" }, deps.clock.now());
      await handOffDeliveriesQuietly(deps);
    });
    return { outcome: "gone" };
  }

  try {
    for (const [index, step] of plan.definition.steps.entries()) {
      const label = `${index}:${step.type}`;
      switch (step.type) {
        case "wait": {
          const until = await steps.do(`${label}:deadline`, async () => {
            await deps.workflowRuns.update(instanceId, { status: "running", step: index }, deps.clock.now());
            if ("duration" in step) return deps.clock.now() + step.duration * 1000;
            const date = plan.dates[step.until.field];
            // A customer without that date has nothing to wait for.
            return date ? zonedInstant(date, step.until.offsetDays, step.until.at, plan.timezone) : 0;
          });
          await steps.sleepUntil(label, until);
          break;
        }
        case "stop_if_paid": {
          const paid = await steps.do(label, async () => {
            const [customer] = await deps.customers.findByIds([customerId]);
            return customer ? isPaid(customer.paymentStatus) : false;
          });
          if (paid) {
            await finish(deps, steps, instanceId, "stopped_paid");
            return { outcome: "stopped_paid" };
          }
          break;
        }
        case "call":
          await callStep(deps, steps, instanceId, params, plan, index, step);
          break;
        case "webhook":
          // Records the event and hands it to the queue: the receiver's answer never holds the run up.
          await steps.do(label, async () => {
            await deps.workflowRuns.update(instanceId, { status: "running", step: index }, deps.clock.now());
            const [[customer], campaign] = await Promise.all([
              deps.customers.findByIds([customerId]),
              deps.campaigns.findCampaignByPk(plan.campaignPk),
            ]);
            await recordWorkflowStepEvent(deps, {
              organizationId: plan.organizationId,
              target: webhookTarget(step),
              instanceId,
              importId,
              campaignId: campaign?.id ?? null,
              step: index,
              customer,
            });
            await handOffDeliveriesQuietly(deps);
          });
          break;
      }
    }
  } catch (err) {
    const message = describeError(err);
    await steps.do("failed", async () => {
      await deps.workflowRuns.update(instanceId, { status: "failed", lastError: message }, deps.clock.now());
      await handOffDeliveriesQuietly(deps);
    });
    throw err;
  }
  await finish(deps, steps, instanceId, "finished");
  return { outcome: "finished" };
}

async function finish(deps: RunCustomerWorkflowDeps, steps: Steps, instanceId: string, outcome: RunOutcome) {
  await steps.do("finish", async () => {
    await deps.workflowRuns.update(instanceId, { status: "completed", outcome }, deps.clock.now());
    await handOffDeliveriesQuietly(deps);
  });
}

/**
 * The webhook a step names. A run that started before migration 0005 replays the plan it loaded
 * then, whose webhook steps still name a URL.
 */
function webhookTarget(step: { webhookId?: string; url?: string }): { webhookId: string } | { url: string } {
  if (step.webhookId !== undefined) return { webhookId: step.webhookId };
  return { url: step.url ?? "" };
}

/**
 * Places the step's call through the same eligibility rules, calling window and dialer as the bulk
 * hand-off. Outside the window the run sleeps until it opens and tries again; a dialer that asks
 * for a retry makes the step throw, so the Workflows step retry (with backoff) brings it back.
 */
async function callStep(
  deps: RunCustomerWorkflowDeps,
  steps: Steps,
  instanceId: string,
  params: CustomerRunParams,
  plan: Plan,
  index: number,
  step: { agentId?: string; dispositionId?: string },
): Promise<void> {
  // A week of closed windows is at most a handful of openings; the bound only stops a runaway loop.
  for (let attempt = 0; attempt < 50; attempt++) {
    const label = `${index}:call:${attempt}`;
    const result = await steps.do(label, async () => {
      await deps.workflowRuns.update(instanceId, { status: "running", step: index }, deps.clock.now());
      const campaign = await deps.campaigns.findCampaignByPk(plan.campaignPk);
      if (!campaign) return { delayedUntil: null, status: "campaign_gone" };
      const placed = await placeCalls(deps, {
        organizationId: plan.organizationId,
        campaign,
        importId: params.importId,
        batchNo: plan.batchNo,
        origin: workflowCallOrigin(index),
        agentId: step.agentId ?? plan.agentId,
        dispositionId: step.dispositionId ?? plan.dispositionId,
        customerIds: [params.customerId],
      });
      if (placed.retry) throw new Error(`dialer asked to retry: ${placed.retry.reason}`);
      return { delayedUntil: placed.delayedUntil ?? null, status: placed.calls[0]?.status ?? "missing" };
    });
    if (result.delayedUntil === null) return;
    await steps.sleepUntil(`${label}:window`, result.delayedUntil);
  }
  throw new Error(`call step ${index} found the calling window closed 50 times in a row`);
}
