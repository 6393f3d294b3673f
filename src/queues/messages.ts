// Queue message contracts. A message carries a reference to an outbox row, never customer records:
// a message is limited to 128 KB and 500 full records do not fit.
import { z } from "zod";

export const DispatchMessage = z.object({
  kind: z.enum(["call", "workflow"]),
  importId: z.string().min(1),
  batchNo: z.number().int().min(0),
});
export type DispatchMessage = z.infer<typeof DispatchMessage>;
