// The answer of a bulk request, as the API contract documents it.
import type { ImportCounts, RefreshCounts } from "../model/imports";
import type { FieldError } from "../records/record-rules";
import type { DryRunPreview } from "./dry-run";
import type { HandOffResult } from "./hand-off";
import type { ImportOutcome } from "./idempotency";

export type RecordErrorCode =
  | "invalid_record"
  | "duplicate_in_request"
  | "duplicate_existing"
  | "storage_error";

/** One failed record: its 0-based position in `records`, its key when it has one, why. */
export interface RecordError {
  index: number;
  key?: string;
  code: RecordErrorCode;
  message: string;
  /** Only for invalid_record: the fields that broke a rule. */
  fields?: FieldError[];
}

/** With onExisting "update", the split of `successful` (added + updated + unchanged) is added. */
export interface BulkResults extends ImportCounts, Partial<RefreshCounts> {
  errors: RecordError[];
}

export interface BulkResponseBody {
  success: boolean;
  message: string;
  results: BulkResults;
  callResults?: HandOffResult;
  workflowTriggered?: boolean;
  importId: string;
}

/** A dry run's answer: the real one without an import, with the calls' preview (initiateCall). */
export interface DryRunBulkBody extends Omit<BulkResponseBody, "importId"> {
  dryRun: true;
  preview?: DryRunPreview;
}

export type BulkStatus = 201 | 207 | 400;

export type BulkOutcome = ImportOutcome<BulkResponseBody, BulkStatus>;

/** 201 every record added, 207 some, 400 none. */
export function bulkStatus(results: ImportCounts): BulkStatus {
  return results.successful === results.total ? 201 : results.successful > 0 ? 207 : 400;
}
