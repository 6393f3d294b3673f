// The checks on a file as a whole that come before parsing: its size, its format (an .xlsx workbook,
// an old binary .xls, or text), and for text that it is UTF-8. Written once for every program that
// reads a spreadsheet: the CLI gives a path and the bytes it read, a browser the File's name and bytes.
import { CLI_CONTROLS, type SheetControls } from "./controls";
import { parseCsv } from "./csv";
import { SheetInputError } from "./errors";
import type { Sheet } from "./table";

/**
 * Largest CSV file read. The whole file is held in memory to hash it (its hash keys every request)
 * and to parse it: a 99 MiB CSV of 1.1 million rows × 10 columns peaked at 1.3 GB of memory
 * (measured), which an operator's laptop has. Bigger exports are split into several files, each
 * one resumable on its own.
 */
const MAX_CSV_BYTES = 100 * 1024 * 1024;
/**
 * Largest workbook read. An .xlsx is compressed XML that is unzipped and parsed whole, each cell an
 * object: an 8 MiB workbook of 200,000 rows × 10 columns peaked at 1.3 GB (measured), so 10 MiB
 * (about 250,000 rows) keeps the same budget. The same data saved as CSV goes up to 100 MiB.
 */
const MAX_XLSX_BYTES = 10 * 1024 * 1024;

export type FileFormat = "csv" | "xlsx";

export interface FileLimits {
  maxCsvBytes?: number;
  maxXlsxBytes?: number;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

const extensionOf = (name: string) => {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
};

/**
 * The file's format, from its first bytes (a zip is a workbook, an OLE compound file an old .xls)
 * and its name's extension; refuses what cannot be read before anything is loaded into memory.
 * `head`: at least the first 4 bytes (fewer only when the file is shorter).
 *
 * @throws SheetInputError `empty_file` (0 bytes), `old_xls`, `file_too_large`.
 */
export function checkFile(name: string, size: number, head: Uint8Array, limits: FileLimits = {}): FileFormat {
  if (size === 0) throw new SheetInputError("empty_file", `${name} is empty (0 bytes).`);
  const extension = extensionOf(name);
  if (startsWith(head, OLE_MAGIC) || extension === ".xls") {
    throw new SheetInputError(
      "old_xls",
      `${name} is an old binary Excel file (.xls). Save it as "Excel Workbook (.xlsx)" or "CSV UTF-8" and import that.`,
    );
  }
  const isWorkbook = startsWith(head, ZIP_MAGIC) || extension === ".xlsx" || extension === ".xlsm";
  const csvLimit = limits.maxCsvBytes ?? MAX_CSV_BYTES;
  const xlsxLimit = limits.maxXlsxBytes ?? MAX_XLSX_BYTES;
  if (isWorkbook && size > xlsxLimit) {
    throw new SheetInputError(
      "file_too_large",
      `${name} is ${mib(size)}; the importer reads workbooks up to ${mib(xlsxLimit)} (about 250,000 rows). Save it as "CSV UTF-8" (read up to ${mib(csvLimit)}) or split it into smaller workbooks.`,
    );
  }
  if (!isWorkbook && size > csvLimit) {
    throw new SheetInputError(
      "file_too_large",
      `${name} is ${mib(size)}; the importer reads files up to ${mib(csvLimit)} (about a million CSV rows). Split it into smaller files and import each one.`,
    );
  }
  return isWorkbook ? "xlsx" : "csv";
}

export interface ReadSheet {
  format: FileFormat;
  sheet: Sheet;
  /** CSV: the delimiter used, whether it was detected, and whether the file started with a BOM. */
  delimiter?: string;
  delimiterDetected?: boolean;
  bom?: boolean;
  /** XLSX: the worksheet read, and every worksheet's name. */
  sheetName?: string;
  sheetNames?: string[];
}

/**
 * Parses a file's bytes as the format checkFile gave. CSV must be UTF-8; `.tsv` files default to tab.
 *
 * @throws SheetInputError `not_utf8`, and whatever parseCsv / parseXlsx throw.
 */
export async function readSheet(
  name: string,
  format: FileFormat,
  bytes: Uint8Array,
  options: { delimiter?: string; sheet?: string; controls?: SheetControls } = {},
): Promise<ReadSheet> {
  const controls = options.controls ?? CLI_CONTROLS;
  if (format === "xlsx") {
    // Loaded when a workbook comes: the workbook library is nine tenths of a browser bundle, which a
    // console serving CSV files then never downloads.
    const { parseXlsx } = await import("./xlsx");
    const workbook = await parseXlsx(bytes, { sheet: options.sheet, controls });
    return {
      format,
      sheet: workbook.sheet,
      sheetName: workbook.sheetName,
      sheetNames: workbook.sheetNames,
    };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SheetInputError(
      "not_utf8",
      `${name} is not UTF-8 text. Save it from the spreadsheet as "CSV UTF-8 (comma delimited)" (or as .xlsx) and import that.`,
    );
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  const delimiter = options.delimiter ?? (extensionOf(name) === ".tsv" ? "\t" : undefined);
  const csv = parseCsv(text, { delimiter });
  return {
    format,
    sheet: csv.sheet,
    delimiter: csv.delimiter,
    delimiterDetected: csv.detected,
    bom,
  };
}

/** "3.2 MiB", "200 MiB": one decimal under 10 MiB. */
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
