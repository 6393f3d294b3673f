// Splits the records of a file into requests: at most 10,000 records (the API's per-request
// maximum) and at most `maxBodyBytes` of JSON each. The split depends only on the records, in file
// order, and the two limits, so a rerun of the same file with the same options cuts the same parts,
// which is what lets each part keep its Idempotency-Key across runs.
import { MAX_RECORDS_PER_REQUEST } from "./fields";
import type { ApiRecord } from "./records";

/**
 * Default body size of one request. The API accepts 20 MB; 10 MiB leaves room for a deployment
 * configured lower (MAX_BODY_BYTES) and for proxies in between, and 10,000 ordinary records
 * (~2–4 MB) never reach it, so it only splits files with unusually wide rows.
 */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Bytes kept for the envelope around the records (campaign id, call config, flags: < 1 KB). */
const ENVELOPE_RESERVE_BYTES = 4 * 1024;

export interface NumberedRecord {
  rowNumber: number;
  record: ApiRecord;
}

export interface Part {
  /** 1-based. */
  number: number;
  /** Source row number of each record, in the same order (records[i] came from rows[i]). */
  rows: number[];
  records: ApiRecord[];
  /** UTF-8 bytes of the records' JSON array. */
  bytes: number;
}

export interface Split {
  parts: Part[];
  /** Records that alone exceed the body limit: they can never be sent. */
  tooLarge: NumberedRecord[];
}

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

export function splitIntoParts(
  items: readonly NumberedRecord[],
  limits: { maxRecords?: number; maxBodyBytes?: number } = {},
): Split {
  const maxRecords = Math.min(limits.maxRecords ?? MAX_RECORDS_PER_REQUEST, MAX_RECORDS_PER_REQUEST);
  const budget = (limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) - ENVELOPE_RESERVE_BYTES;
  const parts: Part[] = [];
  const tooLarge: NumberedRecord[] = [];
  let current: Part | undefined;
  for (const item of items) {
    // "[" + records joined by "," + "]": each record costs its JSON plus one byte.
    const size = utf8Length(JSON.stringify(item.record)) + 1;
    if (size + 1 > budget) {
      tooLarge.push(item);
      continue;
    }
    if (!current || current.records.length >= maxRecords || current.bytes + size > budget) {
      current = { number: parts.length + 1, rows: [], records: [], bytes: 1 };
      parts.push(current);
    }
    current.rows.push(item.rowNumber);
    current.records.push(item.record);
    current.bytes += size;
  }
  return { parts, tooLarge };
}
