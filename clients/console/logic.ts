// The console's work apart from drawing it: reading a dropped file through clients/sheet (the same
// checks, parsers and messages as the CLI), turning the mapping editor's choices into the plan's
// options, and reading an import's call progress. No DOM here beyond File.
import type { ApiHints } from "../sheet/api-client";
import { fieldForHeader, normalizeHeader } from "../sheet/columns";
import type { SheetControls } from "../sheet/controls";
import { SheetInputError } from "../sheet/errors";
import type { CampaignType, KnownField } from "../sheet/fields";
import { checkFile, type ReadSheet, readSheet } from "../sheet/file";
import { sha256Hex } from "../sheet/idempotency";
import { type ImportPlan, planImport } from "../sheet/plan";
import { REJECT_COLUMNS } from "../sheet/reject-columns";

/** How the console's messages name its own controls (the CLI names its options instead). */
export const CONSOLE_CONTROLS: SheetControls = {
  delimiter: (shown, given) =>
    given ? `choose "${shown}" under Delimiter, or "detect"` : `choose "${shown}" under Delimiter`,
  sheet: "Choose one under Sheet.",
  mapMissing: () => "Choose a column for each under Column mapping.",
  map: "the column mapping",
};

export const CONSOLE_HINTS: ApiHints = {
  badKey: () => "The API key was refused: check the key you entered.",
  badCampaign: "The campaign does not exist for this API key: choose another one.",
  badUrl: (where) => `Nothing answers at ${where}.`,
  unreachable: (baseUrl, reason) => `Cannot reach the API at ${baseUrl} (${reason}).`,
  tooLarge:
    "The API refused the request as too large (the server's MAX_BODY_BYTES is smaller than the parts).",
  noCallConfig: "The campaign has no default agent and disposition: choose an agent and a disposition.",
  rerun: "Import the same file again later with the same settings.",
};

/** How the console resumes an import: the same file and settings give the same Idempotency-Keys. */
export const CONSOLE_AGAIN = "import the same file again with the same settings";

export interface LoadedFile {
  name: string;
  size: number;
  bytes: Uint8Array;
  sha256: string;
  read: ReadSheet;
}

/** A problem shown instead of the preview; `code` is clients/sheet's SheetProblemCode. */
export interface FileProblem {
  code: string;
  message: string;
}

/**
 * Reads a dropped file: first the checks that need only its size and first bytes (so a 200 MB file
 * is refused without being read), then the whole file, its hash (the parts' keys) and its sheet.
 *
 * @throws SheetInputError, as clients/sheet words it.
 */
export async function loadFile(
  file: File,
  choice: { delimiter?: string; sheet?: string },
): Promise<LoadedFile> {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const format = checkFile(file.name, file.size, head);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  const read = await readSheet(file.name, format, bytes, {
    delimiter: format === "csv" ? choice.delimiter : undefined,
    sheet: format === "xlsx" ? choice.sheet : undefined,
    controls: CONSOLE_CONTROLS,
  });
  return { name: file.name, size: file.size, bytes, sha256, read };
}

export function problemOf(error: unknown): FileProblem {
  if (error instanceof SheetInputError) return { code: error.code, message: error.message };
  return { code: "unexpected", message: error instanceof Error ? error.message : String(error) };
}

/** The editor's choice for one column: a record field, or "" for an agent variable. */
export type ColumnChoice = KnownField | "";

export interface ColumnRow {
  index: number;
  header: string;
  /** The first non-blank value below the header, to recognise the column by. */
  sample: string;
  /** What header matching gives (undefined: the header names no field). */
  matched?: KnownField;
  /** The current choice (an explicit one, else the matched field, else a variable). */
  choice: ColumnChoice;
  /** Columns of an earlier rejects file, always left out. */
  ignored: boolean;
}

