// Every link between the project's Markdown documents resolves: the file it names exists, and its
// `#anchor` is a heading of that file as GitHub names it, or an `<a id>` in it. Links to other sites
// are left alone (the tests run offline).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const DOCUMENTS = [
  "README.md",
  "ARCHITECTURE.md",
  "bench/README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The document's lines outside fenced code blocks; `blankCode`: with their inline code spans blanked. */
function prose(markdown: string, blankCode = true): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  for (const [i, raw] of markdown.split("\n").entries()) {
    const marker = /^\s*(```+|~~~+)/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence !== undefined) continue;
    out.push({ line: i + 1, text: blankCode ? raw.replace(/`[^`]*`/g, (m) => " ".repeat(m.length)) : raw });
  }
  return out;
}

/**
 * The anchors GitHub gives a document: each heading's text with links reduced to their text,
 * lower-cased, without the characters that are not letters, digits, `_`, `-` or spaces, and with
 * spaces as `-` (github-slugger's rule); a repeated one gets `-1`, `-2`, … And every `<a id="…">`.
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of prose(markdown, false)) {
    for (const m of text.matchAll(/<a id="([^"]+)"/g)) anchors.add(m[1] as string);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/`([^`]*)`/g, "$1")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

describe("links between the Markdown documents", () => {
  it("name files that exist and anchors those files have", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const document of DOCUMENTS) {
      const path = join(ROOT, document);
      const markdown = readFileSync(path, "utf8");
      for (const { line, text } of prose(markdown)) {
        for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
          const target = m[1] as string;
          if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
          checked++;
          const [file, anchor] = target.split("#", 2) as [string, string | undefined];
          const linked = file === "" ? path : resolve(dirname(path), file);
          const where = `${document}:${line} → ${target}`;
          if (!existsSync(linked)) {
            broken.push(`${where}: no file ${relative(ROOT, linked)}`);
            continue;
          }
          if (anchor !== undefined && !anchorsOf(readFileSync(linked, "utf8")).has(anchor)) {
            broken.push(`${where}: ${relative(ROOT, linked)} has no heading or <a id> "${anchor}"`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
    // The README alone links to a dozen of its own sections: finding none means the scan is broken.
    expect(checked).toBeGreaterThan(20);
  });

  it("names anchors as GitHub does", () => {
    const markdown = [
      "## Running on Turso / libSQL",
      "### Workflows (`useWorkflow`)",
      "## What [the contract](x.md) leaves open",
      "### Limits",
      "## Limits",
      '<a id="day-two"></a>',
      "```sh",
      "# not a heading",
      "```",
    ].join("\n");
    expect([...anchorsOf(markdown)]).toEqual([
      "running-on-turso--libsql",
      "workflows-useworkflow",
      "what-the-contract-leaves-open",
      "limits",
      "limits-1",
      "day-two",
    ]);
  });
});
