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

export class CustomerWorkflow extends WorkflowEntrypoint<AppEnv, CustomerRunParams> {
  override async run(event: Readonly<WorkflowEvent<CustomerRunParams>>, step: WorkflowStep) {
    const steps: Steps = {
      // The domain's step results are plain JSON data, which the platform stores as they are.
      do: <T>(name: string, fn: () => Promise<T>) =>
        step.do(name, STEP_CONFIG, fn as () => Promise<never>) as Promise<T>,
      sleepUntil: (name, at) => step.sleepUntil(name, at),
    };
    return runCustomerWorkflow(createDeps(this.env), steps, event.instanceId, event.payload);
  }
}
