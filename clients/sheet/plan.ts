// From a parsed sheet to the requests to send: column roles, one record per row, the rows the
// importer refuses itself, and the parts. Pure and synchronous, so a web console can show the same
// preview before anything is sent.
import type { ImporterRejectCode, Reject } from "./answers";
import { type ColumnMapping, type PlanOptions, planColumns } from "./columns";
import { type NumberedRecord, type Part, splitIntoParts } from "./parts";
import { rowToRecord } from "./records";
import type { Sheet } from "./table";

export interface ImportPlan {
  mapping: ColumnMapping;
  parts: Part[];
  /** Rows refused before sending, with the reason (code is an ImporterRejectCode). */
  refused: Reject[];
  /** Data rows of the sheet (blank rows excluded). */
  rowsRead: number;
  blankRows: number;
}

export interface ImportPlanOptions extends PlanOptions {
  /** Largest request body (bytes); see DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Most records per request (at most, and by default, the API's 10,000). */
  maxRecords?: number;
}

/** @throws SheetInputError for a file that cannot be imported as it is (see planColumns). */
export function planImport(sheet: Sheet, options: ImportPlanOptions): ImportPlan {
  const mapping = planColumns(sheet, options);
  const refused: Reject[] = [];
  const records: NumberedRecord[] = [];
  for (const row of sheet.rows) {
    const result = rowToRecord(row, mapping);
    if (result.ok) records.push({ rowNumber: row.rowNumber, record: result.record });
    else refused.push({ rowNumber: row.rowNumber, field: result.problem.field ?? "", ...result.problem });
  }
  const { parts, tooLarge } = splitIntoParts(records, options);
  const limit = options.maxBodyBytes;
  for (const item of tooLarge) {
    const code: ImporterRejectCode = "row_too_large";
    refused.push({
      rowNumber: item.rowNumber,
      code,
      field: "",
      message: `The row's record is larger than one request may be${limit ? ` (${limit} bytes)` : ""}; shorten its cells.`,
    });
  }
  return { mapping, parts, refused, rowsRead: sheet.rows.length, blankRows: sheet.blankRows };
}
