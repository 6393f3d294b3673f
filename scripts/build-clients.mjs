// `npm run build:clients` (also run by `prepare`, so `npm install` / `npm ci` build it): bundles the
// `bulkcall` command-line importer (clients/cli) with its libraries into dist/cli/bulkcall.mjs, the
// one file bin/bulkcall.mjs loads. Bundled so that the published package runs without resolving
// the libraries at start-up.
import { readFile } from "node:fs/promises";
import { build } from "esbuild";

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["clients/cli/main.ts"],
  outfile: "dist/cli/bulkcall.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  // Some bundled libraries are CommonJS and require() Node's own modules.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);',
  },
  define: { BULKCALL_VERSION: JSON.stringify(pkg.version) },
  legalComments: "eof",
  logLevel: "warning",
});
