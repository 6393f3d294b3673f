// `npm run build:clients` (also run by `prepare`, so `npm install` / `npm ci` build it, and by
// `npm run dev`): builds what the repository does not commit because it can be built.
//
// - dist/cli/bulkcall.mjs: the `bulkcall` command-line importer (clients/cli) bundled with its
//   libraries, the one file bin/bulkcall.mjs loads, so that the published package runs without
//   resolving libraries at start-up.
// - dist/assets/: the Worker's static assets (wrangler.jsonc "assets"), served without running the
//   API's code: the web console at /console (clients/console, bundled with Preact, Pico CSS and
//   clients/sheet) and the API reference page at /docs (clients/docs with swagger-ui-dist, copied
//   from node_modules at the version package.json pins). Nothing is fetched from elsewhere at run time.
//
// The licenses of the bundled libraries go beside each bundle (their terms ask for that). Files are
// written whole to a temporary name and renamed, and left alone when unchanged, so that a server
// already serving dist/assets (tests start several) never reads a half-written file.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
const ASSETS = join(root, "dist/assets");

/** Writes `data` to `path` unless it already holds exactly that; atomically (temporary file + rename). */
async function writeIfChanged(path, data) {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(bytes)) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** The license texts of the packages behind `inputs` (esbuild metafile inputs, or package dirs). */
async function licenseNotices(inputs, title) {
  const packages = new Set();
  for (const input of inputs) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)(?:\/|$)/.exec(input);
    if (match)
      packages.add(
        input
          .slice(0, match.index + match[0].length)
          .replace(/\/$/, "")
          .replace(/^\/?/, ""),
      );
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
  return `${title}\n\n${notices.join(`\n${"-".repeat(72)}\n\n`)}`;
}

async function bundle(options) {
  const result = await build({
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    legalComments: "eof",
    logLevel: "warning",
    define: { BULKCALL_VERSION: JSON.stringify(pkg.version) },
    ...options,
  });
  for (const file of result.outputFiles) await writeIfChanged(file.path, file.contents);
  return { inputs: Object.keys(result.metafile.inputs), outputs: result.outputFiles.map((f) => f.path) };
}

// The command-line importer.
const { inputs: cliInputs } = await bundle({
  entryPoints: ["clients/cli/main.ts"],
  outfile: "dist/cli/bulkcall.mjs",
  platform: "node",
  format: "esm",
  target: "node22",
  // Some bundled libraries are CommonJS and require() Node's own modules.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);',
  },
});
await writeIfChanged(
  join(root, "dist/cli/THIRD-PARTY-LICENSES.txt"),
  await licenseNotices(cliInputs, "Libraries bundled into bulkcall.mjs:"),
);

// The web console: one script and one stylesheet (the bundle imports its CSS).
const { inputs: consoleInputs, outputs: consoleOutputs } = await bundle({
  entryPoints: { console: "clients/console/main.tsx" },
  outdir: "dist/assets/console",
  platform: "browser",
  format: "esm",
  // Browsers of the last few years (top-level await, class fields, ??=).
  target: ["chrome111", "firefox115", "safari16.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  // The workbook reader (import() in clients/sheet/file.ts) becomes a chunk of its own.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// Chunks of earlier builds (their names carry their content's hash) are removed.
const chunkDir = join(ASSETS, "console/chunks");
const chunks = new Set(consoleOutputs.filter((f) => f.startsWith(chunkDir)));
for (const name of await readdir(chunkDir).catch(() => [])) {
  if (!chunks.has(join(chunkDir, name)) && !name.endsWith(".tmp"))
    await rm(join(chunkDir, name), { force: true });
}
await writeIfChanged(
  join(ASSETS, "console/index.html"),
  await readFile(join(root, "clients/console/index.html")),
);
await writeIfChanged(
  join(ASSETS, "console/THIRD-PARTY-LICENSES.txt"),
  await licenseNotices(consoleInputs, "Libraries bundled into console.js and console.css:"),
);

// The API reference page: swagger-ui-dist's bundle and stylesheet as published, and the page's own
// start-up script. /docs is docs.html ("auto-trailing-slash" serves /x.html at /x).
const swagger = join(root, "node_modules/swagger-ui-dist");
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  await writeIfChanged(join(ASSETS, "docs", file), await readFile(join(swagger, file)));
}
await bundle({
  entryPoints: { docs: "clients/docs/docs.ts" },
  outdir: "dist/assets/docs",
  platform: "browser",
  format: "iife",
  target: ["chrome111", "firefox115", "safari16.4"],
  minify: true,
});
await writeIfChanged(join(ASSETS, "docs.html"), await readFile(join(root, "clients/docs/docs.html")));
await writeIfChanged(
  join(ASSETS, "docs/THIRD-PARTY-LICENSES.txt"),
  await licenseNotices(["node_modules/swagger-ui-dist/"], "swagger-ui-bundle.js and swagger-ui.css:"),
);

// Response headers for the assets (Workers Static Assets reads _headers; see the file for why).
await writeIfChanged(join(ASSETS, "_headers"), await readFile(join(root, "clients/assets-headers.txt")));
