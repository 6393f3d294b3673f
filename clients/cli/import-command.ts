// `bulkcall import`: read the file, learn the campaign's type, check the columns, then send the
// parts one after another (the API has one writer per database, so parallel parts would only
// queue), and write the rejects file and the summary. Every check that can refuse the file runs
// before the first part is sent.
import { open, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { type ImportSummary, ImportTally } from "../sheet/answers";
import { ApiClient, ApiError } from "../sheet/api-client";
import { parseMapOption } from "../sheet/columns";
import { SheetInputError } from "../sheet/errors";
import { dedupeFieldOf } from "../sheet/fields";
import type { KeySource } from "../sheet/idempotency";
import { planImport } from "../sheet/plan";
import { REJECT_COLUMNS, rejectsTable, toCsv } from "../sheet/rejects";
import { bulkEnvelope, describePart, sendParts } from "../sheet/send";
import type { ImportOptions } from "./args";
import { BarProgress, LineProgress, type Progress, SilentProgress } from "./progress";
import { InputFileError, readInputFile } from "./read-file";

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  version: string;
}

/** Exit statuses (README, "Import a spreadsheet (CLI)"). */
export const EXIT = { ok: 0, notAllLoaded: 1, nothingSent: 2 } as const;

const n = (value: number) => value.toLocaleString("en-US");

