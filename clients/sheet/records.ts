// One sheet row to one API record: mapped fields by name, every other named column as an agent
// variable, blank cells left out (the API reads a missing field and a blank one alike). Values are
// trimmed text, except that the numeric fields get a JSON number when the cell holds a plain decimal,
// because the API wants amounts as numbers and a spreadsheet cell is text. The API judges everything
// else; the importer only refuses a row it cannot turn into a record at all.
import type { ColumnMapping } from "./columns";
import { NUMERIC_FIELDS } from "./fields";
import type { SheetRow } from "./table";

export type RecordValue = string | number;
export type ApiRecord = Record<string, RecordValue>;

/** A row the importer refuses itself, in the shape of the API's record errors. */
export interface RowProblem {
  code: "extra_cells";
  field?: string;
  message: string;
}

export type RowRecord = { ok: true; record: ApiRecord } | { ok: false; problem: RowProblem };

/**
 * Digits a double holds exactly; a longer "plain decimal" is sent as text, so the API refuses it
 * instead of the importer rounding someone's amount.
 */
const MAX_EXACT_DIGITS = 15;
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** The number a plain decimal cell means ("12500", "12500.50", "-3"); undefined for other text. */
export function plainNumber(text: string): number | undefined {
  if (!PLAIN_DECIMAL.test(text)) return undefined;
  const digits = text
    .replace(/^-/, "")
    .replace(".", "")
    .replace(/^0+(?=\d)/, "");
  if (digits.length > MAX_EXACT_DIGITS) return undefined;
  return Number(text);
}

export function rowToRecord(row: SheetRow, mapping: ColumnMapping): RowRecord {
  const width = mapping.columns.length;
  for (let i = width; i < row.cells.length; i++) {
    const cell = (row.cells[i] ?? "").trim();
    if (cell !== "") {
      const extra = row.cells.slice(width).filter((c) => c.trim() !== "").length;
      return {
        ok: false,
        problem: {
          code: "extra_cells",
          message: `The row has ${extra} value${extra > 1 ? "s" : ""} beyond the header's ${width} columns (first: "${cell}"). A value that contains the delimiter must be quoted.`,
        },
      };
    }
  }
  const record: ApiRecord = {};
  for (const column of mapping.columns) {
    const { target } = column;
    if (target.kind === "ignored") continue;
    const text = (row.cells[column.index] ?? "").trim();
    if (text === "") continue;
    if (target.kind === "field") {
      record[target.field] = NUMERIC_FIELDS.has(target.field) ? (plainNumber(text) ?? text) : text;
    } else {
      record[target.name] = text;
    }
  }
  return { ok: true, record };
}
