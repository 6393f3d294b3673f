// The `bulkcall` program against a stub API: what it sends for each option, and how a run that
// cannot finish is reported. (Against the real server: cli.e2e.test.ts.)

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../clients/sheet";
import { buildCli, json, type Recorded, runCli, startStub, type TestServer } from "./cli-helpers";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
let dir: string;
let stub: TestServer | undefined;

beforeAll(async () => {
  await buildCli();
  dir = await mkdtemp(join(tmpdir(), "bulkcall-cli-run-"));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

const HEADER = "loan_id,first_name,phone_number,emi_amount,emi_due_date,Note";

async function csvFile(name: string, rows: number, noteLength = 10): Promise<string> {
  const lines = [HEADER];
  for (let i = 1; i <= rows; i++) {
    lines.push(`LN-${i},Asha,98${String(i).padStart(8, "0")},1200,2026-12-05,${"n".repeat(noteLength)}`);
  }
  const path = join(dir, name);
  await writeFile(path, `${lines.join("\n")}\n`);
  return path;
}

function answerAll(res: ServerResponse, request: Recorded, headers: Record<string, string> = {}) {
  const total = (JSON.parse(request.body) as { records: unknown[] }).records.length;
  json(
    res,
    201,
    {
      success: true,
      message: `Added ${total} of ${total} records`,
      results: {
        total,
        valid: total,
        invalid: 0,
        successful: total,
        failed: 0,
        batchesProcessed: 1,
        errors: [],
      },
      importId: "imp_stub",
    },
    headers,
  );
}

interface StubOptions {
  fields?: string[];
  bulk?: (request: Recorded, res: ServerResponse, bulkNumber: number) => void;
}

async function startApi(options: StubOptions = {}): Promise<TestServer> {
  let bulk = 0;
  return startStub((request, res) => {
    if (request.method === "GET" && request.path === "/api/v1/campaigns/demo-emi") {
      return json(res, 200, { id: "demo-emi", campaignType: "emi" });
    }
    if (request.method === "GET" && request.path === "/openapi.json") {
      const properties = Object.fromEntries(
        ["campaignId", "records", ...(options.fields ?? [])].map((f) => [f, {}]),
      );
      return json(res, 200, { components: { schemas: { BulkAddCustomersRequest: { properties } } } });
    }
    if (request.method === "POST" && request.path === "/api/v1/customers/add/bulk") {
      bulk++;
      return options.bulk ? options.bulk(request, res, bulk) : answerAll(res, request);
    }
    json(res, 404, { success: false, message: "no", error: { code: "not_found", details: [] } });
  });
}

const posts = (server: TestServer) => server.requests.filter((r) => r.method === "POST");

describe("a part that fails for good", () => {
  it("stops, reports the part's rows as request_failed and the rest as not_sent, and exits 1", async () => {
    const file = await csvFile("fails.csv", 4_000, 600);
    stub = await startApi({
      bulk: (request, res, n) =>
        n === 1
          ? answerAll(res, request)
          : json(
              res,
              503,
              { success: false, message: "db down", error: { code: "service_unavailable", details: [] } },
              {
                "Retry-After": "0",
              },
            ),
    });
    const run = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--max-body-mb", "1"],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(1);
    const sent = posts(stub).map((r) => (JSON.parse(r.body) as { records: { loan_id: string }[] }).records);
    // Part 1 once, part 2 five times (the retry budget), part 3 never.
    expect(sent).toHaveLength(6);
    const part1 = sent[0] ?? [];
    const part2 = sent[1] ?? [];
    expect(
      new Set(
        posts(stub)
          .slice(1)
          .map((r) => r.headers["idempotency-key"]),
      ).size,
    ).toBe(1);
    const rejects = parseCsv(await readFile(join(dir, "fails.rejects.csv"), "utf8")).sheet;
    const byCode = (code: string) =>
      rejects.rows.filter((r) => r.cells[1] === code).map((r) => Number(r.cells[0]));
    const rowOf = (loanId: string) => Number(loanId.slice(3)) + 1;
    expect(byCode("request_failed")).toEqual(part2.map((r) => rowOf(r.loan_id)));
    const part3Rows = Array.from(
      { length: 4_000 - part1.length - part2.length },
      (_, i) => part1.length + part2.length + i + 2,
    );
    expect(byCode("not_sent")).toEqual(part3Rows);
    expect(rejects.rows).toHaveLength(4_000 - part1.length);
    expect(rejects.rows[0]?.cells[3]).toContain("503 service_unavailable: db down");
    expect(run.stdout).toContain(`added         ${part1.length.toLocaleString("en-US")}`);
    expect(run.stdout).toContain("requests      2 of 3, 1 failed, 1 not sent");
    expect(run.stdout).toContain("Run the same command again to finish");
  });
});

describe("what each option sends", () => {
  it("sends dryRun without an Idempotency-Key, and onExisting with one", async () => {
    const file = await csvFile("options.csv", 3);
    stub = await startApi({ fields: ["dryRun", "onExisting"] });
    const dry = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--dry-run", "--on-existing", "update"],
      { cwd: dir },
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run (nothing was written):");
    const [dryPost] = posts(stub);
    expect(dryPost?.headers["idempotency-key"]).toBeUndefined();
    expect(JSON.parse(dryPost?.body ?? "{}")).toMatchObject({
      campaignId: "demo-emi",
      dryRun: true,
      onExisting: "update",
    });

    const real = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--on-existing", "update"],
      {
        cwd: dir,
      },
    );
    expect(real.code).toBe(0);
    const realPost = posts(stub)[1];
    expect(realPost?.headers["idempotency-key"]).toMatch(/^bulkcall-v1-[0-9a-f]{32}-p1-[0-9a-f]{24}$/);
    const body = JSON.parse(realPost?.body ?? "{}");
    expect(body.onExisting).toBe("update");
    expect(body.dryRun).toBeUndefined();
  });

  it("with --on-existing update, says how many rows were stored, and of them added, updated and unchanged", async () => {
    const file = await csvFile("refresh.csv", 4);
    stub = await startApi({
      fields: ["onExisting"],
      bulk: (_request, res) =>
        json(res, 201, {
          success: true,
          message: "Added 4 of 4 records",
          results: {
            total: 4,
            valid: 4,
            invalid: 0,
            successful: 4,
            failed: 0,
            batchesProcessed: 1,
            added: 1,
            updated: 2,
            unchanged: 1,
            errors: [],
          },
          importId: "imp_stub",
        }),
    });
    const run = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--on-existing", "update"],
      { cwd: dir },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("stored        4");
    expect(run.stdout).toContain("of which    added 1, updated 2, unchanged 1");
    expect(run.stdout).not.toContain("added         4");
  });

  it("refuses --dry-run and --on-existing update when the API does not document them", async () => {
    const file = await csvFile("unsupported.csv", 3);
    stub = await startApi({ fields: [] });
    const dry = await runCli(["import", file, "--campaign", "demo-emi", "--url", stub.url, "--dry-run"], {
      cwd: dir,
    });
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain(
      'does not support --dry-run (its bulk request has no "dryRun" field), and would ignore it and store the rows',
    );
    expect(dry.stderr).toContain("Nothing was sent.");
    const update = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--on-existing", "update"],
      {
        cwd: dir,
      },
    );
    expect(update.code).toBe(2);
    expect(update.stderr).toContain("does not support --on-existing update");
    expect(posts(stub)).toHaveLength(0);
  });

  it("asks for --yes before placing calls when not in a terminal, then sends callConfig", async () => {
    const file = await csvFile("calls.csv", 2);
    stub = await startApi();
    const args = [
      "import",
      file,
      "--campaign",
      "demo-emi",
      "--url",
      stub.url,
      "--initiate-call",
      "--agent",
      "a1",
      "--disposition",
      "d1",
    ];
    const unconfirmed = await runCli(args, { cwd: dir });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(
      "This import would call every customer that is added. Pass --yes to confirm",
    );
    expect(posts(stub)).toHaveLength(0);
    const confirmed = await runCli([...args, "--yes"], { cwd: dir });
    expect(confirmed.code).toBe(0);
    expect(JSON.parse(posts(stub)[0]?.body ?? "{}")).toMatchObject({
      initiateCall: true,
      callConfig: { agentId: "a1", dispositionId: "d1" },
    });
  });

  it("with --initiate-call and neither --agent nor --disposition, sends no callConfig (the campaign's defaults apply)", async () => {
    const file = await csvFile("defaults.csv", 2);
    stub = await startApi();
    const run = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--initiate-call", "--yes"],
      { cwd: dir },
    );
    expect(run.code).toBe(0);
    const body = JSON.parse(posts(stub)[0]?.body ?? "{}");
    expect(body.initiateCall).toBe(true);
    expect(body).not.toHaveProperty("callConfig");
  });

  it("refuses one of --agent and --disposition without the other, sending nothing", async () => {
    const file = await csvFile("half.csv", 1);
    stub = await startApi();
    for (const [flag, half] of [
      ["--initiate-call", ["--agent", "a1"]],
      ["--use-workflow", ["--disposition", "d1"]],
    ] as const) {
      const run = await runCli(
        ["import", file, "--campaign", "demo-emi", "--url", stub.url, flag, ...half, "--yes"],
        { cwd: dir },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Give both --agent and --disposition, or neither");
    }
    expect(stub.requests).toHaveLength(0);
  });

  it("reports a campaign without a default agent and disposition as the API names it, and what to pass", async () => {
    const file = await csvFile("no-defaults.csv", 2);
    stub = await startApi({
      bulk: (_request, res) =>
        json(res, 400, {
          success: false,
          message: "The request is not valid.",
          error: {
            code: "validation_error",
            details: [
              {
                path: "callConfig",
                message:
                  "is required when initiateCall is true and the campaign has no default agentId and dispositionId",
              },
            ],
          },
        }),
    });
    const run = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--initiate-call", "--yes"],
      { cwd: dir },
    );
    expect(run.code).toBe(1);
    expect(posts(stub)).toHaveLength(1);
    const hint =
      "400 validation_error: The request is not valid. (callConfig: is required when initiateCall is true and the campaign has no default agentId and dispositionId). The campaign has no default agent and disposition: pass --agent <id> and --disposition <id>, or give the campaign a default agentId and dispositionId (PATCH /api/v1/campaigns/{id}).";
    expect(run.stdout).toContain(hint);
    expect(run.stdout).toContain("requests      1 of 1, 1 failed");
    const rejects = parseCsv(await readFile(join(dir, "no-defaults.rejects.csv"), "utf8")).sheet;
    expect(rejects.rows.map((r) => [r.cells[0], r.cells[1]])).toEqual([
      ["2", "request_failed"],
      ["3", "request_failed"],
    ]);
    expect(rejects.rows[0]?.cells[3]).toContain(hint);
  });

  it("prints the summary as JSON with --json", async () => {
    const file = await csvFile("json.csv", 2);
    stub = await startApi();
    const run = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--json", "--quiet"],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toMatchObject({
      rowsRead: 2,
      added: 2,
      rejected: 0,
      rejectsFile: null,
      dryRun: false,
    });
  });
});

