// The `bulkcall` program (bin/bulkcall.mjs loads the bundle built from this file).
import { HELP, parseCommand, UsageError } from "./args";
import { EXIT, runImport } from "./import-command";

declare const BULKCALL_VERSION: string;
/** Set by the build (scripts/build-clients.mjs) from package.json. */
const VERSION = typeof BULKCALL_VERSION === "string" ? BULKCALL_VERSION : "dev";

export async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(argv, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bulkcall: ${error.message}\n`);
      return EXIT.nothingSent;
    }
    throw error;
  }
  if (command.kind === "help") {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  if (command.kind === "version") {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  return runImport(command.options, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    version: VERSION,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bulkcall: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.notAllLoaded;
  },
);
