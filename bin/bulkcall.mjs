#!/usr/bin/env node
// The `bulkcall` command: runs the bundle that `npm run build:clients` makes from clients/cli.
try {
  await import("../dist/cli/bulkcall.mjs");
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("bulkcall.mjs")) {
    process.stderr.write(
      "bulkcall: the program is not built yet. Run `npm run build:clients` in the checkout.\n",
    );
    process.exit(2);
  }
  throw error;
}