describe("mistakes found before anything is sent", () => {
  it("refuses a missing campaign, key or file, and a refused key", async () => {
    const file = await csvFile("usage.csv", 1);
    const noCampaign = await runCli(["import", file], { cwd: dir });
    expect(noCampaign.code).toBe(2);
    expect(noCampaign.stderr).toContain("--campaign <id> is required");
    const noKey = await runCli(["import", file, "--campaign", "c"], {
      cwd: dir,
      env: { BULKCALL_API_KEY: "" },
    });
    expect(noKey.stderr).toContain("No API key: set BULKCALL_API_KEY");
    stub = await startStub((_req, res) =>
      json(res, 401, {
        success: false,
        message: "Missing or invalid API key.",
        error: { code: "unauthorized", details: [] },
      }),
    );
    const refused = await runCli(["import", file, "--campaign", "demo-emi", "--url", stub.url], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("The API key was refused");
    const missing = await runCli(
      ["import", join(dir, "nope.csv"), "--campaign", "demo-emi", "--url", stub.url],
      {
        cwd: dir,
      },
    );
    expect(missing.stderr).toContain("nope.csv: no such file.");
    const overwrite = await runCli(
      ["import", file, "--campaign", "demo-emi", "--url", stub.url, "--rejects", file],
      {
        cwd: dir,
      },
    );
    expect(overwrite.code).toBe(2);
    expect(overwrite.stderr).toContain("--rejects names the input file itself");
    expect(posts(stub)).toHaveLength(0);
  });

  it("refuses a workbook over 10 MiB and an old .xls, without reading them", async () => {
    const big = join(dir, "big.xlsx");
    await writeFile(big, "PK\u0003\u0004");
    await truncate(big, 11 * 1024 * 1024);
    const tooBig = await runCli(["import", big, "--campaign", "demo-emi", "--url", "http://127.0.0.1:9"], {
      cwd: dir,
    });
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toContain(
      'big.xlsx is 11 MiB; the importer reads workbooks up to 10 MiB (about 250,000 rows). Save it as "CSV UTF-8" (read up to 100 MiB) or split it into smaller workbooks.',
    );
    const xls = join(dir, "old.xls");
    await writeFile(xls, new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));
    const old = await runCli(["import", xls, "--campaign", "demo-emi", "--url", "http://127.0.0.1:9"], {
      cwd: dir,
    });
    expect(old.stderr).toContain('is an old binary Excel file (.xls). Save it as "Excel Workbook (.xlsx)"');
  });

  it("runs as this checkout's own `npx bulkcall`, with no registry to ask", async () => {
    const { stdout } = await promisify(execFile)("npx", ["bulkcall", "--help"], {
      cwd: REPO_ROOT,
      // An address where nothing answers: any registry look-up would fail the command.
      env: { ...process.env, npm_config_registry: "http://127.0.0.1:9/", npm_config_offline: "false" },
    });
    expect(stdout).toContain("Usage: bulkcall import");
  }, 60_000);

  it("packs the command and its bundle", async () => {
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: REPO_ROOT,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    expect(pack?.files.map((f) => f.path).sort()).toEqual(
      expect.arrayContaining([
        "bin/bulkcall.mjs",
        "dist/cli/bulkcall.mjs",
        "dist/cli/THIRD-PARTY-LICENSES.txt",
        "package.json",
      ]),
    );
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ bulkcall: "bin/bulkcall.mjs" });
  }, 60_000);

  it("prints its help", async () => {
    const help = await runCli(["--help"], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: bulkcall import <file.csv|file.xlsx> --campaign <id> [options]");
  });
});
