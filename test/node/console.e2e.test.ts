// The Worker's pages in a real headless Chromium against the real local server (`npm run dev` on a
// fresh state directory), one server for both:
// - the web console (/console): a file is dropped, mapped, previewed and imported with calls; the
//   progress bar is followed to 100 %; the rejects file is downloaded and read; the stored customers
//   and calls are read back through the API. Bad files get clients/sheet's own messages and send
//   nothing.
// - the API reference (/docs): it renders every operation of /openapi.json with every request to
//   another origin refused, from the swagger-ui-dist version package.json pins.
// Screenshots go to test-artifacts/.
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Workbook } from "@cj-tech-master/excelts";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CONTROLS } from "../../clients/console/logic";
import {
  checkFile,
  parseCsv,
  parseXlsx,
  planImport,
  REJECT_COLUMNS,
  SheetInputError,
} from "../../clients/sheet";
import { ARTIFACTS, type Browser, launchBrowser, screenshot } from "./browser";
import { DEV_API_KEY, type DevServer, startDevServer } from "./dev-server";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
let server: DevServer;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  dir = await mkdtemp(join(tmpdir(), "bulkcall-console-"));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

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
/** A campaign whose calling window is open now (the seeded ones call 08:00-19:00 India time). */
async function newCampaign(): Promise<string> {
  const id = `console-${++campaigns}-${Date.now()}`;
  // 00:00-23:59: in a zone where it is not the last minute of the day, so no call waits for the window.
  const timezone = new Date().getUTCHours() === 23 ? "Asia/Kolkata" : "UTC";
  await api("/api/v1/campaigns", {
    method: "POST",
    body: JSON.stringify({
      id,
      name: `Console ${campaigns}`,
      campaignType: "emi",
      timezone,
      callingWindow: { start: "00:00", end: "23:59" },
    }),
  });
  return id;
}

async function storedCustomers(campaignId: string): Promise<any[]> {
  return (await api(`/api/v1/campaigns/${campaignId}/customers?limit=500`)).data;
}

interface Watched {
  page: Page;
  /** Every POST to the bulk endpoint the page made. */
  bulkPosts: string[];
  /** Every request to an origin other than the server's. */
  foreign: string[];
  /** Import progress reads the page made. */
  progressReads: number;
  /** Answers of the bulk requests, in order. */
  bulkAnswers: any[];
}

/** A new tab on /console/ with the key entered and the campaigns loaded. */
async function openConsole(): Promise<Watched> {
  const page = await browser.newPage();
  const watched: Watched = { page, bulkPosts: [], foreign: [], progressReads: 0, bulkAnswers: [] };
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(server.url) && !/^(data|blob):/.test(url)) watched.foreign.push(url);
    if (request.method() === "POST" && url.includes("/api/v1/customers/add/bulk"))
      watched.bulkPosts.push(url);
    if (url.includes("/api/v1/imports/")) watched.progressReads++;
  });
  page.on("response", async (response) => {
    if (response.request().method() === "POST" && response.url().includes("/api/v1/customers/add/bulk")) {
      watched.bulkAnswers.push(await response.json().catch(() => undefined));
    }
  });
  await page.goto(`${server.url}/console`);
  await page.fill("#api-key", DEV_API_KEY);
  await page.click("#open");
  await page.waitForSelector("#campaign");
  return watched;
}

const text = async (page: Page, testId: string) =>
  (await page.locator(`[data-testid="${testId}"]`).textContent())?.trim();

// ---------------------------------------------------------------------------------------------
// The file: 30 data rows and a blank row. Rows 2-31 are data (row 17 is blank, so 18-32 follow).
// Two customers have paid (their calls are skipped: paid), one number is on the suppression list
// (skipped: suppressed), three rows are refused by the API, one repeats a loan id, and one has a
// cell beyond the header, which the importer refuses itself.

const HEADER = "Loan ID,First Name,Mobile No,EMI Amount,EMI Due Date,Payment Status,Branch";
const SUPPRESSED = "9876500007";
interface Fixture {
  csv: string;
  good: Map<string, { phone: string; branch: string }>;
  /** [row number, code, field] of every row in the rejects file, in row order. */
  rejects: [number, string, string][];
  paid: number;
  suppressed: number;
}

