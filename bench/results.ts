// The shape of bench/results.json and the one place its table is written, so that the printed
// table, results.json and the README section are the same text.

export type RatioName =
  | "bulkcall_over_floor_10k"
  | "bulkcall_over_floor_1k"
  | "naive_over_bulkcall_10k"
  | "row_by_row_over_bulkcall_10k"
  | "mixed_over_bulkcall_10k"
  | "growth_50th_over_1st"
  | "refresh_over_bulkcall_10k"
  | "concurrent_over_single_throughput";

export interface RatioTarget {
  op: "<=" | ">=";
  value: number;
}

/** The issue's targets; concurrency has none, it is reported for information. */
export const RATIO_TARGETS: Partial<Record<RatioName, RatioTarget>> = {
  bulkcall_over_floor_10k: { op: "<=", value: 1.5 },
  bulkcall_over_floor_1k: { op: "<=", value: 2 },
  naive_over_bulkcall_10k: { op: ">=", value: 1.2 },
  row_by_row_over_bulkcall_10k: { op: ">=", value: 2 },
  mixed_over_bulkcall_10k: { op: "<=", value: 1.2 },
  growth_50th_over_1st: { op: "<=", value: 1.3 },
  refresh_over_bulkcall_10k: { op: "<=", value: 1.3 },
};

export interface CaseResult {
  records: number;
  /** Back-to-back requests whose mean is one sample. */
  requests_per_sample: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  records_per_s: number;
  samples_ms: number[];
}

/** What the run inside workerd reports. */
export interface BenchResults {
  warmup: number;
  repetitions: number;
  cases: Record<string, CaseResult>;
  ratios: Record<RatioName, number>;
  targets: Record<string, RatioTarget & { met: boolean }>;
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
}

/** bench/results.json */
export interface ResultsFile extends BenchResults {
  measured_at: string;
  machine: Machine;
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
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function renderTable(r: BenchResults, machine: Machine, measuredAt: string): string {
  const lines = [
    "| case | records | median ms | min ms | max ms | records/s | what it is |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  const averaged = new Set<number>();
  for (const [name, c] of Object.entries(r.cases)) {
    const mark = c.requests_per_sample > 1 ? "¹" : "";
    if (mark) averaged.add(c.requests_per_sample);
    lines.push(
      `| \`${name}\`${mark} | ${fmt(c.records)} | ${fmt(c.median_ms, 1)} | ${fmt(c.min_ms, 1)} | ${fmt(c.max_ms, 1)} | ${fmt(c.records_per_s)} | ${CASE_NOTES[name] ?? ""} |`,
    );
  }
  if (averaged.size > 0) {
    lines.push(
      "",
      `¹ Each sample is the mean of ${[...averaged].join(" or ")} back-to-back requests: the clock inside workerd moves in whole milliseconds.`,
    );
  }
  lines.push("", "| ratio (of medians) | measured | target | |", "|---|---:|---:|---|");
  for (const [name, value] of Object.entries(r.ratios)) {
    const target = r.targets[name];
    const verdict = target ? (target.met ? "met" : "**missed**") : "no target";
    lines.push(
      `| \`${name}\` | ${value.toFixed(2)} | ${target ? `${target.op} ${target.value}` : ""} | ${verdict} |`,
    );
  }
  lines.push(
    "",
    `Measured ${measuredAt.slice(0, 10)} inside workerd ${machine.workerd} on local D1 (wrangler ${machine.wrangler}), ` +
      `${r.repetitions} samples per case after ${r.warmup} warm-up rounds, cases interleaved in a shuffled order; ` +
      `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB RAM, ${machine.os}, Node ${machine.node}; ` +
      `load average at the end ${machine.load_average.map((l) => l.toFixed(2)).join(", ")}. ` +
      "Reproduce with `npm run bench`; see bench/README.md.",
  );
  return lines.join("\n");
}