/** The mapping editor's rows: header matching as the CLI does it, then the user's explicit choices. */
export function columnRows(read: ReadSheet, choices: ReadonlyMap<number, ColumnChoice>): ColumnRow[] {
  const rejectHeaders = new Set<string>(Object.values(REJECT_COLUMNS).map(normalizeHeader));
  return read.sheet.header.map((header, index) => {
    const matched = fieldForHeader(header);
    const sample = read.sheet.rows.find((row) => (row.cells[index] ?? "").trim() !== "")?.cells[index] ?? "";
    return {
      index,
      header,
      sample: sample.trim(),
      matched,
      choice: choices.get(index) ?? matched ?? "",
      ignored: rejectHeaders.has(normalizeHeader(header)),
    };
  });
}

/**
 * The explicit choices as the plan's `map` (field → header), the CLI's --map. A column whose header
 * already names the chosen field needs no entry.
 */
export function mapOf(read: ReadSheet, choices: ReadonlyMap<number, ColumnChoice>): Map<KnownField, string> {
  const map = new Map<KnownField, string>();
  for (const [index, choice] of choices) {
    const header = read.sheet.header[index];
    if (choice === "" || header === undefined || fieldForHeader(header) === choice) continue;
    map.set(choice, header.trim());
  }
  return map;
}

export type PlanResult = { ok: true; plan: ImportPlan } | { ok: false; problem: FileProblem };

export function planFor(
  loaded: LoadedFile,
  campaign: { id: string; campaignType: CampaignType },
  choices: ReadonlyMap<number, ColumnChoice>,
  delimiterGiven: boolean,
): PlanResult {
  try {
    const plan = planImport(loaded.read.sheet, {
      campaignType: campaign.campaignType,
      campaignId: campaign.id,
      map: mapOf(loaded.read, choices),
      delimiter: loaded.read.delimiter,
      delimiterGiven,
      controls: CONSOLE_CONTROLS,
    });
    return { ok: true, plan };
  } catch (error) {
    if (error instanceof SheetInputError) return { ok: false, problem: problemOf(error) };
    throw error;
  }
}

/** GET /api/v1/imports/{importId} → calls, as far as the console reads it. */
export interface CallCounts {
  requested: number;
  queued: number;
  dispatched: number;
  delayed: number;
  skipped: Record<string, number>;
  failed: number;
  completed: number;
}

export const emptyCounts = (): CallCounts => ({
  requested: 0,
  queued: 0,
  dispatched: 0,
  delayed: 0,
  skipped: {},
  failed: 0,
  completed: 0,
});

/** The calls of several imports (one per part) added up. */
export function addCounts(total: CallCounts, more: CallCounts): CallCounts {
  const skipped = { ...total.skipped };
  for (const [reason, count] of Object.entries(more.skipped))
    skipped[reason] = (skipped[reason] ?? 0) + count;
  return {
    requested: total.requested + more.requested,
    queued: total.queued + more.queued,
    dispatched: total.dispatched + more.dispatched,
    delayed: total.delayed + more.delayed,
    skipped,
    failed: total.failed + more.failed,
    completed: total.completed + more.completed,
  };
}

export const skippedTotal = (counts: CallCounts) =>
  Object.values(counts.skipped).reduce((sum, count) => sum + count, 0);

/**
 * Calls the server is done handing out: dispatched (then perhaps completed), skipped, or failed after
 * its retries. The rest are queued, or delayed until the calling window opens. requested = the sum of
 * all of them at every moment (GET /api/v1/imports/{id}), so this never exceeds requested.
 */
export const settledCalls = (counts: CallCounts) =>
  counts.dispatched + counts.completed + skippedTotal(counts) + counts.failed;

/** "rejects" name beside the input's: daily.csv → daily.rejects.csv (as the CLI names it). */
export function rejectsName(name: string): string {
  const dot = name.lastIndexOf(".");
  return `${dot > 0 ? name.slice(0, dot) : name}.rejects.csv`;
}
