// Reads the input file into a Sheet: .xlsx through the workbook reader, anything else as UTF-8 CSV.
// The checks and messages on the file itself live in clients/sheet/file.ts, shared with the console.
import { open, readFile, stat } from "node:fs/promises";
import { checkFile, type FileLimits, readSheet } from "../sheet/file";
import { sha256Hex } from "../sheet/idempotency";
import type { Sheet } from "../sheet/table";

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

/** A problem with the file found before anything is sent (missing, not a file, an option that does not apply). */
export class InputFileError extends Error {
  override name = "InputFileError";
}

/** @throws InputFileError, and SheetInputError from the shared checks and parsers. */
export async function readInputFile(
  path: string,
  options: { delimiter?: string; sheet?: string } & FileLimits,
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
  const format = checkFile(path, size, head, options);
  if (format === "xlsx" && options.delimiter !== undefined) {
    throw new InputFileError("--delimiter applies to CSV files only.");
  }
  if (format === "csv" && options.sheet !== undefined) {
    throw new InputFileError("--sheet applies to .xlsx workbooks only.");
  }
  const bytes = new Uint8Array(await readFile(path));
  const sha256 = await sha256Hex(bytes);
  const read = await readSheet(path, format, bytes, { delimiter: options.delimiter, sheet: options.sheet });
  return {
    path,
    format,
    bytes: size,
    sha256,
    sheet: read.sheet,
    ...(format === "xlsx" ? { sheetName: read.sheetName } : { delimiter: read.delimiter, bom: read.bom }),
  };
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
