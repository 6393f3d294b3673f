// The benchmark's data: deterministic (seeded), so every run and every case sees the same records.
import { normalizePhone } from "../src/domain/records/phone";

export type LoanRecord = Record<string, unknown>;

/** mulberry32: small, fast, and the same sequence everywhere. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Asha", "Ravi", "Priya", "Arjun", "Meera", "Kiran", "Sunita", "Vikram", "Lakshmi", "Imran"];
const LAST = ["Rao", "Sharma", "Iyer", "Khan", "Patel", "Das", "Reddy", "Nair", "Singh", "Gupta"];
const STATUS = ["bounced", "pending", "partial", "paid", "received"];
const LANGUAGE = [
  "hindi",
  "english",
  "tamil",
  "telugu",
  "marathi",
  "bengali",
  "hi",
  "en",
  "kannada",
  "gujarati",
];
const BRANCH = ["Pune", "Chennai", "Lucknow", "Kochi", "Indore", "Guwahati"];
const PRODUCT = ["two-wheeler", "gold", "personal", "msme"];

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * A valid Indian mobile number written one of the ways customer files carry them. Only numbers the
 * phone metadata accepts are used, so that "valid records" really are valid.
 */
function phone(random: () => number): string | number {
  for (;;) {
    const national = `${6 + Math.floor(random() * 4)}${String(Math.floor(random() * 1e9)).padStart(9, "0")}`;
    if (!normalizePhone(national, "IN").ok) continue;
    const style = random();
    if (style < 0.4) return national;
    if (style < 0.6) return `+91 ${national.slice(0, 5)} ${national.slice(5)}`;
    if (style < 0.75) return `0${national}`;
    if (style < 0.85) return Number(`91${national}`);
    if (style < 0.95) return `+91-${national}`;
    return `(+91) ${national.slice(0, 5)}-${national.slice(5)}`;
  }
}

/** `count` valid emi loan records carrying every documented field and two agent variables. */
export function loanRecords(count: number, seed = 20261127, keyPrefix = "LN"): LoanRecord[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const records: LoanRecord[] = [];
  for (let i = 0; i < count; i++) {
    const loanPeriod = 6 + Math.floor(random() * 55);
    const loanAmount = 50_000 + Math.floor(random() * 950_000);
    records.push({
      loan_id: `${keyPrefix}-${String(i).padStart(7, "0")}`,
      lead_id: `LD-${String(i).padStart(7, "0")}`,
      first_name: pick(FIRST),
      last_name: pick(LAST),
      phone_number: phone(random),
      loan_amount: loanAmount,
      emi_amount: Math.round((loanAmount / loanPeriod) * 1.12),
      loan_period: loanPeriod,
      current_emi: 1 + Math.floor(random() * loanPeriod),
      emi_due_date: `2026-${pad2(1 + Math.floor(random() * 12))}-${pad2(1 + Math.floor(random() * 28))}`,
      payment_status: pick(STATUS),
      language: pick(LANGUAGE),
      lead_date: `2025-${pad2(1 + Math.floor(random() * 12))}-${pad2(1 + Math.floor(random() * 28))}`,
      branch: pick(BRANCH),
      product: pick(PRODUCT),
    });
  }
  return records;
}

/**
 * The wide-record cases: one valid loan record plus `extraKeys` keys whose values are objects, each
 * an agent variable the rules refuse. Validation must stay linear in the number of keys (it once
 * kept a record's errors in a list searched for every key: 10,000 keys took 166 ms, 80,000 6.3 s).
 */
export function wideRecord(extraKeys: number): LoanRecord {
  const record: LoanRecord = { ...(loanRecords(1, 80_000, "WIDE")[0] as LoanRecord) };
  for (let i = 0; i < extraKeys; i++) record[`extra_${i}`] = { i };
  return record;
}

/** Keys the mixed case expects the campaign to hold already. */
export function seededKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `SEED-${String(i).padStart(5, "0")}`);
}

/**
 * The mixed case: the same records with 30 % broken in assorted ways and 10 % duplicates — half
 * repeating a key earlier in the request, half a key the campaign already holds (seededKeys).
 */
export function mixedRecords(valid: readonly LoanRecord[], seeded: readonly string[]): LoanRecord[] {
  const breakers: ((r: LoanRecord) => LoanRecord)[] = [
    (r) => ({ ...r, phone_number: "12345" }),
    (r) => ({ ...r, phone_number: "+91 98765 4321" }),
    (r) => {
      const { first_name: _, ...rest } = r;
      return rest;
    },
    (r) => ({ ...r, emi_due_date: "2026-02-30" }),
    (r) => ({ ...r, emi_amount: "12,500" }),
    (r) => ({ ...r, language: "klingon" }),
    (r) => ({ ...r, loan_id: "   " }),
    (r) => ({ ...r, current_emi: (r.loan_period as number) + 1 }),
    (r) => ({ ...r, note: { nested: true } }),
    (r) => ({ ...r, last_name: "x".repeat(101) }),
  ];
  let seededUsed = 0;
  return valid.map((record, i) => {
    const slot = i % 10;
    if (slot < 3)
      return (breakers[Math.floor(i / 10) % breakers.length] as (r: LoanRecord) => LoanRecord)(record);
    if (slot === 3) {
      // Every other duplicate repeats the key of record i - 4 (a valid one); the rest hit stored keys.
      if (Math.floor(i / 10) % 2 === 1) return { ...record, loan_id: valid[i - 4]?.loan_id ?? null };
      return { ...record, loan_id: seeded[seededUsed++ % seeded.length] ?? null };
    }
    return record;
  });
}

/**
 * The refresh case's daily file over a campaign that holds `records[0..5000)`: the first 4,000 come
 * back changed (the due date a month later; every fourth one now paid), the next 1,000 identical,
 * and `records[5000..10000)` are new. Returns the file and how many customers it hands to the call
 * queue (the new ones, and the changed ones that are not paid or received afterwards).
 */
export function refreshRecords(records: readonly LoanRecord[]): { file: LoanRecord[]; handedOver: number } {
  let handedOver = 5_000;
  const changed = records.slice(0, 4_000).map((r, i) => {
    const status = i % 4 === 0 ? "paid" : (r.payment_status as string);
    if (status !== "paid" && status !== "received") handedOver++;
    return { ...r, emi_due_date: nextMonth(r.emi_due_date as string), payment_status: status };
  });
  return { file: [...changed, ...records.slice(4_000, 10_000)], handedOver };
}

/** The same day a month later (days 1-28 only, as loanRecords writes them). */
function nextMonth(date: string): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const next = month === 12 ? [year + 1, 1] : [year, month + 1];
  return `${next[0]}-${pad2(next[1] as number)}-${pad2(day)}`;
}
