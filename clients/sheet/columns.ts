// Which column feeds which record field. Headers are matched to the API's documented fields
// ignoring letter case, spaces, underscores, hyphens and a BOM ("Loan ID", "FIRST NAME",
// "phoneNumber"); --map names a column for a field explicitly and wins over the headers; every other
// column becomes an agent variable named by its header. The importer's own columns in a rejects file
// are recognised and left out, so a corrected rejects file can be uploaded as it is.
import { CLI_CONTROLS, type SheetControls } from "./controls";
import { SheetInputError } from "./errors";
import { type CampaignType, isKnownField, KNOWN_FIELDS, type KnownField, REQUIRED_BY_TYPE } from "./fields";
import { REJECT_COLUMNS } from "./reject-columns";
import type { Sheet } from "./table";

/** Extra keys a record may carry (API contract: agent variables, at most 50 per record). */
const MAX_VARIABLE_COLUMNS = 50;

export type ColumnTarget =
  | { kind: "field"; field: KnownField; by: "header" | "map" }
  | { kind: "variable"; name: string }
  | { kind: "ignored"; reason: "rejects_column" | "blank" };

export interface ColumnPlan {
  /** 0-based position in the row. */
  index: number;
  /** The header as written. */
  header: string;
  target: ColumnTarget;
}

export interface ColumnMapping {
  columns: ColumnPlan[];
  /** Column index of each mapped field. */
  fields: Partial<Record<KnownField, number>>;
}

/** The header's comparison form: no BOM, lower case, no spaces, underscores or hyphens. */
export function normalizeHeader(text: string): string {
  return text
    .replace(/^\uFEFF/, "")
    .toLowerCase()
    .replace(/[\s_\-\u2010-\u2015]+/g, "");
}

const FIELD_BY_NORMALIZED: ReadonlyMap<string, KnownField> = new Map(
  KNOWN_FIELDS.map((field) => [normalizeHeader(field), field]),
);
const REJECT_NORMALIZED: ReadonlySet<string> = new Set(Object.values(REJECT_COLUMNS).map(normalizeHeader));

/** The documented field a header names, if it names one. */
export function fieldForHeader(header: string): KnownField | undefined {
  return FIELD_BY_NORMALIZED.get(normalizeHeader(header));
}

/**
 * Reads --map text: `field=Column Header` pairs separated by commas (`phone_number=Mobile No,
 * loan_id=Loan A/c`). Field names are matched like headers ("Phone Number" is phone_number).
 *
 * @throws SheetInputError `bad_map` for a pair without "=", or a name that is not a record field.
 */
export function parseMapOption(texts: readonly string[]): Map<KnownField, string> {
  const map = new Map<KnownField, string>();
  for (const text of texts) {
    for (const pair of text.split(",")) {
      if (pair.trim() === "") continue;
      const eq = pair.indexOf("=");
      if (eq < 0) {
        throw new SheetInputError("bad_map", `--map "${pair.trim()}": write field=Column Header.`);
      }
      const name = pair.slice(0, eq).trim();
      const header = pair.slice(eq + 1).trim();
      const field = isKnownField(name) ? name : fieldForHeader(name);
      if (!field) {
        throw new SheetInputError(
          "bad_map",
          `--map "${name}=${header}": "${name}" is not a record field. The fields are: ${KNOWN_FIELDS.join(", ")}.`,
        );
      }
      if (header === "") throw new SheetInputError("bad_map", `--map "${name}=": name the column after "=".`);
      if (map.has(field)) throw new SheetInputError("bad_map", `--map names ${field} twice.`);
      map.set(field, header);
    }
  }
  return map;
}

/** Quoted, comma-separated, shortened: a message names a dozen columns of 40 characters at most. */
const quoteList = (items: readonly string[], max = 12, width = 40) =>
  items
    .slice(0, max)
    .map((item) => `"${item.length > width ? `${item.slice(0, width - 1)}…` : item}"`)
    .join(", ") + (items.length > max ? `, … (${items.length} in all)` : "");

export interface PlanOptions {
  campaignType: CampaignType;
  /** For messages. */
  campaignId?: string;
  /** --map: the column (header text) for a field. */
  map?: ReadonlyMap<KnownField, string>;
  /** The CSV delimiter used, for the wrong-delimiter message; absent for workbooks. */
  delimiter?: string;
  /** True when the delimiter came from --delimiter rather than detection. */
  delimiterGiven?: boolean;
  /** How messages name the program's controls; default: the CLI's options. */
  controls?: SheetControls;
}

/**
 * Decides every column's role and checks that the campaign type's required fields all have one.
 *
 * @throws SheetInputError `wrong_delimiter` (one column, and its header holds a delimiter),
 *   `no_header` (the first row looks like data), `bad_map`, `duplicate_columns`, `unnamed_column`,
 *   `too_many_variables`, `missing_columns`.
 */
