// One sheet row to one API record: mapped fields by name, every other named column as an agent
// variable, blank cells left out (the API reads a missing field and a blank one alike). Values are
// trimmed text, except that the numeric fields get a JSON number when the cell holds a plain decimal,
// because the API wants amounts as numbers and a spreadsheet cell is text. The API judges everything
// else; the importer only refuses a row it cannot turn into a record at all.
import type { ColumnMapping } from "./columns";
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
      // Sent as written: the API reads plain numbers in text itself, and quotes what it refuses.
      record[target.field] = text;
    } else {
      record[target.name] = text;
    }
  }
  return { ok: true, record };
}
