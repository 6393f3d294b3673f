// What the WORKFLOWS consumer does with one message: one durable run per customer of the outbox
// batch. Run rows are written first and instance ids are derived from import and customer, so a
// redelivered message, or one whose consumer died half-way, starts only the runs still missing.

import type { MessageVerdict } from "../calls/dispatch-call-batch";
import type { DispatchMessage } from "../model/outbox";
import type { Clock } from "../ports/clock";
import type { OutboxRepository } from "../ports/outbox-repository";
import type { WorkflowRunsRepository } from "../ports/workflow-runs-repository";
import type { WorkflowLauncher } from "../ports/workflows";

/** Instances per Workflows createBatch call: the platform's limit. */
const CREATE_BATCH_MAX = 100;

export interface StartWorkflowBatchDeps {
  outbox: OutboxRepository;
  workflowRuns: WorkflowRunsRepository;
  workflowLauncher: WorkflowLauncher;
  clock: Clock;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export async function startWorkflowBatch(
  deps: StartWorkflowBatchDeps,
  message: DispatchMessage,
): Promise<MessageVerdict> {
  const { importId, batchNo } = message;
  const batch = await deps.outbox.find(importId, "workflow", batchNo);
  if (!batch) {
    deps.log("workflow_batch_unknown", { importId, batchNo });
    return { kind: "ack", note: "unknown_batch" };
  }
  if (batch.state === "done" || batch.state === "failed") return { kind: "ack", note: "already_finished" };

  const now = deps.clock.now();
  await deps.outbox.markProcessing(batch.id, now);
  const runs = await deps.workflowRuns.ensureRuns(importId, batchNo, batch.customerIds, now);
  const toStart = runs.filter((r) => r.status === "queued");

  let started = 0;
  const failures: string[] = [];
  for (let i = 0; i < toStart.length; i += CREATE_BATCH_MAX) {
    const group = toStart.slice(i, i + CREATE_BATCH_MAX);
    const result = await deps.workflowLauncher.start(
      group.map((r) => ({ id: r.instanceId, params: { importId, customerId: r.customerId } })),
    );
    await deps.workflowRuns.markStarted(result.started, deps.clock.now());
    started += result.started.length;
    for (const f of result.failed) failures.push(`${f.id}: ${f.message}`);
  }
  deps.log("workflow_batch_processed", {
    importId,
    batchNo,
    started,
    alreadyStarted: runs.length - toStart.length,
    failed: failures.length,
  });

  if (failures.length > 0) {
    const reason = `${failures.length} workflow run(s) could not be started: ${failures.slice(0, 3).join("; ")}`;
    await deps.outbox.recordError(batch.id, reason, deps.clock.now());
    return { kind: "retry", reason };
  }
  await deps.outbox.markDone(batch.id, deps.clock.now());
  return { kind: "ack", note: "done" };
}
