// The Workflows entry point: one instance per customer added with useWorkflow. It only adapts the
// platform's step object to the domain's `Steps` port; the run itself is runCustomerWorkflow.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { createDeps } from "../deps";
import type { CustomerRunParams } from "../domain/model/workflow";
import type { Steps } from "../domain/ports/workflows";
import { runCustomerWorkflow } from "../domain/workflows/run-customer-workflow";
import type { AppEnv } from "../env";

/** Each step is retried with backoff before the run fails (~8 minutes of retries in all). */
const STEP_CONFIG = {
  retries: { limit: 5, delay: "15 seconds", backoff: "exponential" },
  timeout: "2 minutes",
} as const;

/**
 * The domain's `Steps` over the platform's step object.
 *
 * `sleepUntil` never hands the platform a moment that has passed: its own `step.sleepUntil` throws
 * ("You can't sleep until a time in the past") and so fails the run. That happens to any run
 * replayed after its deadline — the engine re-runs `run()` from the top when it wakes an evicted
 * instance, and the recorded deadline is then behind the clock. So a passed moment returns at once,
 * and a future one becomes `step.sleep` for the time left, measured on the platform's clock (the
 * same one it checks against): a duration has no "past" for the platform to refuse, even when a
 * few milliseconds pass between this check and the engine's.
 */
export function platformSteps(step: Pick<WorkflowStep, "do" | "sleep">, now: () => number = Date.now): Steps {
  return {
    // The domain's step results are plain JSON data, which the platform stores as they are.
    do: <T>(name: string, fn: () => Promise<T>) =>
      step.do(name, STEP_CONFIG, fn as () => Promise<never>) as Promise<T>,
    sleepUntil: async (name, at) => {
      const left = at - now();
      if (left > 0) await step.sleep(name, left);
    },
  };
}

export class CustomerWorkflow extends WorkflowEntrypoint<AppEnv, CustomerRunParams> {
  override async run(event: Readonly<WorkflowEvent<CustomerRunParams>>, step: WorkflowStep) {
    return runCustomerWorkflow(createDeps(this.env), platformSteps(step), event.instanceId, event.payload);
  }
}
