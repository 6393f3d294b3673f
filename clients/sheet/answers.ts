// What the bulk endpoint answers (api-contract, "Response body"), as far as the importer reads it,
// and the bookkeeping of a whole import: which rows were added, which were refused and why, which
// parts failed or were never sent. Every data row of the file ends up in exactly one of: added
// (with or without update), rejected (rejects file), or not loaded because its request failed or
// was never sent (also in the rejects file, with the reason).
import type { Part } from "./parts";
import type { RowProblem } from "./records";

export interface ApiFieldError {
  field: string;
  message: string;
}

export interface ApiRecordError {
  index: number;
  key?: string;
  code: string;
  message: string;
  fields?: ApiFieldError[];
}

export interface BulkAnswer {
  success: boolean;
  message: string;
  results: {
    total: number;
    valid: number;
    invalid: number;
    successful: number;
    failed: number;
    batchesProcessed: number;
    errors: ApiRecordError[];
    /** With onExisting "update": new, refreshed and already-equal customers. */
    added?: number;
    updated?: number;
    unchanged?: number;
  };
  callResults?: { requested: number; queued: number; batches: number; failed: number };
  workflowTriggered?: boolean;
  /** Only in the answer to `dryRun: true` with initiateCall: the calls the request would place. */
  preview?: DryRunPreview;
  importId: string;
}

/** What a dry run with initiateCall says about the calls (api-contract, `dryRun`). */
export interface DryRunPreview {
  wouldCall: number;
  /** Customers that would get no call, by reason (`paid`, `suppressed`, …). */
  skipped: Record<string, number>;
  /** When the first call would be placed (ISO 8601); null when none would be. */
  firstCallAt: string | null;
}

/** Codes of rows the importer itself could not load; the API's own codes pass through as they are. */
export type ImporterRejectCode =
  | RowProblem["code"]
  | "row_too_large"
  /** The part's request failed (after retries); the server may hold some of its rows. */
  | "request_failed"
  /** The import stopped before this part was sent. */
  | "not_sent";

export interface Reject {
  rowNumber: number;
  code: string;
  /** The field(s) at fault, comma separated; "" when the row as a whole was refused. */
  field: string;
  message: string;
}

export type PartState = "added" | "replayed" | "failed" | "not_sent";

export interface PartReport {
  number: number;
  rows: number;
  firstRow: number;
  lastRow: number;
  state: PartState;
  status?: number;
  importId?: string;
  added: number;
  rejected: number;
  error?: string;
}

export interface ImportSummary {
  /** Data rows of the file (blank rows not included). */
  rowsRead: number;
  blankRows: number;
  /** Rows the API stored (for onExisting "update": added + updated + unchanged). */
  added: number;
  /** Of `added`, rows stored by an earlier run of the same file (their parts were replayed). */
  addedEarlier: number;
  updated?: number;
  unchanged?: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  parts: PartReport[];
  /** Calls handed to the call queue, when initiateCall was sent. */
  calls?: { requested: number; queued: number; failed: number };
  workflowTriggered?: boolean;
}

/**
 * Collects the outcome of every part and of the rows refused before sending. `rowsRead` is every
 * data row; rows not covered by an answer, a problem or a failed part cannot exist (see check()).
 */
export class ImportTally {
  private readonly rejects: Reject[] = [];
  private readonly partReports: PartReport[] = [];
  private added = 0;
  private addedEarlier = 0;
  private updated: number | undefined;
  private unchanged: number | undefined;
  private calls: ImportSummary["calls"];
  private workflowTriggered: boolean | undefined;

  constructor(
    private readonly rowsRead: number,
    private readonly blankRows: number,
    /** The campaign's key field (loan_id or lead_id), named in duplicate rejects. */
    private readonly keyField: string,
    /** How the program resumes an import, as a verb phrase for the rejects messages. */
    private readonly again = "run the same command again",
  ) {}

  /** A row refused before sending. */
  rowProblem(rowNumber: number, code: string, message: string, field = ""): void {
    this.rejects.push({ rowNumber, code, field, message });
  }