/** The default rejects path: daily.csv → daily.rejects.csv, beside the input. */
function defaultRejectsPath(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.rejects.csv`);
}

export async function runImport(options: ImportOptions, io: Io): Promise<number> {
  const err = (line: string) => io.stderr.write(`${line}\n`);
  const fail = (message: string) => {
    err(`bulkcall: ${message}`);
    err("Nothing was sent.");
    return EXIT.nothingSent;
  };

  // 1. The file, and everything about it that needs no server.
  let input: Awaited<ReturnType<typeof readInputFile>>;
  let map: ReturnType<typeof parseMapOption>;
  try {
    map = parseMapOption(options.map);
    input = await readInputFile(options.file, { delimiter: options.delimiter, sheet: options.sheet });
  } catch (error) {
    if (error instanceof SheetInputError || error instanceof InputFileError) return fail(error.message);
    throw error;
  }
  const rejectsPath = resolve(options.rejects ?? defaultRejectsPath(options.file));
  if (rejectsPath === resolve(options.file)) {
    return fail(`--rejects names the input file itself; choose another path.`);
  }
  const existingRejects = await readFirstLine(rejectsPath);
  if (existingRejects !== undefined && !existingRejects.includes(REJECT_COLUMNS.row)) {
    return fail(
      `${rejectsPath} exists and was not written by bulkcall; move it or choose another path with --rejects.`,
    );
  }

  // 2. The campaign (its type decides the required columns) and the API's support for the options.
  const progress: Progress = options.quiet
    ? new SilentProgress()
    : io.stderr.isTTY
      ? new BarProgress(io.stderr)
      : new LineProgress(err);
  const api = new ApiClient({
    baseUrl: options.url,
    apiKey: options.key,
    onRetry: (message) => progress.note(message),
    userAgent: `bulkcall-cli/${io.version}`,
  });
  let campaignType: Awaited<ReturnType<ApiClient["campaignType"]>>;
  try {
    campaignType = await api.campaignType(options.campaign);
    for (const [wanted, field, what] of [
      [options.dryRun, "dryRun", "--dry-run"],
      [options.onExisting === "update", "onExisting", "--on-existing update"],
    ] as const) {
      if (wanted && !(await api.bulkRequestHasField(field))) {
        return fail(
          `The API at ${options.url} does not support ${what} (its bulk request has no "${field}" field), and would ignore it${field === "dryRun" ? " and store the rows" : ""}. Update the server first.`,
        );
      }
    }
  } catch (error) {
    if (error instanceof ApiError) return fail(error.message);
    throw error;
  }

  // 3. Columns, records and parts.
  let plan: ReturnType<typeof planImport>;
  try {
    plan = planImport(input.sheet, {
      campaignType,
      campaignId: options.campaign,
      map,
      delimiter: input.delimiter,
      delimiterGiven: options.delimiter !== undefined,
      maxBodyBytes: options.maxBodyBytes,
    });
  } catch (error) {
    if (error instanceof SheetInputError) return fail(error.message);
    throw error;
  }
  const sendable = plan.parts.reduce((sum, part) => sum + part.records.length, 0);

  if (!options.quiet) {
    const source =
      input.format === "xlsx"
        ? `sheet "${input.sheetName}"`
        : `delimiter "${input.delimiter === "\t" ? "tab" : input.delimiter}"`;
    err(
      `${input.path} (${source}): ${n(plan.rowsRead)} rows → campaign "${options.campaign}" (${campaignType}) at ${options.url}${options.dryRun ? " — dry run, nothing will be written" : ""}`,
    );
    const variables = plan.mapping.columns.flatMap((c) =>
      c.target.kind === "variable" ? [c.target.name] : [],
    );
    const fields = plan.mapping.columns.flatMap((c) =>
      c.target.kind === "field" ? [`${c.target.field}←"${c.header.trim()}"`] : [],
    );
    err(`  fields: ${fields.join(", ")}`);
    if (variables.length) err(`  agent variables: ${variables.map((v) => `"${v}"`).join(", ")}`);
    const ignored = plan.mapping.columns.filter(
      (c) => c.target.kind === "ignored" && c.target.reason === "rejects_column",
    );
    if (ignored.length)
      err(`  ignored (columns of an earlier rejects file): ${ignored.map((c) => c.header).join(", ")}`);
  }

  // 4. Confirmation before anything that places calls.
  if ((options.initiateCall || options.useWorkflow) && !options.dryRun && !options.yes && sendable > 0) {
    const action = options.initiateCall
      ? "call every customer that is added"
      : "start the campaign's workflow for every customer that is added";
    if (!io.stdin.isTTY) {
      return fail(`This import would ${action}. Pass --yes to confirm when not running in a terminal.`);
    }
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    const answer = await rl.question(
      `This will add up to ${n(sendable)} customers and ${action}. Continue? [y/N] `,
    );
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return fail("Not confirmed.");
  }

  // 5. Send.
  const envelope = bulkEnvelope({
    campaignId: options.campaign,
    initiateCall: options.initiateCall,
    useWorkflow: options.useWorkflow,
    agentId: options.agent,
    dispositionId: options.disposition,
    onExisting: options.onExisting,
    dryRun: options.dryRun,
  });
  const keySource: KeySource = {
    fileSha256: input.sha256,
    sheet: input.sheetName,
    delimiter: input.delimiter,
    mapping: plan.mapping,
    envelope,
  };

  const tally = new ImportTally(plan.rowsRead, plan.blankRows, dedupeFieldOf(campaignType));
  for (const reject of plan.refused)
    tally.rowProblem(reject.rowNumber, reject.code, reject.message, reject.field);
  const of = plan.parts.length;
  progress.start(plan.parts, sendable);
  await sendParts({
    parts: plan.parts,
    envelope,
    keySource,
    api,
    tally,
    onSending: (part, total) => progress.partSending(part, total),
    onDone: (report, total) => progress.partDone(report, total),
  });
  progress.stop();

  // 6. Rejects file and summary.
  const rejects = tally.rejectList();
  let rejectsNote: string;
  if (rejects.length > 0) {
    const table = rejectsTable(input.sheet, rejects);
    const delimiter = input.format === "csv" ? (input.delimiter ?? ",") : ",";
    await writeFile(
      rejectsPath,
      toCsv(table, { delimiter, bom: input.format === "xlsx" || input.bom === true }),
    );
    rejectsNote = rejectsPath;
  } else if (existingRejects !== undefined) {
    await rm(rejectsPath, { force: true });
    rejectsNote = `none (removed ${rejectsPath} of an earlier run)`;
  } else {
    rejectsNote = "none";
  }
  const summary = tally.summary();
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ ...summary, dryRun: options.dryRun, rejectsFile: rejects.length ? rejectsPath : null })}\n`,
    );
  } else {
    io.stdout.write(formatSummary(summary, { dryRun: options.dryRun, rejectsNote, of }));
  }
  const allLoaded =
    summary.rejected === 0 && summary.parts.every((p) => p.state === "added" || p.state === "replayed");
  return allLoaded ? EXIT.ok : EXIT.notAllLoaded;
}

