// A sheet as the importer sees it, whatever the file format: a header row and data rows of text
// cells, each row with its number in the source file (1-based, as a spreadsheet shows it), so that
// a problem can always be traced back to the row the operator sees.
import { SheetInputError } from "./errors";

export interface SheetRow {
  /** 1-based row number in the source file (the header row counts). */
  rowNumber: number;
  /** Cell texts, left to right; a row may be shorter than the header. */
  cells: string[];
}

export interface Sheet {
  /** The header cells as written (a leading BOM already removed). */
  header: string[];
  headerRowNumber: number;
  /** Data rows that have at least one non-blank cell. */
  rows: SheetRow[];
  /** Rows after the header whose cells are all blank: skipped, never sent. */
  blankRows: number;
}

const isBlankCell = (cell: string | undefined) => cell === undefined || cell.trim() === "";
export const isBlankRow = (cells: readonly string[]) => cells.every(isBlankCell);

/**
 * Turns rows of cells into a Sheet: the first non-blank row is the header, blank rows after it are
 * counted and dropped.
 *
 * @throws SheetInputError `empty_file` when no row has a value, `header_only` when nothing follows
 *   the header.
 */
export function sheetFromRows(rows: Iterable<SheetRow>, describe = "The file"): Sheet {
  let header: SheetRow | undefined;
  const data: SheetRow[] = [];
  let blankRows = 0;
  for (const row of rows) {
    if (isBlankRow(row.cells)) {
      if (header) blankRows++;
      continue;
    }
    if (!header) header = row;
    else data.push(row);
  }
  if (!header) throw new SheetInputError("empty_file", `${describe} is empty: no row has a value.`);
  if (data.length === 0) {
    throw new SheetInputError(
      "header_only",
      `${describe} has a header row (row ${header.rowNumber}) but no data rows below it.`,
    );
  }
  return {
    header: header.cells.map((cell, i) => (i === 0 ? cell.replace(/^\uFEFF/, "") : cell)),
    headerRowNumber: header.rowNumber,
    rows: data,
    blankRows,
  };
}
