import type { CustomerRunParams } from "../domain/model/workflow";
import type { WorkflowLauncher } from "../domain/ports/workflows";

/** The launcher over the Workflows binding: ids that already exist are a redelivery, not an error. */
export function createWorkflowLauncher(binding: Workflow<CustomerRunParams>): WorkflowLauncher {
  return {
    async start(instances: { id: string; params: CustomerRunParams }[]) {
      const { created, errors } = await binding.createBatch({ instances });
      const started = created.map((i) => i.id);
      const failed: { id: string; message: string }[] = [];
      for (const e of errors) {
        const id = e.id ?? instances[e.index]?.id ?? `#${e.index}`;
        if (ALREADY_EXISTS.test(e.message)) started.push(id);
        else failed.push({ id, message: `${e.code}: ${e.message}` });
      }
      return { started, failed };
    },
  };
}

// Workflows answers an existing id with code 10405 ("workflows.api.error.instance.already_exists").
const ALREADY_EXISTS = /already[ _.]exists/i;
