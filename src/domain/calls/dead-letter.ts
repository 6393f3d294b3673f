// The dead-letter consumer's job: a message whose retries ran out marks its outbox batch failed
// with the last error recorded for it, and fails every call of the batch that was still waiting (or
// every workflow run never started), so the import's progress accounts for every customer.

import type { DispatchMessage, DueCallsMessage } from "../model/outbox";
import type { CallsRepository } from "../ports/calls-repository";
import type { Clock } from "../ports/clock";
import type { CustomersRepository } from "../ports/customers-repository";
import type { ImportsRepository } from "../ports/imports-repository";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { WorkflowRunsRepository } from "../ports/workflow-runs-repository";
import { BULK_ORIGIN } from "./dispatch-call-batch";
import { CLAIM_LEASE_MS } from "./place-calls";

export interface DeadLetterDeps {
  calls: CallsRepository;
  imports: ImportsRepository;
  outbox: OutboxRepository;
  customers: CustomersRepository;
  workflowRuns: WorkflowRunsRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export async function markDeadLettered(deps: DeadLetterDeps, message: DispatchMessage): Promise<void> {
  const { importId, kind, batchNo } = message;
  const batch = await deps.outbox.find(importId, kind, batchNo);
  if (!batch) {
    deps.log("dead_letter_unknown_batch", { importId, kind, batchNo });
    return;
  }
  if (batch.state === "done" || batch.state === "failed") return;
  const now = deps.clock.now();
  const reason = `dead_lettered: ${batch.lastError ?? "the consumer failed on every delivery"}`;

  if (kind === "call") {
    const imp = await deps.imports.findById(importId);
    if (imp) {
      // Rows the consumer never got to create are created first (a no-op for the others), so that
      // every customer of the batch ends up failed with the reason.
      const customers = await deps.customers.findByIds(batch.customerIds);
      await deps.calls.ensureCalls({
        organizationId: imp.organizationId,
        campaignPk: imp.campaignPk,
        importId,
        batchNo,
        origin: BULK_ORIGIN,
        agentId: imp.agentId,
        dispositionId: imp.dispositionId,
        customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber, loanId: c.loanId })),
        at: now,
      });
      await deps.calls.failOutstanding(importId, batchNo, BULK_ORIGIN, reason, now);
    }
  } else {
    // Likewise every run of the batch gets a row, and the ones never started are failed.
    await deps.workflowRuns.ensureRuns(importId, batchNo, batch.customerIds, now);
    await deps.workflowRuns.failNeverStarted(importId, batchNo, reason, now);
  }
  await deps.outbox.markFailed(batch.id, reason, now);
  deps.log("dispatch_batch_dead_lettered", { importId, kind, batchNo, reason });
}

/**
 * A waiting-calls message whose retries ran out (the dialer stayed unavailable): the calls it names
 * that are still waiting fail, so they do not wait for ever.
 */
export async function markDueCallsDeadLettered(
  deps: DeadLetterDeps,
  message: DueCallsMessage,
): Promise<void> {
  const now = deps.clock.now();
  const failed = await deps.calls.failWaiting(
    message.callIds,
    "dead_lettered: the calls could not be handed to the dialer on any delivery",
    now,
    now - CLAIM_LEASE_MS,
  );
  deps.log("due_calls_dead_lettered", { importId: message.importId, calls: message.callIds.length, failed });
}
