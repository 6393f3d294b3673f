// `npm run build:clients` (also run by `prepare`, so `npm install` / `npm ci` build it): bundles the
// `bulkcall` command-line importer (clients/cli) with its libraries into dist/cli/bulkcall.mjs, the
// one file bin/bulkcall.mjs loads, so that the published package runs without resolving libraries
// at start-up. The licenses of the bundled libraries go beside it (their terms ask for that).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));

const result = await build({
  absWorkingDir: root,
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
  metafile: true,
  logLevel: "warning",
});

// node_modules/<name> or node_modules/@scope/<name> of every bundled input file.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(input.slice(0, match.index + match[0].length - 1).replace(/^\/?/, ""));
}
const notices = [];
for (const dir of [...packages].sort()) {
  const meta = JSON.parse(await readFile(join(root, dir, "package.json"), "utf8"));
  const license = (await readdir(join(root, dir))).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = license
    ? await readFile(join(root, dir, license), "utf8")
    : `License: ${meta.license ?? "unknown"}`;
  notices.push(`${meta.name}@${meta.version}\n\n${text.trim()}\n`);
}
await writeFile(
  join(root, "dist/cli/THIRD-PARTY-LICENSES.txt"),
  `Libraries bundled into bulkcall.mjs:\n\n${notices.join(`\n${"-".repeat(72)}\n\n`)}`,
);
