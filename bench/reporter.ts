// Node side of `npm run bench`: receives what the run inside workerd measured (the test's meta),
// adds what the machine is, writes bench/results.json and prints the table.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter, TestCase } from "vitest/node";
import { type BenchResults, type Machine, type ResultsFile, renderTable } from "./results";

const root = path.resolve(import.meta.dirname, "..");

function packageVersion(name: string): string {
  const file = path.join(root, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

function machine(): Machine {
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
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export default class BenchReporter implements Reporter {
  onTestCaseResult(testCase: TestCase): void {
    const bench = (testCase.meta() as { bench?: BenchResults }).bench;
    if (!bench) return;
    const measuredAt = new Date().toISOString();
    const m = machine();
    const file: ResultsFile = {
      measured_at: measuredAt,
      machine: m,
      ...bench,
      table_markdown: renderTable(bench, m, measuredAt),
    };
    const target = path.join(root, "bench", "results.json");
    writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
    // In the project's own JSON style, so that `npm test` (biome check) stays green after a run.
    spawnSync(path.join(root, "node_modules", ".bin", "biome"), ["format", "--write", target], {
      stdio: "ignore",
    });
    process.stdout.write(`\n${file.table_markdown}\n\nWrote ${path.relative(process.cwd(), target)}\n`);
  }
}
