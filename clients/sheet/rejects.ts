// The rejects file: every row that was not loaded, with the importer's four columns first
// (bulkcall_row, bulkcall_code, bulkcall_field, bulkcall_message) and then the row exactly as it was,
// under the same header, so an operator can fix the cells and upload this file itself again. The
// importer's columns come first so that a row with more cells than the header keeps them all at
// the end; they are recognised and left out on upload, and a rejects file of a rejects file does not
// pile up old error columns.
import Papa from "papaparse";
import type { Reject } from "./answers";
import { normalizeHeader } from "./columns";
import { REJECT_COLUMNS } from "./reject-columns";
import type { Sheet } from "./table";

export { REJECT_COLUMNS };

const REJECT_NORMALIZED: ReadonlySet<string> = new Set(Object.values(REJECT_COLUMNS).map(normalizeHeader));

/**
 * The rejects file as rows of text: header first, then one row per reject in file order. Columns of
 * an earlier rejects file are dropped from the original row (the new ones replace them).
 */
export function rejectsTable(sheet: Sheet, rejects: readonly Reject[]): string[][] {
  const keep = sheet.header.flatMap((h, i) => (REJECT_NORMALIZED.has(normalizeHeader(h)) ? [] : [i]));
  const width = sheet.header.length;
  const byRow = new Map(sheet.rows.map((row) => [row.rowNumber, row.cells]));
  const header = [
    REJECT_COLUMNS.row,
    REJECT_COLUMNS.code,
    REJECT_COLUMNS.field,
    REJECT_COLUMNS.message,
    ...keep.map((i) => sheet.header[i] ?? ""),
  ];
  const rows = [...rejects]
    .sort((a, b) => a.rowNumber - b.rowNumber)
    .map((reject) => {
      const cells = byRow.get(reject.rowNumber) ?? [];
      const original = keep.map((i) => cells[i] ?? "");
      // Cells beyond the header (an extra_cells row) are kept at the end, as they were.
      const beyond = cells.slice(width);
      return [String(reject.rowNumber), reject.code, reject.field, reject.message, ...original, ...beyond];
    });
  return [header, ...rows];
}

/**
 * CSV text of a table (RFC 4180 quoting, CRLF line ends). `bom` adds a UTF-8 BOM, which spreadsheet
 * programs need to read non-ASCII names correctly.
 */
export function toCsv(
  table: readonly (readonly string[])[],
  options: { delimiter?: string; bom?: boolean } = {},
) {
  const text = Papa.unparse(table as string[][], { delimiter: options.delimiter ?? ",", newline: "\r\n" });
  return `${options.bom ? "\uFEFF" : ""}${text}\r\n`;
}
