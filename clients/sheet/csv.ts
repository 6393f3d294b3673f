// CSV text to a Sheet, with papaparse (quoted fields with delimiters, quotes and line breaks inside,
// a UTF-8 BOM, CRLF or LF line ends). papaparse's own delimiter guess gives up on small or quoted
// files, so the delimiter is chosen here: the candidate that splits the header into the most
// columns and then splits the rows below into that same number of columns most consistently.
import Papa from "papaparse";
import { SheetInputError } from "./errors";
import { isBlankRow, type Sheet, type SheetRow, sheetFromRows } from "./table";

/** Delimiters tried when none is given, in order of preference on a tie. */
const CSV_DELIMITERS = [",", ";", "\t", "|"] as const;
/** Rows looked at to choose the delimiter: enough to see a pattern, few enough to stay instant. */
const DETECTION_ROWS = 200;

export interface ParsedCsv {
  sheet: Sheet;
  /** The delimiter used (given, or detected). */
  delimiter: string;
  detected: boolean;
}

/**
 * Parses CSV text. `delimiter` (one character, or "\t") skips detection.
 *
 * @throws SheetInputError `empty_file`, `header_only` (see sheetFromRows), `unclosed_quote` when a
 *   quoted field never ends (it would swallow every row after it).
 */
export function parseCsv(text: string, options: { delimiter?: string } = {}): ParsedCsv {
  const detected = options.delimiter === undefined;
  const delimiter = options.delimiter ?? detectDelimiter(text);
  const result = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: false, header: false });
  const unclosed = result.errors.find((e) => e.code === "MissingQuotes");
  if (unclosed) {
    const rowNumber = (unclosed.row ?? 0) + 1;
    throw new SheetInputError(
      "unclosed_quote",
      `Row ${rowNumber}: a quoted field opens with " and is never closed, so every row after it would be read as part of that cell. Fix the quote in row ${rowNumber}.`,
    );
  }
  const data = result.data;
  // The line break that ends the last row leaves one empty row behind.
  if (/[\r\n]$/.test(text) && data.length > 0 && isBlankRow(data[data.length - 1] as string[])) data.pop();
  const rows: SheetRow[] = data.map((cells, i) => ({ rowNumber: i + 1, cells }));
  return { sheet: sheetFromRows(rows), delimiter, detected };
}

/**
 * The candidate delimiter that reads the start of the file as the widest consistent table; "," when
 * every candidate sees a single column (a one-column file, or a delimiter outside the candidates).
 */
export function detectDelimiter(text: string): string {
  let best: { delimiter: string; columns: number; consistency: number } | undefined;
  for (const delimiter of CSV_DELIMITERS) {
    const rows = Papa.parse<string[]>(text, { delimiter, preview: DETECTION_ROWS }).data.filter(
      (cells) => !isBlankRow(cells),
    );
    const header = rows[0];
    if (!header || header.length < 2) continue;
    const body = rows.slice(1);
    const consistent = body.filter((cells) => cells.length === header.length).length;
    const consistency = body.length === 0 ? 1 : consistent / body.length;
    const better =
      !best ||
      consistency > best.consistency ||
      (consistency === best.consistency && header.length > best.columns);
    if (better) best = { delimiter, columns: header.length, consistency };
  }
  return best?.delimiter ?? ",";
}