  /** A part the API answered (201, 207, or 400 with results). */
  answered(part: Part, answer: BulkAnswer, replayed: boolean, status: number): void {
    const { results } = answer;
    let rejected = 0;
    for (const error of results.errors) {
      const rowNumber = part.rows[error.index];
      if (rowNumber === undefined) continue;
      rejected++;
      this.rejects.push(rejectOf(rowNumber, error, this.keyField));
    }
    this.added += results.successful;
    if (replayed) this.addedEarlier += results.successful;
    if (results.updated !== undefined) this.updated = (this.updated ?? 0) + results.updated;
    if (results.unchanged !== undefined) this.unchanged = (this.unchanged ?? 0) + results.unchanged;
    if (answer.callResults) {
      const calls = this.calls ?? { requested: 0, queued: 0, failed: 0 };
      calls.requested += answer.callResults.requested;
      calls.queued += answer.callResults.queued;
      calls.failed += answer.callResults.failed;
      this.calls = calls;
    }
    if (answer.workflowTriggered !== undefined) {
      this.workflowTriggered = (this.workflowTriggered ?? true) && answer.workflowTriggered;
    }
    this.partReports.push({
      ...partRange(part),
      state: replayed ? "replayed" : "added",
      status,
      importId: answer.importId,
      added: results.successful,
      rejected,
    });
  }

  /**
   * A part whose request failed for good: each of its rows is reported with the reason.
   * `maybeStored`: the API may hold some of its rows (a 5xx or a lost connection mid-request).
   */
  failed(part: Part, error: string, status?: number, maybeStored = true): void {
    const message = maybeStored
      ? `Part ${part.number} failed: ${error} Some rows of this part may be stored: ${this.again} to finish it (a stored row is never added twice).`
      : `Part ${part.number} was refused: ${error} None of its rows was stored.`;
    for (const rowNumber of part.rows)
      this.rejects.push({ rowNumber, code: "request_failed", field: "", message });
    this.partReports.push({
      ...partRange(part),
      state: "failed",
      status,
      added: 0,
      rejected: part.rows.length,
      error,
    });
  }

  /** A part never sent because the import stopped first. */
  notSent(part: Part, reason: string): void {
    for (const rowNumber of part.rows) {
      this.rejects.push({
        rowNumber,
        code: "not_sent",
        field: "",
        message: `Not sent: ${reason} ${this.again.charAt(0).toUpperCase()}${this.again.slice(1)} to load it.`,
      });
    }
    this.partReports.push({ ...partRange(part), state: "not_sent", added: 0, rejected: part.rows.length });
  }

  /** Rejects in file order. */
  rejectList(): Reject[] {
    return [...this.rejects].sort((a, b) => a.rowNumber - b.rowNumber);
  }

  summary(): ImportSummary {
    const rejectedByCode: Record<string, number> = {};
    for (const reject of this.rejects) rejectedByCode[reject.code] = (rejectedByCode[reject.code] ?? 0) + 1;
    return {
      rowsRead: this.rowsRead,
      blankRows: this.blankRows,
      added: this.added,
      addedEarlier: this.addedEarlier,
      ...(this.updated !== undefined ? { updated: this.updated } : {}),
      ...(this.unchanged !== undefined ? { unchanged: this.unchanged } : {}),
      rejected: this.rejects.length,
      rejectedByCode,
      parts: [...this.partReports].sort((a, b) => a.number - b.number),
      ...(this.calls ? { calls: this.calls } : {}),
      ...(this.workflowTriggered !== undefined ? { workflowTriggered: this.workflowTriggered } : {}),
    };
  }
}

function partRange(part: Part) {
  return {
    number: part.number,
    rows: part.rows.length,
    firstRow: part.rows[0] ?? 0,
    lastRow: part.rows[part.rows.length - 1] ?? 0,
  };
}

/** One API record error as a rejects row: the fields at fault, and each one's message. */
function rejectOf(rowNumber: number, error: ApiRecordError, keyField: string): Reject {
  if (error.fields && error.fields.length > 0) {
    // The API lists at most 10 fields and says how many more there were.
    const more = /and (\d+) more$/.exec(error.message);
    return {
      rowNumber,
      code: error.code,
      field: error.fields.map((f) => f.field).join(", "),
      message:
        error.fields.map((f) => `${f.field}: ${f.message}`).join("; ") +
        (more ? `; and ${more[1]} more fields` : ""),
    };
  }
  const field = error.code === "duplicate_in_request" || error.code === "duplicate_existing" ? keyField : "";
  return { rowNumber, code: error.code, field, message: error.message };
}
