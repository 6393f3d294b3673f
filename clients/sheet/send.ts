// Sending an import's parts, one after another, for every program that imports a file: the API
// writes through one database writer, so parallel parts would only queue. A part that fails for good
// stops the import; the parts after it are reported not sent, so that every row of the file ends up
// either stored or in the rejects file with the reason.

import type { BulkAnswer, ImportTally, PartReport } from "./answers";
import type { BulkResult } from "./api-client";
import { ApiError } from "./api-client";
import { type KeySource, partIdempotencyKey } from "./idempotency";
import type { Part } from "./parts";

/** What one import asks of the API besides its records (api-contract, POST /api/v1/customers/add/bulk). */
export interface EnvelopeOptions {
  campaignId: string;
  initiateCall?: boolean;
  useWorkflow?: boolean;
  /** Both or neither (initiateCall needs both). */
  agentId?: string;
  dispositionId?: string;
  onExisting?: "skip" | "update";
  dryRun?: boolean;
}

/** The request body without `records`; fields at their default are left out. */
export function bulkEnvelope(options: EnvelopeOptions): Record<string, unknown> {
  const envelope: Record<string, unknown> = { campaignId: options.campaignId };
  if (options.initiateCall) envelope.initiateCall = true;
  if (options.useWorkflow) envelope.useWorkflow = true;
  if (options.agentId && options.dispositionId) {
    envelope.callConfig = { agentId: options.agentId, dispositionId: options.dispositionId };
  }
  if (options.onExisting === "update") envelope.onExisting = "update";
  if (options.dryRun) envelope.dryRun = true;
  return envelope;
}

const n = (value: number) => value.toLocaleString("en-US");

/** "part 2/3 (rows 10,002–20,001, 10,000 records)". */
export function describePart(
  report: Pick<PartReport, "number" | "firstRow" | "lastRow" | "rows">,
  of: number,
): string {
  return `part ${report.number}/${of} (rows ${n(report.firstRow)}–${n(report.lastRow)}, ${n(report.rows)} records)`;
}

export interface PartSender {
  addBulk(body: string, idempotencyKey: string | undefined, label: string): Promise<BulkResult>;
}

export interface SendOptions {
  parts: readonly Part[];
  /** From bulkEnvelope. */
  envelope: Record<string, unknown>;
  /** What the parts' Idempotency-Keys are derived from (its envelope must be `envelope`). */
  keySource: KeySource;
  api: PartSender;
  tally: ImportTally;
  onSending?: (part: Part, of: number) => void;
  onDone?: (report: PartReport, of: number) => void;
  /** Every answer as the API gave it (a dry run's `preview`, the importId of each part). */
  onAnswer?: (part: Part, answer: BulkAnswer) => void;
}

/**
 * Sends every part and records each outcome in `tally`. A dry run sends no Idempotency-Key: it
 * writes nothing, so there is nothing to de-duplicate.
 *
 * @returns why the import stopped early (a part failed for good), or undefined when every part was answered.
 * @throws whatever `api` throws other than ApiError (a bug, not an answer).
 */
export async function sendParts(options: SendOptions): Promise<string | undefined> {
  const { parts, envelope, keySource, api, tally } = options;
  const of = parts.length;
  const dryRun = envelope.dryRun === true;
  let stopped: string | undefined;
  for (const part of parts) {
    if (stopped) {
      tally.notSent(part, stopped);
      continue;
    }
    options.onSending?.(part, of);
    const label = describePart(
      {
        number: part.number,
        rows: part.rows.length,
        firstRow: part.rows[0] ?? 0,
        lastRow: part.rows.at(-1) ?? 0,
      },
      of,
    );
    const key = dryRun ? undefined : await partIdempotencyKey(keySource, part);
    const body = JSON.stringify({ ...envelope, records: part.records });
    try {
      const result = await api.addBulk(body, key, label);
      tally.answered(part, result.answer, result.replayed, result.status);
      options.onAnswer?.(part, result.answer);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      tally.failed(part, error.message, error.status, error.maybeStored);
      stopped = `the import stopped at part ${part.number} (${error.status ?? "no answer"}).`;
    }
    const report = tally.summary().parts.find((p) => p.number === part.number);
    if (report) options.onDone?.(report, of);
  }
  return stopped;
}
