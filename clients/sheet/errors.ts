/** Why a file cannot be imported as it is; found before anything is sent. */
export type SheetProblemCode =
  | "empty_file"
  | "header_only"
  | "no_header"
  | "wrong_delimiter"
  | "unclosed_quote"
  | "missing_columns"
  | "duplicate_columns"
  | "unnamed_column"
  | "too_many_variables"
  | "bad_map"
  | "several_sheets"
  | "unknown_sheet"
  | "unreadable_workbook"
  | "old_xls"
  | "file_too_large"
  | "not_utf8";

/**
 * A problem with the file itself (not with one row), reported before any request is sent. `message`
 * is written for the person who holds the spreadsheet: it names the columns, rows and option to use.
 */
export class SheetInputError extends Error {
  constructor(
    readonly code: SheetProblemCode,
    message: string,
  ) {
    super(message);
    this.name = "SheetInputError";
  }
}
