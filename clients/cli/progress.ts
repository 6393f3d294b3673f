// Progress of an import: a bar on a terminal (cli-progress), plain lines otherwise, so CI logs and
// redirected output stay readable. Both write to stderr; stdout carries only the summary.
import { SingleBar } from "cli-progress";
import type { PartReport } from "../sheet/answers";
import type { Part } from "../sheet/parts";
import { describePart } from "../sheet/send";

export interface Progress {
  start(parts: readonly Part[], rows: number): void;
  partSending(part: Part, of: number): void;
  partDone(report: PartReport, of: number): void;
  /** A wait before a retry, or another note that belongs between the progress updates. */
  note(message: string): void;
  stop(): void;
}

const n = (value: number) => value.toLocaleString("en-US");

function partOutcome(report: PartReport): string {
  switch (report.state) {
    case "added":
    case "replayed":
      return `${report.status} ${report.state === "replayed" ? "replayed (answered from an earlier run)" : "done"}: ${n(report.added)} added, ${n(report.rejected)} rejected`;
    case "failed":
      return `failed: ${report.error ?? ""}`;
    case "not_sent":
      return "not sent";
  }
}

/** One line per event. */
export class LineProgress implements Progress {
  constructor(private readonly write: (line: string) => void) {}
  start(parts: readonly Part[], rows: number): void {
    this.write(`Sending ${n(rows)} records in ${parts.length} request${parts.length === 1 ? "" : "s"}.`);
  }
  partSending(): void {}
  partDone(report: PartReport, of: number): void {
    this.write(`${describePart(report, of)}: ${partOutcome(report)}`);
  }
  note(message: string): void {
    this.write(message);
  }
  stop(): void {}
}

/** A progress bar of records sent, with the running counts. */
export class BarProgress implements Progress {
  private bar: SingleBar | undefined;
  private added = 0;
  private rejected = 0;
  private done = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(parts: readonly Part[], rows: number): void {
    this.bar = new SingleBar({
      stream: this.stream,
      format:
        " {bar} {percentage}% | {value}/{total} records | part {part} | added {added} · rejected {rejected}",
      barCompleteChar: "█",
      barIncompleteChar: "░",
      hideCursor: true,
      clearOnComplete: false,
      formatValue: (value, _options, type) =>
        type === "value" || type === "total" ? n(value) : String(value),
    });
    this.bar.start(rows, 0, { part: `0/${parts.length}`, added: "0", rejected: "0" });
  }

  partSending(part: Part, of: number): void {
    this.bar?.update(this.done, { part: `${part.number}/${of}` });
  }

  partDone(report: PartReport, of: number): void {
    this.added += report.added;
    this.rejected += report.rejected;
    this.done += report.rows;
    this.bar?.update(this.done, {
      part: `${report.number}/${of}`,
      added: n(this.added),
      rejected: n(this.rejected),
    });
    if (report.state === "replayed" || report.state === "failed")
      this.note(`${describePart(report, of)}: ${partOutcome(report)}`);
  }

  note(message: string): void {
    // Printed above the bar, which is drawn again below it.
    if (this.bar) {
      this.stream.clearLine(0);
      this.stream.cursorTo(0);
      this.stream.write(`${message}\n`);
      this.bar.render();
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

export class SilentProgress implements Progress {
  start(): void {}
  partSending(): void {}
  partDone(): void {}
  note(): void {}
  stop(): void {}
}
