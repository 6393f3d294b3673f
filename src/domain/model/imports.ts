// Imports: one per bulk request, with its counts and the hand-off it asked for.

/** processing while an attempt runs, failed when it died with an error, completed with its answer. */
export const IMPORT_STATES = ["processing", "failed", "completed"] as const;
export type ImportState = (typeof IMPORT_STATES)[number];

/**
 * Whether an import's calls may go to the dialer: `paused` holds them where they are, `cancelled`
 * ended them for good (a cancelled import cannot be resumed).
 */
export const IMPORT_DIALING_STATES = ["active", "paused", "cancelled"] as const;
export type ImportDialingState = (typeof IMPORT_DIALING_STATES)[number];

/** The counts of a bulk request, as its answer and GET /api/v1/imports/{importId} report them. */
export interface ImportCounts {
  total: number;
  valid: number;
  invalid: number;
  successful: number;
  failed: number;
  batchesProcessed: number;
}

export interface Import extends ImportCounts {
  id: string;
  organizationId: string;
  campaignPk: number;
  idempotencyKey: string | null;
  bodyHash: string | null;
  state: ImportState;
  initiateCall: boolean;
  useWorkflow: boolean;
  agentId: string | null;
  dispositionId: string | null;
  /** The HTTP status of the stored answer, once completed. */
  responseStatus: number | null;
  /** Unix ms. */
  createdAt: number;
  /** When the current attempt started (a resumed import keeps its createdAt). */
  startedAt: number | null;
  /** 1 for the first attempt; each retry that takes the import over counts one up. */
  attempt: number;
  /** While processing: until when (unix ms) the running attempt holds the import. */
  leaseExpiresAt: number | null;
  completedAt: number | null;
  dialingState: ImportDialingState;
  /** Unix ms of the pause in force, or null. */
  pausedAt: number | null;
  cancelledAt: number | null;
}
