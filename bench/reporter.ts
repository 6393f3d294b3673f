// Node side of `npm run bench`: gathers what the three phases measured (their tests' meta), adds
// what the machine is and how busy it was, writes bench/results.json and prints the tables. A run
// that did not complete all three phases (a failure, or `--project` picking one) prints what it has
// and leaves results.json alone, so that file is always one whole run.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";
import type { FanoutResults, HeapResults, IngestResults, Machine, ResultsFile } from "./results";
import { renderTable } from "./results";

const root = path.resolve(import.meta.dirname, "..");

function packageVersion(name: string): string {
  const file = path.join(root, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

function machine(loadAtStart: number[]): Machine {
  let cpu = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
    const mhz = /^cpu MHz\s*:\s*([\d.]+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
    if (model) cpu = mhz ? `${model.trim()} @ ${Math.round(Number(mhz))} MHz` : model.trim();
  } catch {
    // Not Linux: os.cpus() already named it.
  }
  return {
    cpu,
    cores: os.cpus().length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    workerd: packageVersion("workerd"),
    wrangler: packageVersion("wrangler"),
    load_average: loadAverage(),
    load_average_start: loadAtStart,
  };
}

interface PhaseMeta {
  bench?: IngestResults;
  fanout?: FanoutResults;
  heap?: HeapResults;
}

export default class BenchReporter implements Reporter {
  private loadAtStart = loadAverage();
  private phases: PhaseMeta = {};

  onInit(): void {
    this.loadAtStart = loadAverage();
    const cores = os.cpus().length;
    if ((this.loadAtStart[0] ?? 0) > cores) {
      process.stdout.write(
        `\n[bench] The 1-minute load average is ${this.loadAtStart[0]} on ${cores} cores: other work is running, ` +
          "so the timings will be noisy, and `npm run bench:readme` will refuse this run.\n\n",
      );
    }
  }

  onTestCaseResult(testCase: TestCase): void {
    const meta = testCase.meta() as PhaseMeta;
    if (meta.bench) this.phases.bench = meta.bench;
    if (meta.fanout) this.phases.fanout = meta.fanout;
    if (meta.heap) this.phases.heap = meta.heap;
  }

  onTestRunEnd(_modules: readonly TestModule[], errors: readonly unknown[]): void {
    const { bench, fanout, heap } = this.phases;
    const target = path.join(root, "bench", "results.json");
    if (!bench || !fanout || !heap || errors.length > 0) {
      const have = Object.keys(this.phases).join(", ") || "nothing";
      process.stdout.write(
        `\n[bench] Measured: ${have}. Not every phase completed, so ${path.relative(process.cwd(), target)} was left as it was.\n` +
          `${JSON.stringify(this.phases, (k, v) => (k === "samples_ms" ? undefined : v), 2)}\n`,
      );
      return;
    }
    const file: ResultsFile = {
      measured_at: new Date().toISOString(),
      machine: machine(this.loadAtStart),
      ingest: bench,
      fanout,
      heap,
      table_markdown: "",
    };
    file.table_markdown = renderTable(file);
    writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
    // In the project's own JSON style, so that `npm test` (biome check) stays green after a run.
    spawnSync(path.join(root, "node_modules", ".bin", "biome"), ["format", "--write", target], {
      stdio: "ignore",
    });
    process.stdout.write(`\n${file.table_markdown}\n\nWrote ${path.relative(process.cwd(), target)}\n`);
  }
}
