// An .xlsx workbook to a Sheet, with excelts (a maintained, dependency-free TypeScript descendant of
// exceljs that reads and writes workbooks in Node and in browsers). Cells become the text a person
// sees in them, with three rules that matter for loan files:
// - a number becomes its exact digits: a phone number typed as a number is 9876543210, never
//   "9.87654E+09" or "9876543210.0";
// - a date becomes YYYY-MM-DD (the API's date form);
// - a text cell stays text, so loan ids keep their leading zeros.
import { type CellValue, Workbook, type Worksheet } from "@cj-tech-master/excelts";
import { CLI_CONTROLS, type SheetControls } from "./controls";
import { SheetInputError } from "./errors";
import { type Sheet, type SheetRow, sheetFromRows } from "./table";

export interface ParsedWorkbook {
  sheet: Sheet;
  sheetName: string;
  /** Every worksheet's name, in workbook order. */
  sheetNames: string[];
}

/**
 * Reads one worksheet of an .xlsx file. `sheet` names it (exact name, else ignoring case and
 * surrounding spaces, else a 1-based position); without it the workbook must have exactly one
 * worksheet with values in it.
 *
 * @throws SheetInputError `unreadable_workbook`, `several_sheets`, `unknown_sheet`, `empty_file`,
 *   `header_only`.
 */
export async function parseXlsx(
  bytes: Uint8Array,
  options: { sheet?: string; controls?: SheetControls } = {},
): Promise<ParsedWorkbook> {
  const workbook = new Workbook();
  try {
    await workbook.xlsx.load(bytes);
  } catch (err) {
    throw new SheetInputError(
      "unreadable_workbook",
      `The file is not a readable .xlsx workbook (${err instanceof Error ? err.message : String(err)}). Save it as "Excel Workbook (.xlsx)" or as CSV.`,
    );
  }
  const worksheets = workbook.worksheets;
  const sheetNames = worksheets.map((ws) => ws.name);
  const worksheet = chooseWorksheet(worksheets, options.sheet, options.controls ?? CLI_CONTROLS);
  const sheet = sheetFromRows(rowsOf(worksheet), `Sheet "${worksheet.name}"`);
  return { sheet, sheetName: worksheet.name, sheetNames };
}

const describeSheets = (sheets: readonly Worksheet[]) =>
  sheets.map((ws) => `"${ws.name}"${ws.state === "visible" ? "" : ` (${ws.state})`}`).join(", ");

function chooseWorksheet(
  worksheets: readonly Worksheet[],
  wanted: string | undefined,
  controls: SheetControls,
): Worksheet {
  if (wanted !== undefined) {
    const byName =
      worksheets.find((ws) => ws.name === wanted) ??
      worksheets.find((ws) => ws.name.trim().toLowerCase() === wanted.trim().toLowerCase());
    const position = /^\d+$/.test(wanted.trim()) ? worksheets[Number(wanted) - 1] : undefined;
    const found = byName ?? position;
    if (!found) {
      throw new SheetInputError(
        "unknown_sheet",
        `The workbook has no sheet "${wanted}". Its sheets: ${describeSheets(worksheets)}.`,
      );
    }
    return found;
  }
  const withValues = worksheets.filter((ws) => ws.actualRowCount > 0);
  if (withValues.length > 1) {
    throw new SheetInputError(
      "several_sheets",
      `The workbook has ${withValues.length} sheets with data: ${describeSheets(withValues)}. ${controls.sheet}`,
    );
  }
  const only = withValues[0];
  if (!only) throw new SheetInputError("empty_file", "The workbook is empty: no sheet has a value.");
  return only;
}

function rowsOf(worksheet: Worksheet): SheetRow[] {
  const rows: SheetRow[] = [];
  worksheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const values = row.values as CellValue[];
    const cells: string[] = [];
    // row.values is 1-based: index 0 is always empty.
    for (let column = 1; column < values.length; column++) cells.push(cellText(values[column]));
    rows.push({ rowNumber, cells });
  });
  return rows;
}

/** The text a cell shows, for every kind of value excelts gives (see the rules at the top). */
export function cellText(value: CellValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberText(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) return dateText(value);
  if ("error" in value) return value.error;
  if ("richText" in value && !("hyperlink" in value)) return value.richText.map((run) => run.text).join("");
  if ("hyperlink" in value && "text" in value) return value.text;
  if ("checkbox" in value) return value.checkbox ? "TRUE" : "FALSE";
  if ("result" in value) return value.result === undefined ? "" : cellText(value.result);
  return "";
}

/**
 * A number as its digits: integers exactly (BigInt, so never an exponent), other numbers to the
 * 15 significant digits a spreadsheet keeps (0.1 + 0.2 shows as 0.3, as it does in the sheet).
 */
export function numberText(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return BigInt(value).toString();
  return String(Number(value.toPrecision(15)));
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * A date cell as text: YYYY-MM-DD when it has no time of day (the API's date form), with the time
 * (HH:MM, or HH:MM:SS) when it has one, and the time alone for a time-only cell. Workbook dates
 * carry no time zone; excelts gives them as UTC, so UTC fields are read. Rounded to the second,
 * because a serial date's fraction rarely lands on an exact millisecond.
 */
export function dateText(date: Date): string {
  const d = new Date(Math.round(date.getTime() / 1000) * 1000);
  const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const seconds = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  if (seconds === 0) return day;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${d.getUTCSeconds() ? `:${pad(d.getUTCSeconds())}` : ""}`;
  // Serial day 0 (a time typed alone) is 1899-12-30 in the 1900 date system, 1904-01-01 in the other.
  if (day === "1899-12-30" || day === "1904-01-01") return time;
  return `${day} ${time}`;
}
