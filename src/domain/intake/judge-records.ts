// Judges every record of a request on its own: the record rules of the campaign's type, then
// duplicates within the request. Valid records come out encoded for storage, ready to chunk.
import type { EligibilityFacts } from "../calls/eligibility";
import { clip } from "../errors";
import type { Campaign } from "../model/campaign";
import type { CustomersRepository } from "../ports/customers-repository";
import { dedupeFieldOf, type FieldError } from "../records/record-rules";
import { keyOfRecord, validateRecord } from "../records/validate-record";
import type { RecordError } from "./results";

/**
 * Field errors reported per record. A record may carry up to 50 extra keys, each wrong, and a
 * 10,000-record answer listing all of them would be tens of megabytes; the message gives the count.
 */
export const MAX_FIELD_ERRORS = 10;

/**
 * Bytes one record's error may take in an answer, as JSON (UTF-8, escapes included): the fields
 * that would pass it are counted in the message like those past MAX_FIELD_ERRORS. 10,000 errors of
 * this size keep a bulk answer under 22.1 MB (README, Limits). The first field is always shown, and
 * fits: the longest first-field error (a 128-character key and a clipped extra key's name, both of
 * characters JSON escapes as \u00XX) is 2,155 bytes (judge-records.test.ts).
 */
export const MAX_ERROR_BYTES = 2_200;

/** Characters of a field's name an error shows: a spreadsheet header, or the start of a longer key. */
const FIELD_NAME_SHOWN = 100;

/** A record that passed every rule: its position, its key and its encoded row. */
export interface ValidRecord {
  index: number;
  key: string;
  /**
   * The row to store (CustomersRepository.encodeRow). storeChunks hands it to its chunk's write and
   * then sets it to "": a 20 MB import must not hold every row until its last chunk answers.
   */
  encoded: string;
  /** UTF-8 length of `encoded`. */
  bytes: number;
  /** The two facts the dial-time judgement reads (eligibility.ts), as the record sets them. */
  facts: EligibilityFacts;
}

export interface Judgement {
  valid: ValidRecord[];
  /** invalid_record and duplicate_in_request errors, in record order. */
  errors: RecordError[];
}

/**
 * Judges `records` in order and consumes them: each slot is set to undefined once its record is
 * judged, so that as the encoded rows of a 20 MB import grow, its parsed records (which can take
 * more room than the body: 40 MiB when no two records share a property name) shrink.
 */
export function judgeRecords(
  deps: { customers: Pick<CustomersRepository, "encodeRow"> },
  campaign: Pick<Campaign, "campaignType" | "defaultCountry">,
  records: unknown[],
): Judgement {
  const dedupeField = dedupeFieldOf(campaign.campaignType);
  const errors: RecordError[] = [];
  const valid: ValidRecord[] = [];
  const firstIndexOfKey = new Map<string, number>();

  for (let index = 0; index < records.length; index++) {
    const raw = records[index];
    records[index] = undefined;
    const verdict = validateRecord(raw, campaign.campaignType, campaign.defaultCountry);
    if (!verdict.ok) {
      errors.push(invalidRecordError(index, raw, dedupeField, verdict.fields));
      continue;
    }
    const key = verdict.record[dedupeField] as string;
    const first = firstIndexOfKey.get(key);
    if (first !== undefined) {
      errors.push({
        index,
        key,
        code: "duplicate_in_request",
        message: `${dedupeField} "${key}" already appears at index ${first} of this request`,
      });
      continue;
    }
    firstIndexOfKey.set(key, index);
    const encoded = deps.customers.encodeRow({ dedupeKey: key, record: verdict.record });
    const facts = {
      paymentStatus: verdict.record.payment_status ?? null,
      phoneNumber: verdict.record.phone_number,
    };
    valid.push({ index, key, encoded, bytes: utf8Length(encoded), facts });
  }
  return { valid, errors };
}

/**
 * The invalid_record error of a record: its key when it has a valid one, the first fields at fault
 * (at most MAX_FIELD_ERRORS, and as many as fit in MAX_ERROR_BYTES) with their names clipped, and a
 * message naming them and counting the rest. Shared by the bulk and single add and the update.
 */
export function invalidRecordError(
  index: number,
  raw: unknown,
  dedupeField: "loan_id" | "lead_id",
  fields: readonly FieldError[],
): RecordError & { fields: FieldError[] } {
  const key = keyOfRecord(raw, dedupeField);
  const lead = "Record failed validation: ";
  // The error without fields, its message reserving room for the largest possible "and N more".
  let room =
    MAX_ERROR_BYTES -
    jsonBytes({
      index,
      ...(key === undefined ? {} : { key }),
      code: "invalid_record",
      message: `${lead} and ${fields.length} more`,
      fields: [],
    });
  const shown: FieldError[] = [];
  for (const f of fields.slice(0, MAX_FIELD_ERRORS)) {
    const entry = { field: clip(f.field, FIELD_NAME_SHOWN), message: f.message };
    // The entry in the list and its name in the message, each with its separator after the first.
    const separators = shown.length > 0 ? 3 : 0;
    const cost = jsonBytes(entry) + jsonBytes(entry.field) - 2 + separators;
    if (shown.length > 0 && cost > room) break;
    room -= cost;
    shown.push(entry);
  }
  const more = fields.length - shown.length;
  return {
    index,
    ...(key === undefined ? {} : { key }),
    code: "invalid_record",
    message: `${lead}${shown.map((f) => f.field).join(", ")}${more > 0 ? ` and ${more} more` : ""}`,
    fields: shown,
  };
}

/** Bytes of a value as JSON in UTF-8, as the answer carries it. */
function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 length of a string; the common all-ASCII row is answered without walking it by hand. */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}
