// The shape of bench/results.json and the one place its tables are written, so that the printed
// tables, results.json and the README section are the same text.

export type RatioName =
  | "bulkcall_over_floor_10k"
  | "bulkcall_over_floor_1k"
  | "bulkcall_over_floor_10k_rtt10"
  | "bulkcall_over_floor_1k_rtt10"
  | "bulkcall_over_floor_10k_rtt30"
  | "bulkcall_over_floor_1k_rtt30"
  | "naive_over_bulkcall_10k"
  | "row_by_row_over_bulkcall_10k"
  | "mixed_over_bulkcall_10k"
  | "growth_50th_over_1st"
  | "refresh_over_bulkcall_10k"
  | "wide_record_80k_over_10k"
  | "concurrent_over_single_throughput";

export interface RatioTarget {
  op: "<=" | ">=";
  value: number;
}

/** The targets; concurrency and the 10 ms round trip have none, they are reported for information. */
export const RATIO_TARGETS: Partial<Record<RatioName, RatioTarget>> = {
  bulkcall_over_floor_10k: { op: "<=", value: 1.3 },
  bulkcall_over_floor_1k: { op: "<=", value: 1.6 },
  bulkcall_over_floor_10k_rtt30: { op: "<=", value: 1.5 },
  bulkcall_over_floor_1k_rtt30: { op: "<=", value: 2.5 },
  naive_over_bulkcall_10k: { op: ">=", value: 1.2 },
  row_by_row_over_bulkcall_10k: { op: ">=", value: 2 },
  mixed_over_bulkcall_10k: { op: "<=", value: 1.0 },
  growth_50th_over_1st: { op: "<=", value: 1.3 },
  refresh_over_bulkcall_10k: { op: "<=", value: 1.3 },
  // 8 times the keys: linear work gives at most 8 (less, with the request's fixed costs), quadratic 64.
  wide_record_80k_over_10k: { op: "<=", value: 12 },
};

/** D1 statements per dispatched call in the fan-out: the consumer's work batched per hundred calls. */
export const FANOUT_STATEMENTS_PER_CALL_TARGET = 0.05;
/** Peak JS heap of one request, in MiB: room under the 128 MB isolate limit for everything else. */
export const HEAP_TARGET_MIB = 96;
/**
 * V8 old generation, in MiB, of the isolate the heap target is measured in: well under the
 * production isolate's 128 MB, so a request that completes there never needs more live heap.
 */
export const HEAP_CAP_MIB = 80;
/** Workflows instances the platform lets one workflow create per second. */
export const WORKFLOW_CREATES_PER_S_LIMIT = 100;

export const met = (target: RatioTarget, value: number) =>
  target.op === "<=" ? value <= target.value : value >= target.value;

export interface CaseResult {
  records: number;
  /** Back-to-back requests whose mean is one sample. */
  requests_per_sample: number;
  /** Milliseconds per call to D1 added by the simulated distance; 0 for local D1 as it is. */
  d1_rtt_ms: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  records_per_s: number;
  /** One per measured round, in round order (so per-round ratios can be recomputed). */
  samples_ms: number[];
}

/** How a ratio moved from round to round: the ratio of each round's two samples. */
export interface RatioSpread {
  min: number;
  p25: number;
  p75: number;
  max: number;
}

/** D1 calls of one request (see test/d1-meter.ts). */
export interface RoundTripResult {
  waves: number;
  calls: number;
  statements: number;
}

/** What the ingest phase reports. */
export interface IngestResults {
  warmup: number;
  repetitions: number;
  cases: Record<string, CaseResult>;
  /** The ratio of the two cases' medians. */
  ratios: Record<RatioName, number>;
  ratio_spread: Record<RatioName, RatioSpread>;
  targets: Record<string, RatioTarget & { met: boolean }>;
  round_trips: Record<string, RoundTripResult>;
}

export interface FanoutResult {
  customers: number;
  /** From the bulk answer to the first and to the last call dispatched (or run started). */
  first_ms: number;
  last_ms: number;
  per_s: number;
  /** D1 calls and statements of the queue consumers over the whole fan-out. */
  d1_calls: number;
  d1_statements: number;
  statements_per_item: number;
}

/** What the fan-out phase reports. */
export interface FanoutResults {
  fanout_10k: FanoutResult & { target_statements_per_call: number; met: boolean };
  /** Fewer customers than the calls: see bench/fanout.bench-run.ts WORKFLOW_CUSTOMERS. */
  workflow_start: FanoutResult & { platform_limit_per_s: number; ratio_to_limit: number };
}

