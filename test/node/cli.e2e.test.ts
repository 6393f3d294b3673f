// The `bulkcall` program end to end against the real local server (`npm run dev` on a fresh state
// directory), through a loopback proxy that counts the bulk requests and can interrupt a run.
// Stored customers are read back through the API.
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Workbook } from "@cj-tech-master/excelts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv, type Sheet } from "../../clients/sheet";
import { buildCli, type CountingProxy, runCli, startProxy } from "./cli-helpers";
import { DEV_API_KEY, type DevServer, startDevServer } from "./dev-server";

let server: DevServer;
let dir: string;
const proxies: CountingProxy[] = [];

beforeAll(async () => {
  await buildCli();
  server = await startDevServer();
  dir = await mkdtemp(join(tmpdir(), "bulkcall-cli-e2e-"));
}, 180_000);

afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function proxy(): Promise<CountingProxy> {
  const p = await startProxy(server.url);
  proxies.push(p);
  return p;
}

async function api(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${DEV_API_KEY}`, "Content-Type": "application/json", ...init.headers },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

let campaigns = 0;
async function newCampaign(campaignType: "emi" | "lead"): Promise<string> {
  const id = `cli-${campaignType}-${++campaigns}-${Date.now()}`;
  await api("/api/v1/campaigns", { method: "POST", body: JSON.stringify({ id, name: id, campaignType }) });
  return id;
}

/** Every stored customer of a campaign, page by page. */
async function storedCustomers(campaignId: string): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: any[]; nextCursor: string | null } = await api(
      `/api/v1/campaigns/${campaignId}/customers?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

// ---------------------------------------------------------------------------------------------
// The daily file: 25,000 rows, every 20th one bad in one of seven ways, a blank row in the middle,
// a BOM, CRLF line ends, quoted cells, Devanagari names and leading zeros.

const ROWS = 25_000;
const BLANK_AFTER = 12_345;
const pad = (value: number, width: number) => String(value).padStart(width, "0");
const LANGUAGES = [
  ["hindi", "hindi"],
  ["ta", "tamil"],
  ["English", "english"],
  ["", null],
] as const;

interface Expected {
  stored: Map<string, Record<string, unknown>>;
  /** [row number, code, field] of every bad row, in file order. */
  rejects: [number, string, string][];
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function dailyFile(): { text: string; expected: Expected } {
  const lines = ["Loan ID,First Name,Last Name,Mobile No,EMI Amount,EMI Due Date,Language,Branch,Account No"];
  const stored = new Map<string, Record<string, unknown>>();
  const rejects: [number, string, string][] = [];
  for (let i = 1; i <= ROWS; i++) {
    const rowNumber = i <= BLANK_AFTER ? i + 1 : i + 2;
    const digits = `98${pad(i, 8)}`;
    let loanId = `LN-${pad(i, 6)}`;
    let firstName = i % 2 ? "Asha" : `आशा "${i}"`;
    const lastName = i % 3 ? "Rao" : "";
    let phone = [`+91 ${digits.slice(0, 5)}-${digits.slice(5)}`, `0${digits}`, digits][i % 3] as string;
    let amount = i % 4 ? String(1000 + (i % 500)) : `${1000 + (i % 500)}.50`;
    let due = `2026-12-${pad(1 + (i % 28), 2)}`;
    const [language, storedLanguage] = LANGUAGES[i % 4] as (typeof LANGUAGES)[number];
    const branch = i % 7 ? "Pune" : "Pune, MH";
    const account = `000${i}`;
    if (i % 20 === 0) {
      const kind = (i / 20) % 7;
      const bad: [string, string][] = [
        ["invalid_record", "phone_number"],
        ["invalid_record", "first_name"],
        ["invalid_record", "phone_number"],
        ["invalid_record", "phone_number"],
        ["invalid_record", "emi_due_date"],
        ["invalid_record", "emi_amount"],
        ["duplicate_in_request", "loan_id"],
      ];
      if (kind === 0) phone = "12345";
      if (kind === 1) firstName = "";
      if (kind === 2) phone = "9.87654E+09";
      if (kind === 3) phone = `${digits}.0`;
      if (kind === 4) due = "2026-02-30";
      if (kind === 5) amount = "1,200";
      if (kind === 6) loanId = `LN-${pad(i - 1, 6)}`;
      const [code, field] = bad[kind] as [string, string];
      rejects.push([rowNumber, code, field]);
    } else {
      stored.set(loanId, {
        loan_id: loanId,
        first_name: firstName,
        last_name: lastName || null,
        phone_number: `+91${digits}`,
        emi_amount: Number(amount),
        emi_due_date: due,
        language: storedLanguage,
        variables: { Branch: branch, "Account No": account },
      });
    }
    lines.push(
      [loanId, firstName, lastName, phone, amount, due, language, branch, account].map(csvCell).join(","),
    );
    if (i === BLANK_AFTER) lines.push("");
  }
  return { text: `\uFEFF${lines.join("\r\n")}\r\n`, expected: { stored, rejects } };
}

const daily = dailyFile();
const GOOD = ROWS - ROWS / 20;

function expectStored(customers: any[]) {
  expect(customers).toHaveLength(GOOD);
  for (const customer of customers) {
    const expected = daily.expected.stored.get(customer.loan_id);
    expect(expected, customer.loan_id).toBeDefined();
    expect({
      loan_id: customer.loan_id,
      first_name: customer.first_name,
      last_name: customer.last_name,
      phone_number: customer.phone_number,
      emi_amount: customer.emi_amount,
      emi_due_date: customer.emi_due_date,
      language: customer.language,
      variables: customer.variables,
    }).toEqual(expected);
  }
  expect(new Set(customers.map((c) => c.loan_id)).size).toBe(GOOD);
}

async function expectRejectsFile(path: string, source: Sheet) {
  const rejects = parseCsv(await readFile(path, "utf8")).sheet;
  expect(rejects.header.slice(0, 4)).toEqual([
    "bulkcall_row",
    "bulkcall_code",
    "bulkcall_field",
    "bulkcall_message",
  ]);
  expect(rejects.header.slice(4)).toEqual(source.header);
  expect(rejects.rows.map((r) => [Number(r.cells[0]), r.cells[1], r.cells[2]])).toEqual(
    daily.expected.rejects,
  );
  const original = new Map(source.rows.map((r) => [r.rowNumber, r.cells]));
  for (const row of rejects.rows) {
    expect(row.cells.slice(4)).toEqual(original.get(Number(row.cells[0])));
    expect(row.cells[3]).not.toBe("");
  }
}

describe("a 25,000-row file with 5 % bad rows", () => {
  let file: string;
  let source: Sheet;
  const map = ["--map", "phone_number=Mobile No"];

  beforeAll(async () => {
    file = join(dir, "daily.csv");
    await writeFile(file, daily.text);
    source = parseCsv(daily.text).sheet;
  });

  it("loads the good rows in exactly 3 requests and writes exactly the bad ones to the rejects file", async () => {
    const campaign = await newCampaign("emi");
    const p = await proxy();
    const run = await runCli(["import", file, "--campaign", campaign, "--url", p.url, ...map], { cwd: dir });
    expect(run.stderr).toContain("part 3/3");
    expect(run.code).toBe(1);
    expect(p.bulkPosts()).toHaveLength(3);
    expect(run.stdout).toContain("rows read     25,000 (1 blank rows skipped)");
    expect(run.stdout).toContain("added         23,750\n");
    const invalid = daily.expected.rejects.filter(([, code]) => code === "invalid_record").length;
    const duplicates = daily.expected.rejects.length - invalid;
    expect(run.stdout).toContain(
      `rejected      1,250 (invalid_record ${invalid.toLocaleString("en-US")}, duplicate_in_request ${duplicates})`,
    );
    expect(run.stdout).toContain(`rejects file  ${join(dir, "daily.rejects.csv")}`);
    await expectRejectsFile(join(dir, "daily.rejects.csv"), source);
    expectStored(await storedCustomers(campaign));
  }, 180_000);

  it("killed after its first part and run again, loads nothing twice and replays the finished parts", async () => {
    const campaign = await newCampaign("emi");
    const rejectsPath = join(dir, "rerun.rejects.csv");
    const args = ["import", file, "--campaign", campaign, ...map, "--rejects", rejectsPath];
    const first = await proxy();
    let firstRun: ReturnType<typeof runCli> | undefined;
    // Part 2 reaches the proxy only once part 1 has been answered: the program dies there, and its
    // request still runs to its end on the server.
    first.onBulk = (n) => {
      if (n === 2) firstRun?.child.kill("SIGKILL");
    };
    firstRun = runCli([...args, "--url", first.url], { cwd: dir });
    const killed = await firstRun;
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stderr).toContain("part 1/3 (rows 2–10,001, 10,000 records): 207 done");
    expect(await first.upstreamAnswers.get(2)).toBe(207);
    expect(await stat(rejectsPath).catch(() => undefined)).toBeUndefined();
    const partly = await storedCustomers(campaign);
    expect(partly.length).toBeGreaterThan(0);
    expect(partly.length).toBeLessThan(GOOD);

    const second = await proxy();
    const rerun = await runCli([...args, "--url", second.url], { cwd: dir });
    expect(rerun.code).toBe(1);
    expect(second.bulkPosts()).toHaveLength(3);
    expect(
      second
        .bulkPosts()
        .slice(0, 2)
        .map((r) => r.headers["idempotency-key"]),
    ).toEqual(first.bulkPosts().map((r) => r.headers["idempotency-key"]));
    expect(rerun.stderr).toMatch(/part 1\/3 \(rows 2–10,001, 10,000 records\): 207 replayed/);
    expect(rerun.stderr).toMatch(/part 2\/3 \(rows [\d,]+–[\d,]+, 10,000 records\): 207 replayed/);
    expect(rerun.stderr).toMatch(/part 3\/3 \(rows [\d,]+–25,002, 5,000 records\): 207 done/);
    expect(rerun.stdout).toContain("requests      3 of 3, 2 replayed from an earlier run");
    expect(rerun.stdout).toContain(
      `added         23,750 (${partly.length.toLocaleString("en-US")} of them by an earlier run`,
    );
    await expectRejectsFile(rejectsPath, source);
    expectStored(await storedCustomers(campaign));
  }, 240_000);
});

describe("a workbook", () => {
  it("keeps leading zeros, turns numeric phones into digits and dates into YYYY-MM-DD", async () => {
    const workbook = new Workbook();
    const sheet = workbook.addWorksheet("Borrowers");
    sheet.addRow(["Loan ID", "First Name", "Mobile", "EMI Amount", "Due", "Pincode"]);
    sheet.addRow(["000123", "Asha", 9876543210, 12500.5, new Date(Date.UTC(2026, 11, 5)), 411001]);
    sheet.addRow(["000124", "Ravi", 919876543211, 800, new Date(Date.UTC(2027, 0, 31)), "000411"]);
    for (const cell of ["E2", "E3"]) sheet.getCell(cell).numFmt = "dd/mm/yyyy";
    const notes = workbook.addWorksheet("Notes");
    notes.addRow(["note"]);
    notes.addRow(["call after 5"]);
    const file = join(dir, "borrowers.xlsx");
    await writeFile(file, new Uint8Array(await workbook.xlsx.writeBuffer()));

    const campaign = await newCampaign("emi");
    const p = await proxy();
    const run = await runCli(
      ["import", file, "--campaign", campaign, "--url", p.url, "--sheet", "Borrowers"].concat(
        "--map",
        "phone_number=Mobile,emi_due_date=Due",
      ),
      { cwd: dir },
    );
    expect(run.code).toBe(0);
    const stored = (await storedCustomers(campaign)).map((c) => ({
      loan_id: c.loan_id,
      phone_number: c.phone_number,
      emi_amount: c.emi_amount,
      emi_due_date: c.emi_due_date,
      variables: c.variables,
    }));
    expect(stored).toEqual([
      {
        loan_id: "000123",
        phone_number: "+919876543210",
        emi_amount: 12500.5,
        emi_due_date: "2026-12-05",
        variables: { Pincode: "411001" },
      },
      {
        loan_id: "000124",
        phone_number: "+919876543211",
        emi_amount: 800,
        emi_due_date: "2027-01-31",
        variables: { Pincode: "000411" },
      },
    ]);
  }, 60_000);
});

describe("bad input is refused before anything is sent", () => {
  const emiHeader = "loan_id,first_name,phone_number,emi_amount,emi_due_date";

  async function refused(
    name: string,
    content: string | Uint8Array | null,
    extra: string[],
    campaignType: "emi" | "lead" = "emi",
  ) {
    const file = join(dir, name);
    if (content !== null) await writeFile(file, content);
    const campaign = await newCampaign(campaignType);
    const p = await proxy();
    const run = await runCli(["import", file, "--campaign", campaign, "--url", p.url, ...extra], {
      cwd: dir,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Nothing was sent.");
    expect(p.bulkPosts()).toHaveLength(0);
    expect(await storedCustomers(campaign)).toEqual([]);
    return run.stderr;
  }

  it("a wrong delimiter", async () => {
    const text = `${emiHeader.replaceAll(",", ";")}\nLN-1;Asha;9876543210;1200;2026-12-05\n`;
    expect(await refused("semicolons.csv", text, ["--delimiter", ","])).toContain(
      'Every row is read as a single column (header: "loan_id;first_name;phone_number;emi_amount;emi_due_date") with the delimiter ",", so loan_id, first_name, phone_number, emi_amount, emi_due_date cannot be found. The file seems to be separated by ";": use --delimiter ";", or leave --delimiter out to detect it.',
    );
  }, 30_000);

  it("no header row", async () => {
    const text = "LN-1,Asha,9876543210,1200,2026-12-05\nLN-2,Ravi,9876543211,1300,2026-12-06\n";
    expect(await refused("no-header.csv", text, [])).toContain(
      'Row 1 looks like data, not a header ("LN-1", "Asha", "9876543210", "1200", "2026-12-05"). The first row must name the columns, e.g. loan_id, first_name, phone_number, emi_amount, emi_due_date.',
    );
  }, 30_000);

  it("a required column the campaign's type needs, unmapped", async () => {
    const text = "Loan ID,First Name,Mobile No,EMI Amount\nLN-1,Asha,9876543210,1200\n";
    const emi = await refused("no-due-date.csv", text, ["--map", "phone_number=Mobile No"]);
    expect(emi).toMatch(
      /Campaign "cli-emi-\d+-\d+" \(type emi\) needs the column emi_due_date, which the file does not have\./,
    );
    expect(emi).toContain('Its columns: "Loan ID", "First Name", "Mobile No", "EMI Amount".');
    const lead = await refused(
      "emi-for-lead.csv",
      `${emiHeader}\nLN-1,Asha,9876543210,1200,2026-12-05\n`,
      [],
      "lead",
    );
    expect(lead).toMatch(/\(type lead\) needs the column lead_id/);
  }, 30_000);

  it("an empty file", async () => {
    expect(await refused("empty.csv", "", [])).toContain("empty.csv is empty (0 bytes).");
    expect(await refused("blank.csv", "\uFEFF\r\n,,\r\n", [])).toContain(
      "The file is empty: no row has a value.",
    );
  }, 30_000);

  it("a 200 MB file", async () => {
    const file = join(dir, "huge.csv");
    await writeFile(file, `${emiHeader}\n`);
    await truncate(file, 200 * 1024 * 1024);
    expect(await refused("huge.csv", null, [])).toContain(
      "huge.csv is 200 MiB; the importer reads files up to 100 MiB (about a million CSV rows). Split it into smaller files and import each one.",
    );
  }, 30_000);

  it("a workbook with several sheets and no --sheet", async () => {
    const workbook = new Workbook();
    for (const name of ["March", "April"]) {
      const sheet = workbook.addWorksheet(name);
      sheet.addRow(emiHeader.split(","));
      sheet.addRow(["LN-1", "Asha", 9876543210, 1200, "2026-12-05"]);
    }
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
    expect(await refused("two-sheets.xlsx", bytes, [])).toContain(
      'The workbook has 2 sheets with data: "March", "April". Choose one with --sheet "<name>".',
    );
  }, 30_000);
});

describe("--dry-run", () => {
  it("answers what the import would do and stores nothing", async () => {
    const file = join(dir, "dry.csv");
    await writeFile(file, daily.text);
    const campaign = await newCampaign("emi");
    const p = await proxy();
    const run = await runCli(
      [
        "import",
        file,
        "--campaign",
        campaign,
        "--url",
        p.url,
        "--map",
        "phone_number=Mobile No",
        "--dry-run",
      ],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(1);
    expect(p.bulkPosts()).toHaveLength(3);
    expect(p.bulkPosts().every((r) => r.headers["idempotency-key"] === undefined)).toBe(true);
    expect(run.stdout).toContain("Dry run (nothing was written):");
    expect(run.stdout).toContain("would add     23,750");
    await expectRejectsFile(join(dir, "dry.rejects.csv"), parseCsv(daily.text).sheet);
    expect(await storedCustomers(campaign)).toEqual([]);
  }, 180_000);
});