function fixture(): Fixture {
  const lines = [HEADER];
  const good = new Map<string, { phone: string; branch: string }>();
  const rejects: [number, string, string][] = [];
  let paid = 0;
  let suppressed = 0;
  for (let i = 1; i <= 30; i++) {
    const rowNumber = i <= 15 ? i + 1 : i + 2;
    const loanId = `LN-${String(i).padStart(4, "0")}`;
    const digits = `98765${String(i).padStart(5, "0")}`;
    let cells = [loanId, `Name ${i}`, digits, String(1000 + i), "2026-12-05", "pending", `"Pune, ${i}"`];
    if (i === 4) cells[2] = "12345";
    if (i === 9) cells[4] = "2026-02-30";
    if (i === 13) cells[3] = '"1,200"';
    if (i === 21) cells[0] = "LN-0020";
    if (i === 25) cells = [...cells, "stray"];
    if (i === 6 || i === 27) cells[5] = "paid";
    if (i === 7) cells[2] = SUPPRESSED;
    const code =
      i === 4
        ? ["invalid_record", "phone_number"]
        : i === 9
          ? ["invalid_record", "emi_due_date"]
          : i === 13
            ? ["invalid_record", "emi_amount"]
            : i === 21
              ? ["duplicate_in_request", "loan_id"]
              : i === 25
                ? ["extra_cells", ""]
                : undefined;
    if (code) rejects.push([rowNumber, code[0] as string, code[1] as string]);
    else {
      good.set(loanId, { phone: `+91${cells[2]}`, branch: `Pune, ${i}` });
      if (i === 6 || i === 27) paid++;
      if (i === 7) suppressed++;
    }
    lines.push(cells.join(","));
    if (i === 15) lines.push("");
  }
  return { csv: `${lines.join("\n")}\n`, good, rejects, paid, suppressed };
}

const daily = fixture();

