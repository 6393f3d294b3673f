/**
 * The columns the importer adds to a rejects file, after the original ones. Prefixed so that they
 * cannot clash with a lender's own headers; recognised (and left out) when a rejects file is
 * uploaded again.
 */
export const REJECT_COLUMNS = {
  /** The row's number in the file that was uploaded (1-based; the header is row 1). */
  row: "bulkcall_row",
  /** The API's error code, or one of the importer's own (see RejectCode). */
  code: "bulkcall_code",
  /** The record field(s) at fault, comma separated; empty when the row as a whole was refused. */
  field: "bulkcall_field",
  message: "bulkcall_message",
} as const;