export interface HeapCase {
  records: number;
  body_mib: number;
  status: number;
  /** Every run answered and stored what it should with V8's old generation capped at cap_mib. */
  completed_under_cap: boolean;
  /** Heap in use after a full garbage collection, just before the request (capped isolate). */
  baseline_mib: number;
  /**
   * Highest heap in use sampled while the request ran in the capped isolate, garbage included: the
   * figure the target is for; null when a run did not complete.
   */
  peak_mib: number | null;
  /** ArrayBuffer memory outside the heap when the peak was measured. */
  backing_store_mib: number;
  /** Heap samples taken during the request. */
  samples: number;
  /** peak_mib of each completed run. */
  runs_mib: number[];
  /** The same requests in an isolate with no cap: mostly garbage V8 had no reason to collect yet. */
  uncapped_peak_mib: number;
  uncapped_runs_mib: number[];
}

/** What the heap phase reports. */
export interface HeapResults {
  runs: number;
  cases: Record<string, HeapCase>;
  target_mib: number;
  /** V8 old generation cap (MiB) of the isolate peak_mib is measured in. */
  cap_mib: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  os: string;
  node: string;
  workerd: string;
  wrangler: string;
  /** 1, 5 and 15-minute load averages when the run ended: other work on the machine skews timings. */
  load_average: number[];
  /** The same when the run started: `npm run bench:readme` refuses a run that started on a busy machine. */
  load_average_start: number[];
}

/** bench/results.json */
export interface ResultsFile {
  measured_at: string;
  machine: Machine;
  ingest: IngestResults;
  fanout: FanoutResults;
  heap: HeapResults;
  /** The markdown the README's performance section is made of. */
  table_markdown: string;
}

const CASE_NOTES: Record<string, string> = {
  floor_10k: "storage alone: one json_each INSERT",
  floor_1k: "storage alone: one json_each INSERT",
  bulkcall_10k: "the real endpoint, initiateCall",
  bulkcall_1k: "the real endpoint, initiateCall",
  naive_10k: "zod on the array + 100-parameter VALUES batch",
  naive_1k: "zod on the array + 100-parameter VALUES batch",
  row_by_row_10k: "one INSERT per record in one batch",
  row_by_row_1k: "one INSERT per record in one batch",
  mixed_10k: "real endpoint, 30 % invalid, 10 % duplicates",
  growth_1st: "1st request into an empty campaign",
  growth_50th: "50th request (490,000 stored)",
  refresh_10k: "daily file, onExisting update: 5,000 new, 4,000 changed, 1,000 identical",
  concurrent_4x10k: "4 clients x 10,000 at once (wall time)",
  wide_record_10k: "one record, 10,000 extra keys with object values (refused)",
  wide_record_80k: "one record, 80,000 extra keys with object values (refused)",
};

const ROUND_TRIP_NOTES: Record<string, string> = {
  floor_10k: "the floor",
  bulkcall_10k: "`bulkcall_10k`: initiateCall, no Idempotency-Key",
  bulkcall_1k: "`bulkcall_1k`: the same, 1,000 records",
  bulk_10k_key: "10,000 records, Idempotency-Key",
  bulk_10k_key_initiatecall: "10,000 records, Idempotency-Key, initiateCall",
  consumer_500: "CALLS consumer, one message (500 customers)",
};