describe("the console", () => {
  it("imports a file: mapping, preview, calls to 100 %, rejects file, calls by status", async () => {
    const campaignId = await newCampaign();
    await api("/api/v1/suppressions", {
      method: "POST",
      body: JSON.stringify({ phone_numbers: [SUPPRESSED] }),
    });
    const file = join(dir, "daily.csv");
    await writeFile(file, daily.csv);
    const watched = await openConsole();
    const { page, bulkPosts, foreign, bulkAnswers } = watched;

    await page.selectOption("#campaign", campaignId);
    await page.setInputFiles("#file", file);
    // "Mobile No" names no field: until it is mapped, phone_number is missing (clients/sheet's message).
    await expect.poll(() => page.locator("#problem").getAttribute("data-code")).toBe("missing_columns");
    await page.selectOption('tr[data-header="Mobile No"] select', "phone_number");
    await page.waitForSelector("#local-preview");
    expect(await page.locator("#problem").count()).toBe(0);

    expect(await text(page, "rows-read")).toBe("30");
    expect(await text(page, "blank-rows")).toBe("1");
    expect(await text(page, "to-send")).toBe("29");
    expect(await text(page, "refused")).toBe("1");
    expect(await text(page, "requests")).toBe("1");
    expect(await page.locator("#local-preview li").allTextContents()).toEqual([
      expect.stringMatching(/^row 27: extra_cells: The row has 1 value beyond the header's 7 columns/),
    ]);
    // Without dryRun in the server's OpenAPI document the console sends no dry run (it would write).
    const documented = Object.hasOwn(
      (await api("/openapi.json")).components.schemas.BulkAddCustomersRequest.properties,
      "dryRun",
    );
    expect(await page.locator("#server-preview").getAttribute("data-state")).toBe(
      documented ? "idle" : "unsupported",
    );

    await page.check("#initiate-call");
    expect(await page.inputValue("#agent")).toBe("demo-agent");
    expect(await page.inputValue("#disposition")).toBe("demo-disposition");
    await screenshot(page, "console-preview");
    expect(bulkPosts).toHaveLength(0);

    await page.click("#import");
    await page.waitForSelector('#run[data-state="done"]', { timeout: 90_000 });
    const bar = page.locator("#calls-progress");
    const requested = daily.good.size;
    expect(await bar.getAttribute("max")).toBe(String(requested));
    expect(await bar.getAttribute("value")).toBe(String(requested));
    expect(await page.locator("#calls-percent").textContent()).toBe("100 %");
    expect(watched.progressReads).toBeGreaterThan(0);
    expect(await text(page, "summary-added")).toBe(String(requested));
    expect(await text(page, "summary-rejected")).toBe(
      "5 (extra_cells 1, invalid_record 3, duplicate_in_request 1)",
    );
    await screenshot(page, "console-imported");
    // The README's picture (docs/console.png is a copy): the preview and the finished import.
    const from = await page.locator("article", { has: page.locator("#local-preview") }).boundingBox();
    const to = await page.locator("#run").boundingBox();
    if (from && to) {
      // boundingBox() is relative to the viewport, a full-page clip to the page.
      const scrolled: number = await page.evaluate("scrollY");
      await page.screenshot({
        path: join(ARTIFACTS, "console-readme.png"),
        fullPage: true,
        clip: {
          x: from.x - 8,
          y: from.y + scrolled - 8,
          width: from.width + 16,
          height: to.y + to.height - from.y + 16,
        },
      });
    }

    // One request, with the CLI's Idempotency-Key; the progress shown is the server's.
    expect(bulkPosts).toHaveLength(1);
    const importId = bulkAnswers[0].importId;
    const progress = await api(`/api/v1/imports/${importId}`);
    expect(progress.calls).toMatchObject({
      requested,
      queued: 0,
      delayed: 0,
      skipped: { paid: daily.paid, suppressed: daily.suppressed },
    });
    expect(progress.calls.dispatched + progress.calls.completed).toBe(
      requested - daily.paid - daily.suppressed,
    );
    expect(await page.locator("#calls-counts").textContent()).toContain(
      `skipped (paid ${daily.paid}, suppressed ${daily.suppressed})`,
    );

    // What was stored, read back.
    const stored = await storedCustomers(campaignId);
    expect(
      new Map(stored.map((c) => [c.loan_id, { phone: c.phone_number, branch: c.variables.Branch }])),
    ).toEqual(daily.good);

    // The rejects file: every row not loaded, under the original header, ready to re-upload.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#rejects")]);
    expect(download.suggestedFilename()).toBe("daily.rejects.csv");
    const rejectsPath = join(dir, "daily.rejects.csv");
    await download.saveAs(rejectsPath);
    const rejects = parseCsv(await readFile(rejectsPath, "utf8")).sheet;
    expect(rejects.header).toEqual([...Object.values(REJECT_COLUMNS), ...HEADER.split(",")]);
    expect(rejects.rows.map((r) => [Number(r.cells[0]), r.cells[1], r.cells[2]])).toEqual(daily.rejects);
    expect(rejects.rows.find((r) => r.cells[0] === "27")?.cells.slice(4)).toEqual([
      "LN-0025",
      "Name 25",
      "9876500025",
      "1025",
      "2026-12-05",
      "pending",
      "Pune, 25",
      "stray",
    ]);

    // The calls, filtered by status, as the API lists them.
    await page.selectOption("#call-status", "skipped");
    await expect
      .poll(async () =>
        page.locator("#call-rows tr").evaluateAll((rows) => rows.map((r) => r.dataset.status)),
      )
      .toEqual(["skipped", "skipped", "skipped"]);
    const skipped = (await api(`/api/v1/campaigns/${campaignId}/calls?status=skipped`)).data;
    expect(await page.locator("#call-rows tr td:first-child").allTextContents()).toEqual(
      skipped.map((c: any) => c.loan_id),
    );
    await page.selectOption("#call-status", "");
    await expect.poll(() => page.locator("#call-rows tr").count()).toBe(requested);
    await screenshot(page, "console-calls");

    expect(foreign).toEqual([]);
    await page.close();
  }, 180_000);

  it("shows the server's dry run: counts, first errors, calls that would be skipped, nothing stored", async () => {
    const campaignId = await newCampaign();
    await api("/api/v1/suppressions", {
      method: "POST",
      body: JSON.stringify({ phone_numbers: [SUPPRESSED] }),
    });
    const file = join(dir, "dry.csv");
    await writeFile(file, daily.csv);
    const { page, bulkPosts } = await openConsole();
    await page.selectOption("#campaign", campaignId);
    await page.setInputFiles("#file", file);
    await page.selectOption('tr[data-header="Mobile No"] select', "phone_number");
    await page.check("#initiate-call");
    await page.click("#dry-run");
    await page.waitForSelector('#server-preview[data-state="done"]', { timeout: 60_000 });
    expect(await text(page, "would-add")).toBe(String(daily.good.size));
    expect(await text(page, "would-reject")).toBe(
      "5 (extra_cells 1, invalid_record 3, duplicate_in_request 1)",
    );
    expect(await text(page, "would-call")).toBe(String(daily.good.size - daily.paid - daily.suppressed));
    expect(await text(page, "would-skip")).toBe(`paid ${daily.paid}, suppressed ${daily.suppressed}`);
    expect(await page.locator("#server-preview li").count()).toBe(5);
    await screenshot(page, "console-dry-run");
    expect(bulkPosts).toHaveLength(1);
    expect(await storedCustomers(campaignId)).toEqual([]);
    await page.close();
  });

  it("stops at a refused part and lists every row it did not load in the rejects file", async () => {
    // 20,001 rows: three parts of at most 10,000. The first reaches the server; the second is
    // answered 413 by the browser's router (not retried: the part is refused), so the third is never sent.
    const campaignId = await newCampaign();
    const rows = 20_001;
    const lines = ["loan_id,first_name,phone_number,emi_amount,emi_due_date"];
    for (let i = 1; i <= rows; i++)
      lines.push(`BIG-${i},Name,98${String(i).padStart(8, "0")},100,2026-12-05`);
    const path = join(dir, "big.csv");
    await writeFile(path, `${lines.join("\n")}\n`);
    const { page, bulkPosts } = await openConsole();
    let bulk = 0;
    await page.route("**/api/v1/customers/add/bulk", (route) =>
      ++bulk === 1
        ? route.continue()
        : route.fulfill({
            status: 413,
            contentType: "application/json",
            body: JSON.stringify({
              success: false,
              message: "Request body too large.",
              error: { code: "payload_too_large" },
            }),
          }),
    );
    await page.selectOption("#campaign", campaignId);
    await page.setInputFiles("#file", path);
    await page.waitForSelector("#local-preview");
    expect(await text(page, "requests")).toBe("3");
    await page.click("#import");
    await page.waitForSelector('#run[data-state="done"]', { timeout: 120_000 });
    expect(bulkPosts).toHaveLength(2);
    expect(await page.locator("#run [role=alert]").textContent()).toContain(
      "The import stopped at part 2 (413). The rejects file lists every row that was not loaded and why;",
    );
    expect(await text(page, "summary-added")).toBe("10,000");
    expect(await text(page, "summary-rejected")).toBe("10,001 (request_failed 10,000, not_sent 1)");
    await screenshot(page, "console-stopped");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#rejects")]);
    const rejectsPath = join(dir, "big.rejects.csv");
    await download.saveAs(rejectsPath);
    const rejects = parseCsv(await readFile(rejectsPath, "utf8")).sheet.rows;
    expect(rejects).toHaveLength(10_001);
    expect(rejects[0]?.cells.slice(0, 2)).toEqual(["10002", "request_failed"]);
    expect(rejects[0]?.cells[3]).toContain(
      "Part 2 was refused: part 2/3 (rows 10,002–20,001, 10,000 records): 413",
    );
    expect(rejects[0]?.cells[3]).toContain("None of its rows was stored.");
    expect(rejects.at(-1)?.cells.slice(0, 2)).toEqual(["20002", "not_sent"]);
    expect(rejects.at(-1)?.cells[3]).toBe(
      "Not sent: the import stopped at part 2 (413). Import the same file again with the same settings to load it.",
    );
    expect(rejects.at(-1)?.cells.slice(4)).toEqual(["BIG-20001", "Name", "9800020001", "100", "2026-12-05"]);

    // What was stored: exactly the first part's rows.
    const stored: string[] = [];
    let cursor: string | null = null;
    do {
      const page_: { data: any[]; nextCursor: string | null } = await api(
        `/api/v1/campaigns/${campaignId}/customers?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      stored.push(...page_.data.map((c) => c.loan_id));
      cursor = page_.nextCursor;
    } while (cursor);
    expect(stored.sort()).toEqual(Array.from({ length: 10_000 }, (_, i) => `BIG-${i + 1}`).sort());
    await page.close();
  }, 240_000);

  describe("refuses a bad file before anything is sent, with the CLI's messages", () => {
    /** Drops `path` on a fresh console and returns the problem shown, after checking nothing was sent. */
    async function problemFor(
      path: string,
      then?: (page: Page) => Promise<void>,
    ): Promise<{ code: string | null; message: string; campaignId: string }> {
      const campaignId = await newCampaign();
      const { page, bulkPosts, foreign } = await openConsole();
      await page.selectOption("#campaign", campaignId);
      await page.setInputFiles("#file", path);
      await then?.(page);
      const problem = page.locator("#problem");
      await problem.waitFor();
      const shown = {
        code: await problem.getAttribute("data-code"),
        message: (await page.locator("#problem-message").textContent()) ?? "",
        campaignId,
      };
      expect(await problem.textContent()).toContain("Nothing was sent.");
      await screenshot(page, `console-refused-${shown.code}`);
      expect(await page.locator("#import").count()).toBe(0);
      expect(bulkPosts).toEqual([]);
      expect(foreign).toEqual([]);
      expect(await storedCustomers(campaignId)).toEqual([]);
      await page.close();
      return shown;
    }

    /** clients/sheet's message for the same input, worded for the console's controls. */
    function expected(run: () => unknown): { code: string; message: string } {
      try {
        run();
      } catch (error) {
        if (error instanceof SheetInputError) return { code: error.code, message: error.message };
        throw error;
      }
      throw new Error("clients/sheet accepted the file");
    }
    const withCampaign = (e: { code: string; message: string }, campaignId: string) => ({ ...e, campaignId });
    const plan = (csv: string, campaignId: string, delimiter?: string) =>
      planImport(parseCsv(csv, { delimiter }).sheet, {
        campaignType: "emi",
        campaignId,
        delimiter: parseCsv(csv, { delimiter }).delimiter,
        delimiterGiven: delimiter !== undefined,
        controls: CONSOLE_CONTROLS,
      });

    it("the wrong delimiter", async () => {
      const csv =
        "loan_id;first_name;phone_number;emi_amount;emi_due_date\nLN-1;Asha;9876543210;100;2026-12-05\n";
      const path = join(dir, "semicolons.csv");
      await writeFile(path, csv);
      const shown = await problemFor(path, async (page) => {
        await page.selectOption("#delimiter", ",");
      });
      expect(shown).toEqual(
        withCampaign(
          expected(() => plan(csv, shown.campaignId, ",")),
          shown.campaignId,
        ),
      );
      expect(shown.code).toBe("wrong_delimiter");
    }, 60_000);

    it("no header row", async () => {
      const csv = "LN-1,Asha,9876543210,100,2026-12-05\nLN-2,Ravi,9876543211,100,2026-12-05\n";
      const path = join(dir, "no-header.csv");
      await writeFile(path, csv);
      const shown = await problemFor(path);
      expect(shown).toEqual(
        withCampaign(
          expected(() => plan(csv, shown.campaignId)),
          shown.campaignId,
        ),
      );
      expect(shown.code).toBe("no_header");
    }, 60_000);

    it("a required column that is not mapped", async () => {
      const csv = "loan_id,first_name,emi_amount,emi_due_date\nLN-1,Asha,100,2026-12-05\n";
      const path = join(dir, "no-phone.csv");
      await writeFile(path, csv);
      const shown = await problemFor(path);
      expect(shown).toEqual(
        withCampaign(
          expected(() => plan(csv, shown.campaignId)),
          shown.campaignId,
        ),
      );
      expect(shown.code).toBe("missing_columns");
    }, 60_000);

    it("an empty file", async () => {
      const path = join(dir, "empty.csv");
      await writeFile(path, "");
      const shown = await problemFor(path);
      expect(shown).toEqual(
        withCampaign(
          expected(() => checkFile("empty.csv", 0, new Uint8Array())),
          shown.campaignId,
        ),
      );
      expect(shown.code).toBe("empty_file");
    }, 60_000);

    it("a 200 MB file, refused without reading it", async () => {
      const path = join(dir, "huge.csv");
      await writeFile(path, `${HEADER}\n`);
      await truncate(path, 200 * 1024 * 1024);
      const shown = await problemFor(path);
      const head = new TextEncoder().encode(HEADER.slice(0, 8));
      expect(shown).toEqual(
        withCampaign(
          expected(() => checkFile("huge.csv", 200 * 1024 * 1024, head)),
          shown.campaignId,
        ),
      );
      expect(shown.message).toContain("huge.csv is 200 MiB; the importer reads files up to 100 MiB");
    }, 60_000);

    it("a workbook with several sheets, until one is chosen", async () => {
      const workbook = new Workbook();
      for (const name of ["March", "April"]) {
        const sheet = workbook.addWorksheet(name);
        sheet.addRow(["Loan ID", "First Name", "Phone Number", "EMI Amount", "EMI Due Date"]);
        sheet.addRow([`LN-${name}`, "Asha", 9876543210, 1200, new Date(Date.UTC(2026, 11, 5))]);
      }
      const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
      const path = join(dir, "months.xlsx");
      await writeFile(path, bytes);
      let message = "";
      try {
        await parseXlsx(bytes, { controls: CONSOLE_CONTROLS });
      } catch (error) {
        message = (error as Error).message;
      }
      const shown = await problemFor(path);
      expect(shown).toEqual({
        code: "several_sheets",
        message,
        campaignId: shown.campaignId,
      });

      // Choosing a sheet reads it.
      const campaignId = await newCampaign();
      const { page } = await openConsole();
      await page.selectOption("#campaign", campaignId);
      await page.setInputFiles("#file", path);
      await page.locator("#problem").waitFor();
      await page.fill("#sheet", "April");
      await page.locator("#sheet").blur();
      await page.waitForSelector("#local-preview");
      expect(await page.locator("#file-info").textContent()).toContain('sheet "April"');
      expect(await text(page, "rows-read")).toBe("1");
      await page.close();
    }, 60_000);
  });

  it("keeps the API key for the tab only", async () => {
    const { page } = await openConsole();
    await page.reload();
    await page.waitForSelector("#campaign");
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);
    const other = await browser.newPage();
    await other.goto(`${server.url}/console/`);
    await other.waitForSelector("#api-key");
    await other.close();
    await page.click("text=Forget the key");
    await page.waitForSelector("#api-key");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  }, 60_000);

  it("says when the key is refused", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/console/`);
    await page.fill("#api-key", "not-a-key");
    await page.click("#open");
    await expect
      .poll(() => page.locator('[role="alert"]').textContent())
      .toBe("The API key was refused: check the key you entered.");
    await page.close();
  }, 60_000);
});

describe("/docs", () => {
  it("lists every operation of /openapi.json, offline, from the pinned viewer", async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    // The machine's network is closed anyway; refusing every other origin makes "offline" explicit.
    await page.route(
      (url) => !url.href.startsWith(server.url),
      (route) => {
        refused.push(route.request().url());
        return route.abort();
      },
    );
    await page.goto(`${server.url}/docs`);
    await page.waitForSelector(".opblock", { timeout: 30_000 });

    const document = await api("/openapi.json");
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(operations.length).toBeGreaterThan(20);
    const shown = await page
      .locator(".opblock-tag-section .opblock")
      .evaluateAll((blocks) =>
        blocks.map(
          (block) =>
            `${block.querySelector(".opblock-summary-method")?.textContent} ${block.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`,
        ),
      );
    expect([...shown].sort()).toEqual(operations);
    await screenshot(page, "docs");
    expect(refused).toEqual([]);

    // The viewer is the one package.json pins, served as published.
    const require = createRequire(import.meta.url);
    const pinned = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")).devDependencies[
      "swagger-ui-dist"
    ];
    const dist = require.resolve("swagger-ui-dist/package.json", { paths: [REPO_ROOT] });
    expect(JSON.parse(await readFile(dist, "utf8")).version).toBe(pinned);
    const served = new Uint8Array(
      await (await fetch(`${server.url}/docs/swagger-ui-bundle.js`)).arrayBuffer(),
    );
    expect(Buffer.from(served).equals(await readFile(join(dist, "../swagger-ui-bundle.js")))).toBe(true);
    await page.close();
  }, 90_000);
});
