// Migrations on libSQL: the migrations/ folder that wrangler applies to D1, applied by the migrator
// the libsql test project and `npm run db:migrate:libsql` share, and recorded so a rerun is a no-op.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_TABLE, readMigrations, splitStatements } from "../../src/db/migrator";

const run = promisify(execFile);
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "bulkcall-migrator-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function objects(client: ReturnType<typeof createClient>) {
  const rs = await client.execute(
    "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  );
  return rs.rows.map((r) => `${r.type} ${r.name}`);
}

describe("splitStatements", () => {
  it("splits on drizzle-kit breakpoints and on semicolons alike", () => {
    expect(
      splitStatements(
        "CREATE TABLE a (x);--> statement-breakpoint\nCREATE INDEX i ON a (x);\nCREATE TABLE b (y)",
      ),
    ).toEqual(["CREATE TABLE a (x);", "CREATE INDEX i ON a (x);", "CREATE TABLE b (y)"]);
  });

  it("keeps semicolons inside literals, comments and trigger bodies", () => {
    const script = `
      -- a comment; with a semicolon
      INSERT INTO t VALUES ('a;b', "c;d", \`e;f\`, [g;h], 'it''s; fine');
      /* block; comment */ UPDATE t SET x = 1 /* inside; kept */ -- also kept;
      ;
      CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.x = 'y;z' BEGIN
        UPDATE t SET y = CASE WHEN NEW.x > 0 THEN 'pos;' ELSE 'neg' END;
        DELETE FROM u;
      END;
      CREATE TABLE after_trigger (z);
      -- trailing comment only;
    `;
    const statements = splitStatements(script);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toBe(`INSERT INTO t VALUES ('a;b', "c;d", \`e;f\`, [g;h], 'it''s; fine');`);
    expect(statements[1]).toBe("UPDATE t SET x = 1 /* inside; kept */ -- also kept;\n      ;");
    expect(statements[2]).toMatch(/^CREATE TRIGGER tr .*DELETE FROM u;\s*END;$/s);
    expect(statements[3]).toBe("CREATE TABLE after_trigger (z);");
  });

  it("reads every migration file in name order", async () => {
    const migrations = await readMigrations("migrations");
    const names = migrations.map((m) => m.name);
    expect(names[0]).toBe("0000_initial.sql");
    expect(names).toEqual([...names].sort());
    expect(migrations[0]?.statements.some((s) => s.startsWith("CREATE TABLE `customers`"))).toBe(true);
  });
});

describe("applyMigrations", () => {
  it("applies the migrations folder once; a second run applies nothing", async () => {
    const client = createClient({ url: `file:${join(folder, "twice.db")}` });
    const migrations = await readMigrations("migrations");
    const first = await applyMigrations(client, migrations);
    expect(first).toEqual({ applied: migrations.map((m) => m.name), alreadyApplied: [] });
    const schema = await objects(client);
    expect(schema).toEqual(expect.arrayContaining(["table customers", "index customers_campaign_key"]));

    const second = await applyMigrations(client, migrations);
    expect(second).toEqual({ applied: [], alreadyApplied: migrations.map((m) => m.name) });
    expect(await objects(client)).toEqual(schema);
    const recorded = await client.execute(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    expect(recorded.rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
    client.close();
  });

  it("rolls a failing migration back whole, records only what succeeded, and retries it next run", async () => {
    const client = createClient({ url: ":memory:" });
    const good = { name: "0000_good.sql", statements: splitStatements("CREATE TABLE a (x);") };
    const broken = {
      name: "0001_broken.sql",
      statements: splitStatements("CREATE TABLE b (y);\nINSERT INTO missing_table VALUES (1);"),
    };
    await expect(applyMigrations(client, [good, broken])).rejects.toThrow(
      /Migration 0001_broken\.sql failed and was rolled back: .*missing_table/,
    );
    expect(await objects(client)).toEqual(["table a", `table ${MIGRATIONS_TABLE}`]);

    const fixed = { name: "0001_broken.sql", statements: splitStatements("CREATE TABLE b (y);") };
    expect(await applyMigrations(client, [good, fixed])).toEqual({
      applied: ["0001_broken.sql"],
      alreadyApplied: ["0000_good.sql"],
    });
    client.close();
  });
});

describe("npm run db:migrate:libsql", () => {
  const script = [
    "--experimental-strip-types",
    "--disable-warning=ExperimentalWarning",
    "scripts/migrate-libsql.mjs",
  ];
  const absolute = script.map((a) => (a.endsWith(".mjs") ? join(process.cwd(), a) : a));
  // Run without any inherited LIBSQL_* setting.
  const envWith = (vars: Record<string, string>) => {
    const { LIBSQL_URL: _u, LIBSQL_AUTH_TOKEN: _t, ...rest } = process.env;
    return { ...rest, ...vars };
  };

  it("migrates a file: database and reports nothing to do on the second run", async () => {
    const url = `file:${join(folder, "script.db")}`;
    const first = await run(process.execPath, script, { env: envWith({ LIBSQL_URL: url }) });
    const names = (await readMigrations("migrations")).map((m) => m.name);
    for (const name of names) expect(first.stdout).toContain(`applied ${name}`);
    const second = await run(process.execPath, script, { env: envWith({ LIBSQL_URL: url }) });
    expect(second.stdout).not.toMatch(/ applied \d{4}_/);
    expect(second.stdout).toContain(`nothing to apply; ${names.length} migration(s) already applied`);
  });

  it("reads a migrations folder with a trigger and applies it", async () => {
    const dir = join(folder, "custom-migrations");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "0000_trigger.sql"),
      "CREATE TABLE t (x text);\nCREATE TRIGGER no_empty BEFORE INSERT ON t WHEN NEW.x = '' BEGIN SELECT RAISE(ABORT, 'empty; refused'); END;\n",
    );
    const url = `file:${join(folder, "trigger.db")}`;
    const out = await run(process.execPath, script, {
      env: envWith({ LIBSQL_URL: url, MIGRATIONS_DIR: dir }),
    });
    expect(out.stdout).toContain("applied 0000_trigger.sql");
    const client = createClient({ url });
    await expect(client.execute("INSERT INTO t VALUES ('')")).rejects.toThrow(/empty; refused/);
    client.close();
  });

  it("takes LIBSQL_URL from .dev.vars in the current folder when the environment has none", async () => {
    const cwd = join(folder, "with-dev-vars");
    await mkdir(cwd, { recursive: true });
    const url = `file:${join(folder, "dev-vars.db")}`;
    await writeFile(join(cwd, ".dev.vars"), `ADMIN_TOKEN=local\nLIBSQL_URL="${url}"\n`);
    const out = await run(process.execPath, absolute, { cwd, env: envWith({}) });
    expect(out.stdout).toContain(`libSQL database ${url} (LIBSQL_URL from .dev.vars)`);
    expect(out.stdout).toContain("applied 0000_initial.sql");
  });

  it("fails with a message naming LIBSQL_URL when it is missing or unreachable", async () => {
    const missing = await run(process.execPath, absolute, { cwd: folder, env: envWith({}) }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing?.code).toBe(1);
    expect(missing?.stderr).toMatch(/LIBSQL_URL is not set/);

    const unreachable = await run(process.execPath, script, {
      env: envWith({ LIBSQL_URL: "http://127.0.0.1:9" }),
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(unreachable?.code).toBe(1);
    expect(unreachable?.stderr).toMatch(/libSQL database at LIBSQL_URL \(http:\/\/127\.0\.0\.1:9\) failed/);
  });
});
