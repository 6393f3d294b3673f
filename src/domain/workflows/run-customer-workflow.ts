// One customer's run through the campaign's workflow, written against the durable-execution
// primitives (`Steps`): every side effect and every reading of the clock happens inside a named
// step, so a run that is restarted replays the recorded results instead of repeating them — a call
// step dials at most once, a wait keeps its original deadline.

import { zonedInstant } from "../calls/calling-window";
import { isPaid } from "../calls/eligibility";
import { type PlaceCallsDeps, placeCalls } from "../calls/place-calls";
import { describeError } from "../errors";
import type { CustomerRunParams, WorkflowDefinition, WorkflowStep } from "../model/workflow";
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

/**
 * How a run ended: it went through every step (finished), or it stopped before a step because the
 * customer had paid (stopped_paid), its data was erased (erased) or its campaign was deleted
 * (campaign_deleted); gone when the import, campaign or customer was missing when it started.
 */
export type RunOutcome = "finished" | "stopped_paid" | "erased" | "campaign_deleted" | "gone";

type WaitStep = Extract<WorkflowStep, { type: "wait" }>;

/** Longest cause kept in a failed run's reason: the step, the cause and a hint fit, a stack does not. */
const MAX_CAUSE_CHARS = 400;

/** The origin of the call a workflow's step `index` places (one call per step, ever). */
export function workflowCallOrigin(index: number): string {
  return `workflow:${index}`;
}

/**
 * Walks one customer through the campaign's workflow. Resolves with how the run ended; throws when a
 * step failed for good, after recording the reason on the run's row ("step <index> (<type>): <cause>",
 * at most 430 characters), which GET /api/v1/imports/{id} groups under `workflows.errors`.
 *
 * A wait never ends the run: a moment that has already passed, or a date the customer does not have,
 * lets the run continue at once (to the next step; a call step still waits for the calling window).
 * Whether to wait is decided inside the deadline's step, so a replay takes the same path.
 */
export async function runCustomerWorkflow(
  deps: RunCustomerWorkflowDeps,
  steps: Steps,
  instanceId: string,
  params: CustomerRunParams,
): Promise<{ outcome: RunOutcome }> {
  const { importId, customerId } = params;
  // What the run was doing, for the reason recorded when it fails.
  let doing = "loading the run";
  try {
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
        await deps.workflowRuns.update(
          instanceId,
          { status: "completed", outcome: "gone" },
          deps.clock.now(),
        );
        await handOffDeliveriesQuietly(deps);
      });
      return { outcome: "gone" };
    }

    for (const [index, step] of plan.definition.steps.entries()) {
      const label = `${index}:${step.type}`;
      doing = `step ${index} (${step.type})`;
      // Every step starts by asking whether the run must end: a payment recorded by an update, an
      // erasure or a campaign deletion ends it here, whichever step comes next. A durable step, so
      // a replay takes the same decision.
      const stop = await steps.do(`${index}:check`, () => stopReason(deps, plan, customerId));
      if (stop) {
        await finish(deps, steps, instanceId, stop);
        return { outcome: stop };
      }
      switch (step.type) {
        case "wait": {
          const until = await steps.do(`${label}:deadline`, async () => {
            const now = deps.clock.now();
            await deps.workflowRuns.update(instanceId, { status: "running", step: index }, now);
            const at = waitDeadline(step, plan, now);
            if (at !== null && at > now) return at;
            deps.log("workflow_wait_skipped", {
              instanceId,
              step: index,
              reason: at === null ? "date_missing" : "moment_passed",
              ...(at === null ? {} : { deadline: new Date(at).toISOString() }),
            });
            return null;
          });
          // Older runs recorded 0 for a missing date; sleepUntil returns at once for a passed moment.
          if (until !== null) await steps.sleepUntil(label, until);
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
    doing = "finishing the run";
    await finish(deps, steps, instanceId, "finished");
    return { outcome: "finished" };
  } catch (err) {
    const reason = `${doing}: ${describeError(err, MAX_CAUSE_CHARS)}`;
    await steps.do("failed", async () => {
      await deps.workflowRuns.update(instanceId, { status: "failed", lastError: reason }, deps.clock.now());
      await handOffDeliveriesQuietly(deps);
    });
    throw err;
  }
}

/** Why the run must end before its next step, or null when it goes on. */
async function stopReason(
  deps: RunCustomerWorkflowDeps,
  plan: Plan,
  customerId: number,
): Promise<Exclude<RunOutcome, "finished" | "gone"> | null> {
  const [[customer], campaign] = await Promise.all([
    deps.customers.findByIds([customerId]),
    deps.campaigns.findCampaignByPk(plan.campaignPk),
  ]);
  if (!campaign || campaign.deletedAt !== null) return "campaign_deleted";
  if (!customer || customer.erasedAt !== null) return "erased";
  if (isPaid(customer.paymentStatus)) return "stopped_paid";
  return null;
}

/**
 * When a wait step ends, in unix ms: `now` plus the duration, or the customer's date plus the
 * offset at the local time in the campaign's zone; null when the customer has no such date.
 */
function waitDeadline(step: WaitStep, plan: Plan, now: number): number | null {
  if ("duration" in step) return now + step.duration * 1000;
  const date = plan.dates[step.until.field];
  return date ? zonedInstant(date, step.until.offsetDays, step.until.at, plan.timezone) : null;
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
      if (placed.retry) {
        throw new Error(`the dialer did not take the call (${placed.retry.reason}); check that it is up`);
      }
      return { delayedUntil: placed.delayedUntil ?? null, status: placed.calls[0]?.status ?? "missing" };
    });
    if (result.delayedUntil === null) return;
    // The opening is always ahead of the moment the step read the clock; a replay after it passed
    // returns at once and tries the call again.
    await steps.sleepUntil(`${label}:window`, result.delayedUntil);
  }
  throw new Error(
    "the calling window was still closed after 50 openings in a row; check the campaign's callingWindow and timezone",
  );
}
