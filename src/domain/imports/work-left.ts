// When an import has nothing left to do, for its progress (`finished`) and for pause / resume /
// cancel (409 on a finished import): one rule, read the same way by both.
import type { OutboxBatch } from "../model/outbox";

export interface WorkFacts {
  /** The import's outbox batches. */
  batches: readonly Pick<OutboxBatch, "kind" | "state" | "size">[];
  /** Call rows the consumer made for the import's call batches (one per customer, whatever its retries). */
  callRows: number;
  /** Some call of the import is still queued, delayed, being dialled or dispatched without an outcome. */
  unfinishedCalls: boolean;
  /** Some workflow run of the import is not completed or failed yet. */
  runsLeft: boolean;
}

/**
 * True while the import still has work: a call or run that is not final, a customer of a call
 * batch the consumer has not reached (no call row yet), or a workflow batch not consumed. A call
 * batch whose customers all have final calls is finished even while its message still waits on
 * the queue (a batch delayed to the calling window whose calls a payment, an erasure or a cancel
 * stopped meanwhile): that message will find nothing to do.
 */
export function hasWorkLeft(facts: WorkFacts): boolean {
  if (facts.unfinishedCalls || facts.runsLeft) return true;
  let callCustomers = 0;
  for (const b of facts.batches) {
    if (b.state === "failed") continue;
    if (b.kind === "call") callCustomers += b.size;
    else if (b.state !== "done") return true;
  }
  return callCustomers > facts.callRows;
}
