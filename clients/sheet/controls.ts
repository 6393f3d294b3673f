// How a message names the controls of the program that shows it: the CLI's options, or the web
// console's fields. The messages themselves are written once, here in clients/sheet; only the words
// that tell the reader which control to use differ between programs.

export interface SheetControls {
  /**
   * The advice that ends the wrong-delimiter message, for a file that seems separated by `shown`
   * (`;`, `tab`, …). `given`: the delimiter in use was chosen by the user, not detected.
   */
  delimiter(shown: string, given: boolean): string;
  /** The sentence that says how to choose one worksheet of a workbook. */
  sheet: string;
  /** The sentence that says how to name a column for each of `missing` (record fields). */
  mapMissing(missing: readonly string[]): string;
  /** What names a column for a field explicitly, as a noun ("--map", "the column mapping"). */
  map: string;
}

/** The `bulkcall` program's options (README, "Import a spreadsheet (CLI)"). */
export const CLI_CONTROLS: SheetControls = {
  delimiter: (shown, given) =>
    given
      ? `use --delimiter "${shown}", or leave --delimiter out to detect it`
      : `pass --delimiter "${shown}"`,
  sheet: 'Choose one with --sheet "<name>".',
  mapMissing: (missing) =>
    `Name a column for each with --map, e.g. --map "${missing[0] ?? "field"}=<column header>".`,
  map: "--map",
};
