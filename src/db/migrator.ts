// Applies migrations/*.sql to a libSQL database, from Node (npm run db:migrate:libsql and the libsql
// test project). D1 gets the same files from wrangler; both record applied files in a `d1_migrations`
// table of the same shape, so a database copied from one store to the other knows what it has.
//
// This module imports nothing relative so that scripts/migrate-libsql.mjs can load it with Node's
// own TypeScript support; it needs Node (it reads the folder) and never runs inside the Worker.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Client, InStatement } from "@libsql/client";

export const MIGRATIONS_TABLE = "d1_migrations";

export interface Migration {
  /** File name, e.g. 0000_initial.sql: the key recorded once the file is applied. */
  name: string;
  statements: string[];
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

/** The .sql files of a migrations folder, in name order, each split into statements. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      statements: splitStatements(await readFile(join(dir, name), "utf8")),
    })),
  );
}

/**
 * Splits a SQL script into statements on the `;` that end them. Semicolons inside quotes, comments
 * and a CREATE TRIGGER body do not end a statement. drizzle-kit's `--> statement-breakpoint` markers
 * are line comments, so files with and without them split the same way.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = "";
  let code = ""; // `current` without comments and literals, to recognise keywords
  let triggerDepth = 0;
  let i = 0;
  const flush = () => {
    if (code.trim() !== "") statements.push(current.trim());
    current = "";
    code = "";
    triggerDepth = 0;
  };
  while (i < script.length) {
    const ch = script[i] as string;
    const next = script[i + 1];
    // Comments before a statement are dropped (the breakpoint markers among them); comments inside
    // one are kept, as SQLite ignores them.
    if (ch === "-" && next === "-") {
      const end = script.indexOf("\n", i);
      const stop = end === -1 ? script.length : end + 1;
      if (code.trim() !== "") current += script.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === "/" && next === "*") {
      const end = script.indexOf("*/", i + 2);
      const stop = end === -1 ? script.length : end + 2;
      if (code.trim() !== "") {
        current += script.slice(i, stop);
        code += " ";
      }
      i = stop;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === "`" || ch === "[") {
      const close = ch === "[" ? "]" : ch;
      let j = i + 1;
      while (j < script.length) {
        if (script[j] === close) {
          // A doubled quote is an escaped quote, except in [brackets].
          if (close !== "]" && script[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += script.slice(i, j + 1);
      code += " '' ";
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < script.length && /[A-Za-z0-9_$]/.test(script[j] as string)) j++;
      const word = script.slice(i, j);
      current += word;
      code += word;
      i = j;
      if (/^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(code)) {
        const upper = word.toUpperCase();
        if (upper === "BEGIN" || upper === "CASE") triggerDepth++;
        else if (upper === "END") triggerDepth = Math.max(0, triggerDepth - 1);
      }
      continue;
    }
    if (ch === ";" && triggerDepth === 0) {
      current += ch;
      flush();
      i++;
      continue;
    }
    current += ch;
    code += ch;
    i++;
  }
  flush();
  return statements;
}

/**
 * Applies every migration the database has not recorded yet, in order. Each file runs as one batch
 * transaction together with its record, so a failing file leaves neither its changes nor its record
 * and the next run retries it.
 */
export async function applyMigrations(client: Client, migrations: Migration[]): Promise<MigrationReport> {
  await client.execute(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
  )`);
  const done = new Set(
    (await client.execute(`SELECT name FROM ${MIGRATIONS_TABLE}`)).rows.map((r) => String(r.name)),
  );
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    if (done.has(m.name)) {
      report.alreadyApplied.push(m.name);
      continue;
    }
    const batch: InStatement[] = [
      ...m.statements,
      { sql: `INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`, args: [m.name] },
    ];
    try {
      await client.batch(batch, "write");
    } catch (cause) {
      throw new Error(`Migration ${m.name} failed and was rolled back: ${(cause as Error).message}`, {
        cause,
      });
    }
    report.applied.push(m.name);
  }
  return report;
}
