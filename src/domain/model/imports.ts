// Imports: one per request that writes customers or hands them to a queue (a bulk request, a single
// customer, a call initiation), with its counts and the hand-off it asked for.

/**
 * What wrote the import row: the bulk endpoint, the single-customer endpoint, or a call initiation
 * over a campaign's stored customers (which owns outbox batches and calls like a bulk import).
 */
export const IMPORT_KINDS = ["bulk", "single", "initiation"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

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

/** How the successful records of a bulk request with onExisting "update" split. */
export interface RefreshCounts {
  added: number;
  updated: number;
  unchanged: number;
}

export interface Import extends ImportCounts {
  id: string;
  organizationId: string;
  campaignPk: number;
  kind: ImportKind;
  /** Set for a bulk request with onExisting "update"; null otherwise. */
  added: number | null;
  updated: number | null;
  unchanged: number | null;
  /** An initiation: the customers its filters matched; null for other kinds. */
  matched: number | null;
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
