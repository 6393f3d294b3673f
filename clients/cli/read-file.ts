// Reads the input file into a Sheet: .xlsx through the workbook reader, anything else as UTF-8 CSV.
import { open, readFile, stat } from "node:fs/promises";
import { extname } from "node:path";
import { parseCsv } from "../sheet/csv";
import { SheetInputError } from "../sheet/errors";
import { sha256Hex } from "../sheet/idempotency";
import type { Sheet } from "../sheet/table";
import { parseXlsx } from "../sheet/xlsx";

/**
 * Largest CSV file read. The whole file is held in memory to hash it (its hash keys every request)
 * and to parse it: a 99 MiB CSV of 1.1 million rows × 10 columns peaked at 1.3 GB of memory
 * (measured), which an operator's laptop has. Bigger exports are split into several files, each
 * one resumable on its own.
 */
export const MAX_CSV_BYTES = 100 * 1024 * 1024;
/**
 * Largest workbook read. An .xlsx is compressed XML that is unzipped and parsed whole, each cell an
 * object: an 8 MiB workbook of 200,000 rows × 10 columns peaked at 1.3 GB (measured), so 10 MiB
 * (about 250,000 rows) keeps the same budget. The same data saved as CSV goes up to 100 MiB.
 */
export const MAX_XLSX_BYTES = 10 * 1024 * 1024;

export interface InputFile {
  path: string;
  format: "csv" | "xlsx";
  bytes: number;
  sha256: string;
  sheet: Sheet;
  /** CSV: the delimiter used, and whether the file started with a BOM. */
  delimiter?: string;
  bom?: boolean;
  /** XLSX: the worksheet read. */
  sheetName?: string;
}

/** A problem with the file found before anything is sent (missing, too big, wrong format). */
export class InputFileError extends Error {
  override name = "InputFileError";
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

export async function readInputFile(
  path: string,
  options: { delimiter?: string; sheet?: string; maxCsvBytes?: number; maxXlsxBytes?: number },
): Promise<InputFile> {
  let size: number;
  let head: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputFileError(`${path} is not a file.`);
    size = info.size;
    head = await firstBytes(path, 8);
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputFileError(
      code === "ENOENT" ? `${path}: no such file.` : `${path}: ${(err as Error).message}`,
    );
  }
  if (size === 0) throw new SheetInputError("empty_file", `${path} is empty (0 bytes).`);
  const extension = extname(path).toLowerCase();
  if (startsWith(head, OLE_MAGIC) || extension === ".xls") {
    throw new InputFileError(
      `${path} is an old binary Excel file (.xls). Save it as "Excel Workbook (.xlsx)" or "CSV UTF-8" and import that.`,
    );
  }
  const isWorkbook = startsWith(head, ZIP_MAGIC) || extension === ".xlsx" || extension === ".xlsm";
  const csvLimit = options.maxCsvBytes ?? MAX_CSV_BYTES;
  const xlsxLimit = options.maxXlsxBytes ?? MAX_XLSX_BYTES;
  if (isWorkbook && size > xlsxLimit) {
    throw new InputFileError(
      `${path} is ${mib(size)}; the importer reads workbooks up to ${mib(xlsxLimit)} (about 250,000 rows). Save it as "CSV UTF-8" (read up to ${mib(csvLimit)}) or split it into smaller workbooks.`,
    );
  }
  if (!isWorkbook && size > csvLimit) {
    throw new InputFileError(
      `${path} is ${mib(size)}; the importer reads files up to ${mib(csvLimit)} (about a million CSV rows). Split it into smaller files and import each one.`,
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  const sha256 = await sha256Hex(bytes);

  if (isWorkbook) {
    if (options.delimiter !== undefined) throw new InputFileError("--delimiter applies to CSV files only.");
    const workbook = await parseXlsx(bytes, { sheet: options.sheet });
    return {
      path,
      format: "xlsx",
      bytes: size,
      sha256,
      sheet: workbook.sheet,
      sheetName: workbook.sheetName,
    };
  }
  if (options.sheet !== undefined) throw new InputFileError("--sheet applies to .xlsx workbooks only.");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InputFileError(
      `${path} is not UTF-8 text. Save it from the spreadsheet as "CSV UTF-8 (comma delimited)" (or as .xlsx) and import that.`,
    );
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  const delimiter = options.delimiter ?? (extension === ".tsv" ? "\t" : undefined);
  const csv = parseCsv(text, { delimiter });
  return { path, format: "csv", bytes: size, sha256, sheet: csv.sheet, delimiter: csv.delimiter, bom };
}

async function firstBytes(path: string, count: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = new Uint8Array(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export const mib = (bytes: number) =>
  `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
