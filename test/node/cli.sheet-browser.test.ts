// clients/sheet must run in a browser (a web console will reuse it): bundled for the browser it
// resolves no Node module, and it runs in a context that has only web-standard globals (no process,
// Buffer or require), reading a workbook and a CSV and deriving a key with Web Crypto.
import vm from "node:vm";
import { Workbook } from "@cj-tech-master/excelts";
import { build } from "esbuild";
import { expect, it } from "vitest";

it("bundles for the browser and runs without Node's globals", async () => {
  const output = await build({
    entryPoints: ["clients/sheet/index.ts"],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "sheet",
    write: false,
    logLevel: "silent",
  });
  const code = output.outputFiles[0]?.text ?? "";
  expect(code).not.toMatch(/require\(["']node:/);

  const web = {
    crypto,
    TextEncoder,
    TextDecoder,
    URL,
    console,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    DecompressionStream,
    CompressionStream,
    Blob,
    ReadableStream,
    WritableStream,
    TransformStream,
    Response,
    atob,
    btoa,
    structuredClone,
  };
  const context = vm.createContext({ ...web });
  vm.runInContext("globalThis.self = globalThis; globalThis.window = globalThis;", context);
  expect(vm.runInContext("typeof process + typeof Buffer + typeof require", context)).toBe(
    "undefinedundefinedundefined",
  );
  vm.runInContext(code, context);

  const workbook = new Workbook();
  const sheet = workbook.addWorksheet("Borrowers");
  sheet.addRow(["Loan ID", "First Name", "Phone Number", "EMI Amount", "EMI Due Date"]);
  sheet.addRow(["007", "Asha", 9876543210, 1200, new Date(Date.UTC(2026, 11, 5))]);
  context.bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
  const result = JSON.parse(
    await vm.runInContext(
      `(async () => {
        const book = await sheet.parseXlsx(bytes);
        const plan = sheet.planImport(book.sheet, { campaignType: "emi" });
        const key = await sheet.partIdempotencyKey(
          { fileSha256: await sheet.sha256Hex(bytes), mapping: plan.mapping, envelope: { campaignId: "c" } },
          plan.parts[0],
        );
        const csv = sheet.parseCsv("loan_id;first_name\\nLN-1;Ravi\\n");
        return JSON.stringify({ records: plan.parts[0].records, key, delimiter: csv.delimiter });
      })()`,
      context,
    ),
  );
  expect(result.records).toEqual([
    {
      loan_id: "007",
      first_name: "Asha",
      phone_number: "9876543210",
      emi_amount: "1200",
      emi_due_date: "2026-12-05",
    },
  ]);
  expect(result.key).toMatch(/^bulkcall-v1-[0-9a-f]{32}-p1-[0-9a-f]{24}$/);
  expect(result.delimiter).toBe(";");
});