export function planColumns(sheet: Sheet, options: PlanOptions): ColumnMapping {
  const { header } = sheet;
  const controls = options.controls ?? CLI_CONTROLS;
  const required = REQUIRED_BY_TYPE[options.campaignType];
  const mappedIndex = new Map<number, KnownField>();
  for (const [field, wanted] of options.map ?? []) {
    const exact = header.flatMap((h, i) => (h.trim() === wanted ? [i] : []));
    const loose = exact.length
      ? exact
      : header.flatMap((h, i) => (normalizeHeader(h) === normalizeHeader(wanted) ? [i] : []));
    if (loose.length === 0) {
      throw new SheetInputError(
        "bad_map",
        `${controls.map} ${field}="${wanted}": the file has no column "${wanted}". Its columns: ${quoteList(header)}.`,
      );
    }
    if (loose.length > 1) {
      throw new SheetInputError(
        "bad_map",
        `${controls.map} ${field}="${wanted}": ${loose.length} columns have that header.`,
      );
    }
    const index = loose[0] as number;
    const other = mappedIndex.get(index);
    if (other) {
      throw new SheetInputError(
        "bad_map",
        `${controls.map} gives column "${wanted}" to both ${other} and ${field}.`,
      );
    }
    mappedIndex.set(index, field);
  }

  const columns: ColumnPlan[] = [];
  const fields: Partial<Record<KnownField, number>> = {};
  for (const [index, field] of mappedIndex) fields[field] = index;
  const problems: SheetInputError[] = [];
  const variables = new Map<string, number>();
  for (let index = 0; index < header.length; index++) {
    const text = header[index] ?? "";
    const normalized = normalizeHeader(text);
    const mapped = mappedIndex.get(index);
    let target: ColumnTarget;
    if (mapped) {
      target = { kind: "field", field: mapped, by: "map" };
    } else if (normalized === "") {
      const used = sheet.rows.find((row) => (row.cells[index] ?? "").trim() !== "");
      if (used) {
        problems.push(
          new SheetInputError(
            "unnamed_column",
            `Column ${columnLetter(index)} has values (row ${used.rowNumber}: "${used.cells[index]}") but no header. Name it in the header row, or delete the column.`,
          ),
        );
      }
      target = { kind: "ignored", reason: "blank" };
    } else if (REJECT_NORMALIZED.has(normalized)) {
      target = { kind: "ignored", reason: "rejects_column" };
    } else if (FIELD_BY_NORMALIZED.has(normalized)) {
      const field = FIELD_BY_NORMALIZED.get(normalized) as KnownField;
      const taken = fields[field];
      if (taken !== undefined) {
        const how = mappedIndex.has(taken) ? `which ${controls.map} takes from` : "and so is";
        problems.push(
          new SheetInputError(
            "duplicate_columns",
            `Column "${text.trim()}" would be read as ${field}, ${how} column "${(header[taken] ?? "").trim()}". Keep one of them (rename or delete the other).`,
          ),
        );
      } else {
        fields[field] = index;
      }
      target = { kind: "field", field, by: "header" };
    } else {
      const name = text.trim();
      const seen = variables.get(name);
      if (seen !== undefined) {
        problems.push(
          new SheetInputError(
            "duplicate_columns",
            `Columns ${columnLetter(seen)} and ${columnLetter(index)} are both named "${name}". Rename one of them.`,
          ),
        );
      }
      variables.set(name, index);
      target = { kind: "variable", name };
    }
    columns.push({ index, header: text, target });
  }

  const missing = required.filter((field) => fields[field] === undefined);
  if (missing.length > 0) {
    const wrongDelimiter = header.length === 1 ? /[,;\t|:]/.exec(header[0] ?? "") : null;
    if (wrongDelimiter) {
      const found = wrongDelimiter[0];
      const shown = (d: string) => (d === "\t" ? "tab" : d);
      const used = options.delimiter === undefined ? "" : ` with the delimiter "${shown(options.delimiter)}"`;
      const advice = controls.delimiter(shown(found), options.delimiterGiven === true);
      throw new SheetInputError(
        "wrong_delimiter",
        `Every row is read as a single column (header: ${quoteList(header, 1, 120)})${used}, so ${missing.join(", ")} cannot be found. The file seems to be separated by "${shown(found)}": ${advice}.`,
      );
    }
    const anyFieldHeader = header.some((h) => FIELD_BY_NORMALIZED.has(normalizeHeader(h)));
    const dataLike = header.filter(looksLikeData);
    if (!anyFieldHeader && dataLike.length > 0) {
      throw new SheetInputError(
        "no_header",
        `Row ${sheet.headerRowNumber} looks like data, not a header (${quoteList(header, 5)}). The first row must name the columns, e.g. ${required.join(", ")}.`,
      );
    }
  }
  const first = problems[0];
  if (first) throw first;
  if (variables.size > MAX_VARIABLE_COLUMNS) {
    throw new SheetInputError(
      "too_many_variables",
      `The file has ${variables.size} columns that are not record fields; a record keeps at most ${MAX_VARIABLE_COLUMNS} of them as agent variables. Delete the columns the agent does not need.`,
    );
  }
  if (missing.length > 0) {
    const type = options.campaignType;
    const campaign = options.campaignId
      ? `campaign "${options.campaignId}" (type ${type})`
      : `a ${type} campaign`;
    throw new SheetInputError(
      "missing_columns",
      `${capitalize(campaign)} needs the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which the file does not have. Its columns: ${quoteList(header)}. ${controls.mapMissing(missing)}`,
    );
  }
  return { columns, fields };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A, B, …, Z, AA, … as a spreadsheet names the 0-based column. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** A cell that reads like a value rather than a column name: a number, a phone number or a date. */
function looksLikeData(cell: string): boolean {
  const text = cell.trim();
  return (
    /^[+(]?\d[\d\s().-]{5,}$/.test(text) ||
    /^-?\d+([.,]\d+)?$/.test(text) ||
    /^\d{4}-\d{1,2}-\d{1,2}/.test(text) ||
    /^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(text)
  );
}