const HEAP_NOTES: Record<string, string> = {
  records_10k_vars_50: "10,000 records x 50 variables",
  records_at_limit_vars_50_1000: "50 variables of 1,000 characters, body at the size limit",
  invalid_10k: "10,000 invalid records, 10 reported field errors each",
  records_unique_names_vars_50: "50 variables named differently in every record, body at the size limit",
  records_unique_names_two_byte: "the same, one character above U+00FF in the first record",
  records_unique_names_all_two_byte: "the same, a character above U+00FF in every variable name",
  records_at_limit_two_byte: "50 variables of 1,000 characters, each ending above U+00FF",
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function caseNote(name: string, c: CaseResult): string {
  const base = name.replace(/_rtt\d+$/, "");
  const note = CASE_NOTES[base] ?? "";
  return c.d1_rtt_ms > 0 ? `${note}; every D1 call ${c.d1_rtt_ms} ms late` : note;
}

export function renderTable(r: ResultsFile): string {
  const { ingest, fanout, heap, machine } = r;
  const lines = [
    "| case | records | median ms | min ms | max ms | records/s | what it is |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  const averaged = new Set<number>();
  for (const [name, c] of Object.entries(ingest.cases)) {
    const mark = c.requests_per_sample > 1 ? "¹" : "";
    if (mark) averaged.add(c.requests_per_sample);
    lines.push(
      `| \`${name}\`${mark} | ${fmt(c.records)} | ${fmt(c.median_ms, 1)} | ${fmt(c.min_ms, 1)} | ${fmt(c.max_ms, 1)} | ${fmt(c.records_per_s)} | ${caseNote(name, c)} |`,
    );
  }
  if (averaged.size > 0) {
    lines.push(
      "",
      `¹ Each sample is the mean of ${[...averaged].join(" or ")} back-to-back requests: the clock inside workerd moves in whole milliseconds.`,
    );
  }
  lines.push(
    "",
    "| ratio | of medians | per round, middle half | per round, min–max | target | |",
    "|---|---:|---:|---:|---:|---|",
  );
  for (const [name, value] of Object.entries(ingest.ratios)) {
    const target = ingest.targets[name];
    const spread = ingest.ratio_spread[name as RatioName];
    const verdict = target ? (target.met ? "met" : "**missed**") : "no target";
    lines.push(
      `| \`${name}\` | ${value.toFixed(2)} | ${spread.p25.toFixed(2)}–${spread.p75.toFixed(2)} | ${spread.min.toFixed(2)}–${spread.max.toFixed(2)} | ${target ? `${target.op} ${target.value}` : ""} | ${verdict} |`,
    );
  }

  lines.push("", "| D1 round trips | sequential waves | calls | statements |", "|---|---:|---:|---:|");
  for (const [name, t] of Object.entries(ingest.round_trips)) {
    lines.push(`| ${ROUND_TRIP_NOTES[name] ?? name} | ${t.waves} | ${t.calls} | ${t.statements} |`);
  }

  const f = fanout.fanout_10k;
  const w = fanout.workflow_start;
  lines.push(
    "",
    "| fan-out | customers | first after | last after | per second | D1 statements per item | target | |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    `| \`fanout_10k\`: calls dispatched (\`log\` dialer) | ${fmt(f.customers)} | ${fmt(f.first_ms)} ms | ${fmt(f.last_ms)} ms | ${fmt(f.per_s)} | ${f.statements_per_item.toFixed(3)} | <= ${f.target_statements_per_call} | ${f.met ? "met" : "**missed**"} |`,
    `| \`workflow_start\`: Workflows instances created | ${fmt(w.customers)} | ${fmt(w.first_ms)} ms | ${fmt(w.last_ms)} ms | ${fmt(w.per_s)} (${w.ratio_to_limit.toFixed(2)} x the platform's ${w.platform_limit_per_s}/s) | ${w.statements_per_item.toFixed(3)} | | |`,
  );

  lines.push(
    "",
    `| heap: request | records | body MiB | completes with ${heap.cap_mib} MiB old generation | peak JS heap MiB there | before the request | target | peak with no cap (garbage included) | |`,
    "|---|---:|---:|---|---:|---:|---:|---:|---|",
  );
  for (const [name, h] of Object.entries(heap.cases)) {
    const ok = h.completed_under_cap && h.peak_mib !== null && h.peak_mib < heap.target_mib;
    lines.push(
      `| \`${name}\`: ${HEAP_NOTES[name] ?? ""} | ${fmt(h.records)} | ${h.body_mib.toFixed(1)} | ${h.completed_under_cap ? "yes" : "**no**"} | ${h.peak_mib === null ? "–" : h.peak_mib.toFixed(1)} | ${h.baseline_mib.toFixed(1)} | < ${heap.target_mib} | ${h.uncapped_peak_mib.toFixed(1)} | ${ok ? "met" : "**missed**"} |`,
    );
  }

  lines.push(
    "",
    `Measured ${r.measured_at.slice(0, 10)} inside workerd ${machine.workerd} on local D1 (wrangler ${machine.wrangler}), ` +
      `${ingest.repetitions} samples per case after ${ingest.warmup} warm-up rounds, cases interleaved in a shuffled order; ` +
      `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB RAM, ${machine.os}, Node ${machine.node}; ` +
      `load average at the start ${machine.load_average_start.map((l) => l.toFixed(2)).join(", ")}, ` +
      `at the end ${machine.load_average.map((l) => l.toFixed(2)).join(", ")}. ` +
      "Reproduce with `npm run bench`; see bench/README.md.",
  );
  return lines.join("\n");
}
