// `npm run bench:readme`: puts the table of bench/results.json (written by `npm run bench`) into
// README.md between <!-- bench:start --> and <!-- bench:end -->, and touches nothing else. It refuses a
// run that started while the machine was busy (1-minute load average above one per core).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

const results = JSON.parse(readFileSync(path.join(root, "bench", "results.json"), "utf8"));
if (typeof results.table_markdown !== "string") {
  throw new Error("bench/results.json has no table_markdown; run `npm run bench` first.");
}

// Timings taken while other work ran say little about the code: such a run is not published.
const { cores, load_average_start: loadAtStart } = results.machine ?? {};
if (!Array.isArray(loadAtStart) || typeof cores !== "number") {
  console.error("bench/results.json does not say how busy the machine was; run `npm run bench` again.");
  process.exit(1);
}
if (loadAtStart[0] > cores) {
  console.error(
    `Not updating README.md: the run in bench/results.json started with a 1-minute load average of ${loadAtStart[0]} ` +
      `on ${cores} cores (more than one per core), so other work was competing with it. ` +
      "Run `npm run bench` again on an idle machine.",
  );
  process.exit(1);
}

const readmePath = path.join(root, "README.md");
const readme = readFileSync(readmePath, "utf8");
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < 0 || end < start || readme.indexOf(START, start + 1) >= 0) {
  throw new Error(`README.md must contain ${START} once, followed by ${END}.`);
}

const section = `${START}\n${results.table_markdown.trim()}\n${END}`;
const updated = readme.slice(0, start) + section + readme.slice(end + END.length);
if (updated === readme) {
  console.log("README.md is already up to date.");
} else {
  writeFileSync(readmePath, updated);
  console.log("Updated the performance section of README.md from bench/results.json.");
}
