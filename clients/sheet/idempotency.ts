// Idempotency-Keys for the parts of a file. A key is derived, never random, so that running the same
// command again after an interruption sends every part under the key it had the first time: the API
// answers a finished part from its stored answer (Idempotent-Replayed: true) and resumes a part whose
// request died, so no row is ever loaded twice.
//
// What goes into a key, and why:
// - the file's SHA-256 (its bytes, not its name: a renamed copy is the same data, an edited file is not);
// - the part's number and the source row numbers it carries, so that parts cut differently (another
//   --max-body-mb) never share a key;
// - everything else that shapes the request body: the sheet read, the delimiter, each column's role
//   (--map), and the envelope (campaign, initiateCall and callConfig, useWorkflow, onExisting,
//   dryRun). The API refuses a key reused with another body (422), so a key must change whenever the
//   body would; and two runs that would send the same body must share it;
// - a format version, raised whenever the importer changes how rows become records.
// Web Crypto only, so this runs in Node and in a browser alike.
import type { ColumnMapping } from "./columns";
import type { Part } from "./parts";

/** Raise when rows → records changes, so that old keys are not replayed for new bodies. */
const KEY_FORMAT_VERSION = 1;

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export interface KeySource {
  /** SHA-256 (hex) of the file's bytes. */
  fileSha256: string;
  /** The worksheet read from a workbook. */
  sheet?: string;
  /** The CSV delimiter used. */
  delimiter?: string;
  mapping: ColumnMapping;
  /** The request body without `records`. */
  envelope: Record<string, unknown>;
}

/**
 * The Idempotency-Key of one part: `bulkcall-v1-<32 hex of the file hash>-p<part>-<24 hex>`, where
 * the last group hashes everything listed at the top of this file. At most 80 printable ASCII
 * characters (the API takes 255).
 */
export async function partIdempotencyKey(
  source: KeySource,
  part: Pick<Part, "number" | "rows">,
): Promise<string> {
  const shape = canonicalJson({
    version: KEY_FORMAT_VERSION,
    sheet: source.sheet,
    delimiter: source.delimiter,
    columns: source.mapping.columns.map((c) => [c.index, c.target]),
    envelope: source.envelope,
    part: part.number,
    rows: part.rows,
  });
  const digest = await sha256Hex(shape);
  return `bulkcall-v${KEY_FORMAT_VERSION}-${source.fileSha256.slice(0, 32)}-p${part.number}-${digest.slice(0, 24)}`;
}
