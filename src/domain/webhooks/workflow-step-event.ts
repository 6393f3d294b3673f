// A campaign workflow's `webhook` step: one `workflow.step` delivery to the webhook the step names,
// sent, signed and retried like every other event. The step only records the delivery (and hands it
// to the queue); a slow or failing receiver never holds the run up.

import { sha256Hex } from "../auth";
import type { StoredCustomer } from "../model/customer";
import { WORKFLOW_STEP_EVENT } from "../model/webhook";
import type { Clock } from "../ports/clock";
import type { WebhookDeliveriesRepository, WebhooksRepository } from "../ports/webhooks-repository";

export interface WorkflowStepEventDeps {
  webhooks: WebhooksRepository;
  webhookDeliveries: WebhookDeliveriesRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface WorkflowStepEventInput {
  organizationId: string;
  /**
   * The step's webhook. `url` is the shape of steps recorded before webhooks were registered per
   * organization (a run that started then replays its old plan): the organization's webhook with
   * that URL, which migration 0005 created, receives it.
   */
  target: { webhookId: string } | { url: string };
  instanceId: string;
  importId: string;
  campaignId: string | null;
  step: number;
  customer: StoredCustomer | undefined;
}

/**
 * Records the step's delivery. Its id is derived from the run, the step and the webhook, so a step
 * replayed after a crash finds the delivery it made instead of making a second one. "no_webhook"
 * when the named webhook has been deleted since the campaign was created: the step is skipped.
 */
export async function recordWorkflowStepEvent(
  deps: WorkflowStepEventDeps,
  input: WorkflowStepEventInput,
): Promise<"recorded" | "already_recorded" | "no_webhook"> {
  const webhook =
    "webhookId" in input.target
      ? await deps.webhooks.find(input.organizationId, input.target.webhookId)
      : await deps.webhooks.findByUrl(input.organizationId, input.target.url);
  if (!webhook) {
    deps.log("workflow_webhook_missing", {
      instanceId: input.instanceId,
      step: input.step,
      ...input.target,
    });
    return "no_webhook";
  }
  const now = deps.clock.now();
  const c = input.customer;
  const payload = {
    type: WORKFLOW_STEP_EVENT,
    timestamp: new Date(now).toISOString(),
    data: {
      instanceId: input.instanceId,
      step: input.step,
      importId: input.importId,
      campaignId: input.campaignId,
      customerId: c?.id ?? null,
      loan_id: c?.loanId ?? null,
      lead_id: c?.leadId ?? null,
      phone_number: c?.phoneNumber ?? null,
      payment_status: c?.paymentStatus ?? null,
    },
  };
  const digest = await sha256Hex(`${WORKFLOW_STEP_EVENT}:${input.instanceId}:${input.step}:${webhook.pk}`);
  const inserted = await deps.webhookDeliveries.insert({
    id: `msg_${digest.slice(0, 24)}`,
    webhookPk: webhook.pk,
    eventType: WORKFLOW_STEP_EVENT,
    payload: JSON.stringify(payload),
    at: now,
  });
  return inserted ? "recorded" : "already_recorded";
}
