// Command-line options of `bulkcall import`, read with node:util parseArgs. Everything a run needs is
// checked here, before any file is read or request is sent.
import { parseArgs } from "node:util";
import { DEFAULT_MAX_BODY_BYTES } from "../sheet/parts";

const DEFAULT_URL = "http://localhost:8787";

export const HELP = `Usage: bulkcall import <file.csv|file.xlsx> --campaign <id> [options]

Loads a spreadsheet of borrowers or leads into a bulkcall campaign, 10,000 rows per request, and
writes every row that was not loaded to <file>.rejects.csv.

Connection
  --url <url>              API base URL (default ${DEFAULT_URL}, or $BULKCALL_URL)
  --key <key>              API key (default $BULKCALL_API_KEY; prefer the variable: a key on the
                           command line is visible to other users of the machine)
  --campaign <id>          campaign to load into (required)

What the API does with the rows
  --initiate-call          call every added customer
  --use-workflow           start the campaign's workflow for every added customer
  --agent <id>             agent for the calls (with --initiate-call or --use-workflow)
  --disposition <id>       disposition for the calls (with --initiate-call or --use-workflow);
                           give both or neither: without them the campaign's default agent and
                           disposition are used, and a campaign without defaults refuses the import
  --on-existing <mode>     skip (default): a row whose loan_id/lead_id the campaign already holds is
                           rejected as duplicate_existing; update: refresh that customer instead
  --dry-run                ask the API what it would do, and write nothing (no customer, no call)

Reading the file
  --map <field=Header,…>   take a field from a column whose header does not match it, e.g.
                           --map "phone_number=Mobile No,loan_id=Loan A/c" (repeatable)
  --delimiter <char>       CSV delimiter: , ; | or tab (default: detected from the file)
  --sheet <name|number>    worksheet of an .xlsx workbook (required when several have data)

Output and behaviour
  --rejects <path>         where to write rejected rows (default <file>.rejects.csv beside the input)
  --max-body-mb <n>        largest request body in MiB (default ${DEFAULT_MAX_BODY_BYTES / 1024 / 1024}; at most 19: the API takes 20 MB)
  -y, --yes                do not ask before placing calls or starting workflows (required for
                           --initiate-call and --use-workflow when not run in a terminal)
  -q, --quiet              no progress output; print only problems and the summary
  --json                   print the summary as JSON on stdout (progress still goes to stderr)
  -h, --help               show this help
  -v, --version            show the version

Exit status: 0 every row was loaded; 1 some rows were not loaded (see the rejects file) or a
request failed; 2 nothing was sent (bad options, unreadable file, refused key, unknown campaign).

Headers are matched to the record fields ignoring case, spaces, underscores and hyphens
("Loan ID", "FIRST NAME", "phoneNumber"); every other column becomes an agent variable.
Running the same command again is safe: finished requests are answered from the API's stored
answer and no row is loaded twice.`;

export interface ImportOptions {
  file: string;
  url: string;
  key: string;
  campaign: string;
  dryRun: boolean;
  initiateCall: boolean;
  useWorkflow: boolean;
  agent?: string;
  disposition?: string;
  onExisting: "skip" | "update";
  map: string[];
  delimiter?: string;
  sheet?: string;
  rejects?: string;
  maxBodyBytes: number;
  yes: boolean;
  quiet: boolean;
  json: boolean;
}

export type Command = { kind: "help" } | { kind: "version" } | { kind: "import"; options: ImportOptions };

/** A mistake in the command line; the message says what to write instead. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Largest --max-body-mb: the most MiB under the API's own body limit (20 MB, MAX_BODY_BYTES). */
const MAX_BODY_MB = 19;

export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)} (see bulkcall --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const [command, file, ...rest] = positionals;
  if (command === undefined) return { kind: "help" };
  if (command !== "import")
    throw new UsageError(`Unknown command "${command}". Use: bulkcall import <file> --campaign <id>`);
  if (file === undefined)
    throw new UsageError("Name the file to import: bulkcall import <file> --campaign <id>");
  if (rest.length > 0) throw new UsageError(`One file at a time (also given: ${rest.join(" ")}).`);

  const campaign = values.campaign?.trim();
  if (!campaign) throw new UsageError("--campaign <id> is required: the campaign to load the rows into.");
  const key = (values.key ?? env.BULKCALL_API_KEY ?? "").trim();
  if (!key) throw new UsageError("No API key: set BULKCALL_API_KEY (or pass --key <key>).");
  const url = (values.url ?? env.BULKCALL_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  try {
    const parsedUrl = new URL(url);
    if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") throw new Error("scheme");
  } catch {
    throw new UsageError(`--url "${url}" is not an http(s) URL.`);
  }

  const initiateCall = values["initiate-call"] ?? false;
  const useWorkflow = values["use-workflow"] ?? false;
  if (initiateCall && useWorkflow) {
    throw new UsageError("--initiate-call and --use-workflow cannot be used together: choose one.");
  }
  // Without --agent and --disposition no callConfig is sent, and the API uses the campaign's
  // default agent and disposition (or refuses the request when the campaign has none).
  const { agent, disposition } = values;
  if ((agent || disposition) && !initiateCall && !useWorkflow) {
    throw new UsageError("--agent and --disposition only apply with --initiate-call or --use-workflow.");
  }
  if (Boolean(agent) !== Boolean(disposition)) {
    throw new UsageError(
      "Give both --agent and --disposition, or neither (then the campaign's default agent and disposition are used).",
    );
  }
  const onExisting = values["on-existing"] ?? "skip";
  if (onExisting !== "skip" && onExisting !== "update") {
    throw new UsageError(`--on-existing must be skip or update (not "${onExisting}").`);
  }
  let maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  if (values["max-body-mb"] !== undefined) {
    const mb = Number(values["max-body-mb"]);
    if (!Number.isFinite(mb) || mb < 1 || mb > MAX_BODY_MB) {
      throw new UsageError(`--max-body-mb must be a number from 1 to ${MAX_BODY_MB}.`);
    }
    maxBodyBytes = Math.floor(mb * 1024 * 1024);
  }

  return {
    kind: "import",
    options: {
      file,
      url,
      key,
      campaign,
      dryRun: values["dry-run"] ?? false,
      initiateCall,
      useWorkflow,
      agent,
      disposition,
      onExisting,
      map: values.map ?? [],
      delimiter: values.delimiter === undefined ? undefined : delimiterOf(values.delimiter),
      sheet: values.sheet,
      rejects: values.rejects,
      maxBodyBytes,
      yes: values.yes ?? false,
      quiet: values.quiet ?? false,
      json: values.json ?? false,
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      key: { type: "string" },
      campaign: { type: "string" },
      "dry-run": { type: "boolean" },
      "initiate-call": { type: "boolean" },
      agent: { type: "string" },
      disposition: { type: "string" },
      "use-workflow": { type: "boolean" },
      "on-existing": { type: "string" },
      map: { type: "string", multiple: true },
      delimiter: { type: "string" },
      sheet: { type: "string" },
      rejects: { type: "string" },
      "max-body-mb": { type: "string" },
      yes: { type: "boolean", short: "y" },
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

/** --delimiter: one character, or "tab" / "\t" for a tab. */
function delimiterOf(text: string): string {
  if (text === "\t" || text === "\\t" || text.toLowerCase() === "tab") return "\t";
  if ([...text].length !== 1 || /[\r\n"]/.test(text)) {
    throw new UsageError(`--delimiter must be one character such as , ; | or tab (not "${text}").`);
  }
  return text;
}