/** The first line of a file (up to 4 KB), or undefined when there is no such file. */
async function readFirstLine(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const buffer = new Uint8Array(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = new TextDecoder().decode(buffer.subarray(0, bytesRead));
    const end = text.indexOf("\n");
    return end < 0 ? text : text.slice(0, end);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

function formatSummary(
  summary: ImportSummary,
  context: { dryRun: boolean; rejectsNote: string; of: number },
): string {
  const lines: string[] = [];
  const add = (label: string, value: string) => lines.push(`  ${label.padEnd(14)}${value}`);
  lines.push(context.dryRun ? "Dry run (nothing was written):" : "Summary:");
  add(
    "rows read",
    `${n(summary.rowsRead)}${summary.blankRows ? ` (${n(summary.blankRows)} blank rows skipped)` : ""}`,
  );
  // With --on-existing update the API counts the rows it stored: added, updated or unchanged.
  const refresh = summary.updated !== undefined || summary.unchanged !== undefined;
  const stored = context.dryRun ? (refresh ? "would store" : "would add") : refresh ? "stored" : "added";
  add(
    stored,
    `${n(summary.added)}${summary.addedEarlier ? ` (${n(summary.addedEarlier)} of them by an earlier run of this file)` : ""}`,
  );
  if (refresh) {
    const updated = summary.updated ?? 0;
    const unchanged = summary.unchanged ?? 0;
    add(
      "  of which",
      `added ${n(summary.added - updated - unchanged)}, updated ${n(updated)}, unchanged ${n(unchanged)}`,
    );
  }
  const codes = Object.entries(summary.rejectedByCode)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(", ");
  add("rejected", `${n(summary.rejected)}${codes ? ` (${codes})` : ""}`);
  const replayed = summary.parts.filter((p) => p.state === "replayed").length;
  const failed = summary.parts.filter((p) => p.state === "failed").length;
  const notSent = summary.parts.filter((p) => p.state === "not_sent").length;
  const sent = summary.parts.length - notSent;
  add(
    "requests",
    `${sent} of ${context.of}${replayed ? `, ${replayed} replayed from an earlier run` : ""}${failed ? `, ${failed} failed` : ""}${notSent ? `, ${notSent} not sent` : ""}`,
  );
  if (summary.calls)
    add(
      "calls",
      `${n(summary.calls.queued)} of ${n(summary.calls.requested)} handed to the call queue${summary.calls.failed ? ` (${n(summary.calls.failed)} re-sent later by the server)` : ""}`,
    );
  if (summary.workflowTriggered !== undefined)
    add("workflows", summary.workflowTriggered ? "started" : "not started for every part");
  add("rejects file", context.rejectsNote);
  for (const part of summary.parts) {
    if (part.state === "failed") lines.push(`  ${describePart(part, context.of)} failed: ${part.error}`);
  }
  if (failed || notSent) {
    lines.push(
      "Run the same command again to finish: finished parts are answered from the server's stored answer and no row is loaded twice.",
    );
  } else if (summary.rejected > 0 && !context.dryRun) {
    lines.push(
      "Fix the rows in the rejects file and import it as it is: its bulkcall_* columns are ignored.",
    );
  }
  return `${lines.join("\n")}\n`;
}
