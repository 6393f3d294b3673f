// The dead-letter consumer's job: a message whose retries ran out marks its outbox batch failed
// with the last error recorded for it, and fails every call of the batch that was still waiting (or
// every workflow run never started), so the import's progress accounts for every customer.
import type { CallsRepository } from "../../db/calls-repository";
import type { CustomersRepository } from "../../db/customers-repository";
import type { WorkflowRunsRepository } from "../../db/workflow-runs-repository";
import type { DispatchMessage } from "../../queues/messages";
import type { Clock } from "../ports";
import { BULK_ORIGIN } from "./dispatch-call-batch";

export interface DeadLetterDeps {
  calls: CallsRepository;
  customers: CustomersRepository;
  workflowRuns: WorkflowRunsRepository;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export async function markDeadLettered(deps: DeadLetterDeps, message: DispatchMessage): Promise<void> {
  const { importId, kind, batchNo } = message;
  const batch = await deps.calls.batches.find(importId, kind, batchNo);
  if (!batch) {
    deps.log("dead_letter_unknown_batch", { importId, kind, batchNo });
    return;
  }
  if (batch.state === "done" || batch.state === "failed") return;
  const now = deps.clock.now();
  const reason = `dead_lettered: ${batch.lastError ?? "the consumer failed on every delivery"}`;

  if (kind === "call") {
    const imp = await deps.calls.findImport(importId);
    if (imp) {
      // Rows the consumer never got to create are created first (a no-op for the others), so that
      // every customer of the batch ends up failed with the reason.
      const customers = await deps.customers.findByIds(JSON.parse(batch.customerIds) as number[]);
      await deps.calls.ensureCalls({
        organizationId: imp.organizationId,
        campaignPk: imp.campaignPk,
        importId,
        batchNo,
        origin: BULK_ORIGIN,
        customers: customers.map((c) => ({ id: c.id, phoneNumber: c.phoneNumber })),
        at: now,
      });
      await deps.calls.failOutstanding(importId, batchNo, BULK_ORIGIN, reason, now);
    }
  } else {
    // Likewise every run of the batch gets a row, and the ones never started are failed.
    await deps.workflowRuns.ensureRuns(importId, batchNo, JSON.parse(batch.customerIds) as number[], now);
    await deps.workflowRuns.failNeverStarted(importId, batchNo, reason, now);
  }
  await deps.calls.batches.markFailed(batch.id, reason, now);
  deps.log("dispatch_batch_dead_lettered", { importId, kind, batchNo, reason });
}
