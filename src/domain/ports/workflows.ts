// What a workflow run needs from the outside world.
import type { CustomerRunParams } from "../model/workflow";

/** Creates Workflows instances. Ids that already exist count as started: it was a redelivery. */
export interface WorkflowLauncher {
  start(
    instances: { id: string; params: CustomerRunParams }[],
  ): Promise<{ started: string[]; failed: { id: string; message: string }[] }>;
}

/**
 * The durable-execution primitives a run is written against: each `do` runs once and its result is
 * replayed after a restart; `sleepUntil` survives restarts. The Workflows step object provides them.
 */
export interface Steps {
  do<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Resumes the run at `at` (unix ms). The run only asks for moments that were ahead when a step
   * decided them; a run replayed after a restart asks again for the recorded moment, which may have
   * passed meanwhile: then it returns at once (never an error), so a replay ends where the first
   * execution would have.
   */
  sleepUntil(name: string, at: number): Promise<void>;
}
