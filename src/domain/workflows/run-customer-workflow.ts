// One customer's run through the campaign's workflow, written against the durable-execution
// primitives (`Steps`): every side effect and every reading of the clock happens inside a named
// step, so a run that is restarted replays the recorded results instead of repeating them — a call
// step dials at most once, a wait keeps its original deadline.

import { loadCallContext } from "../calls/call-context";
import { zonedInstant } from "../calls/calling-window";
import { isPaid } from "../calls/eligibility";
import { type PlaceCallsDeps, placeCalls } from "../calls/place-calls";
import { describeError } from "../errors";
import type { CustomerRunParams, WorkflowDefinition, WorkflowStep } from "../model/workflow";
import type { CallsRepository } from "../ports/calls-repository";
import type { CampaignsRepository } from "../ports/campaigns-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { TenancyRepository } from "../ports/tenancy-repository";
import type { WorkflowRunsRepository } from "../ports/workflow-runs-repository";
import type { Steps } from "../ports/workflows";
import { type HandOffDeps, handOffDeliveriesQuietly } from "../webhooks/hand-off";
import { recordWorkflowStepEvent, type WorkflowStepEventDeps } from "../webhooks/workflow-step-event";
import { workflowOf } from "./definition";

export interface RunCustomerWorkflowDeps extends PlaceCallsDeps, HandOffDeps, WorkflowStepEventDeps {
  campaigns: CampaignsRepository;
  tenancy: TenancyRepository;
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
 * customer had paid (stopped_paid), its data was erased (erased), its campaign was deleted
 * (campaign_deleted) or its import (or initiation, or campaign) was cancelled (cancelled); gone when
 * the import, campaign or customer was missing when it started.
 */
export type RunOutcome = "finished" | "stopped_paid" | "erased" | "campaign_deleted" | "cancelled" | "gone";

type WaitStep = Extract<WorkflowStep, { type: "wait" }>;

/** Longest cause kept in a failed run's reason: the step, the cause and a hint fit, a stack does not. */
const MAX_CAUSE_CHARS = 400;
/**
 * While its import or campaign is paused, a call step looks again this often: the run notices a
 * resume within the hour, with few steps spent on the wait.
 */
const PAUSE_POLL_MS = 60 * 60 * 1000;
/** A week of hourly looks; a run paused longer fails with a reason saying so. */
const MAX_PAUSE_POLLS = 7 * 24;

/** The origin of the call a workflow's step `index` places (one call per step, ever). */
function workflowCallOrigin(index: number): string {
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
      // erasure, a campaign deletion or a cancel of its import ends it here, whichever step comes
      // next and however long the run slept. A durable step, so a replay takes the same decision.
      const stop = await steps.do(`${index}:check`, () => stopReason(deps, plan, importId, customerId));
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
  importId: string,
  customerId: number,
): Promise<Exclude<RunOutcome, "finished" | "gone"> | null> {
  const [[customer], campaign, imp] = await Promise.all([
    deps.customers.findByIds([customerId]),
    deps.campaigns.findCampaignByPk(plan.campaignPk),
    deps.imports.findById(importId),
  ]);
  if (!campaign || campaign.deletedAt !== null) return "campaign_deleted";
  if (!customer || customer.erasedAt !== null) return "erased";
  // A cancelled campaign cancels its imports (src/domain/dialing/control.ts), so the import says it.
  if (imp?.dialingState === "cancelled") return "cancelled";
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
 * Places the step's call through the same dialing rules and dialer as the bulk hand-off. While the
 * call waits for a known moment (the window, a blackout date, a contact limit) the run sleeps until
 * it and tries again; while the import or campaign is paused it looks again every hour (for a week
 * at most); a dialer that asks for a retry makes the step throw, so the Workflows step retry (with
 * backoff) brings it back.
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
  let pausedPolls = 0;
  for (let attempt = 0; attempt < 50; ) {
    // Step names must be unique within the run: a look after a pause gets its own.
    const label = pausedPolls === 0 ? `${index}:call:${attempt}` : `${index}:call:${attempt}:p${pausedPolls}`;
    const result = await steps.do(label, async () => {
      await deps.workflowRuns.update(instanceId, { status: "running", step: index }, deps.clock.now());
      const imp = await deps.imports.findById(params.importId);
      const context = imp ? await loadCallContext(deps, imp) : undefined;
      if (!context) return { delayedUntil: null, status: "campaign_gone", paused: false };
      const placed = await placeCalls(deps, {
        ...context,
        batchNo: plan.batchNo,
        origin: workflowCallOrigin(index),
        agentId: step.agentId ?? plan.agentId,
        dispositionId: step.dispositionId ?? plan.dispositionId,
        customerIds: [params.customerId],
      });
      if (placed.retry) {
        throw new Error(`the dialer did not take the call (${placed.retry.reason}); check that it is up`);
      }
      const call = placed.calls[0];
      return {
        delayedUntil: placed.delayedUntil ?? null,
        status: call?.status ?? "missing",
        paused: call?.status === "delayed" && call.reason === "paused",
      };
    });
    if (result.paused) {
      // Paused: the call keeps its place; look again later, without using up the window's bound.
      if (++pausedPolls > MAX_PAUSE_POLLS) {
        throw new Error("the import or its campaign stayed paused for 7 days; resume it, or cancel it");
      }
      const lookAgain = await steps.do(`${label}:paused:until`, async () => deps.clock.now() + PAUSE_POLL_MS);
      await steps.sleepUntil(`${label}:paused`, lookAgain);
      continue;
    }
    if (result.delayedUntil === null) return;
    // The moment is always ahead of the moment the step read the clock; a replay after it passed
    // returns at once and tries the call again.
    await steps.sleepUntil(`${label}:window`, result.delayedUntil);
    attempt++;
  }
  throw new Error(
    "the calling window was still closed after 50 openings in a row; check the campaign's callingWindow and timezone",
  );
}
