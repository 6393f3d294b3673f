// Workbooks: fixtures are written with the same library the importer reads them with (excelts).
import { Workbook } from "@cj-tech-master/excelts";
import { describe, expect, it } from "vitest";
import { cellText, dateText, numberText, parseXlsx, planImport, SheetInputError } from "../../clients/sheet";

async function workbookBytes(build: (workbook: Workbook) => void): Promise<Uint8Array> {
  const workbook = new Workbook();
  build(workbook);
  return new Uint8Array(await workbook.xlsx.writeBuffer());
}

async function problemOf(promise: Promise<unknown>): Promise<SheetInputError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SheetInputError) return err;
    throw err;
  }
  throw new Error("no SheetInputError");
}

describe("xlsx", () => {
  it("gives numeric phone cells their exact digits, date cells YYYY-MM-DD, and keeps text as text", async () => {
    const bytes = await workbookBytes((workbook) => {
      const sheet = workbook.addWorksheet("Borrowers");
      sheet.addRow(["Loan ID", "First Name", "Mobile", "EMI Amount", "EMI Due Date", "Pincode", "Paid"]);
      sheet.addRow(["000123", "Asha", 9876543210, 12500.5, new Date(Date.UTC(2026, 11, 5)), "000411", false]);
      sheet.addRow(["000124", "Ravi", 919876543211, 800, new Date(Date.UTC(2028, 1, 29)), 411001, true]);
      for (const cell of ["E2", "E3"]) sheet.getCell(cell).numFmt = "dd/mm/yyyy";
      sheet.getCell("C2").numFmt = "0.00E+00";
    });
    const { sheet, sheetName, sheetNames } = await parseXlsx(bytes);
    expect(sheetName).toBe("Borrowers");
    expect(sheetNames).toEqual(["Borrowers"]);
    expect(sheet.rows).toEqual([
      { rowNumber: 2, cells: ["000123", "Asha", "9876543210", "12500.5", "2026-12-05", "000411", "FALSE"] },
      { rowNumber: 3, cells: ["000124", "Ravi", "919876543211", "800", "2028-02-29", "411001", "TRUE"] },
    ]);
    const plan = planImport(sheet, { campaignType: "emi", map: new Map([["phone_number", "Mobile"]]) });
    expect(plan.parts[0]?.records[0]).toEqual({
      loan_id: "000123",
      first_name: "Asha",
      phone_number: "9876543210",
      emi_amount: "12500.5",
      emi_due_date: "2026-12-05",
      Pincode: "000411",
      Paid: "FALSE",
    });
  });

  it("asks for --sheet when several sheets hold data, and finds a sheet by name or position", async () => {
    const bytes = await workbookBytes((workbook) => {
      const borrowers = workbook.addWorksheet("Borrowers");
      borrowers.addRow(["loan_id"]);
      borrowers.addRow(["LN-1"]);
      const notes = workbook.addWorksheet("Notes");
      notes.addRow(["note"]);
      notes.addRow(["call after 5"]);
      workbook.addWorksheet("Empty");
    });
    const several = await problemOf(parseXlsx(bytes));
    expect(several.code).toBe("several_sheets");
    expect(several.message).toBe(
      'The workbook has 2 sheets with data: "Borrowers", "Notes". Choose one with --sheet "<name>".',
    );
    expect((await parseXlsx(bytes, { sheet: "notes" })).sheet.rows[0]?.cells).toEqual(["call after 5"]);
    expect((await parseXlsx(bytes, { sheet: "1" })).sheetName).toBe("Borrowers");
    const unknown = await problemOf(parseXlsx(bytes, { sheet: "Loans" }));
    expect(unknown.message).toBe(
      'The workbook has no sheet "Loans". Its sheets: "Borrowers", "Notes", "Empty".',
    );
    expect((await problemOf(parseXlsx(bytes, { sheet: "Empty" }))).code).toBe("empty_file");
  });

  it("uses the one sheet with data when the others are empty, and refuses what is not a workbook", async () => {
    const bytes = await workbookBytes((workbook) => {
      workbook.addWorksheet("Sheet1");
      const data = workbook.addWorksheet("Data");
      data.addRow(["loan_id"]);
      data.addRow(["LN-1"]);
    });
    expect((await parseXlsx(bytes)).sheetName).toBe("Data");
    expect((await problemOf(parseXlsx(new TextEncoder().encode("loan_id\nLN-1\n")))).code).toBe(
      "unreadable_workbook",
    );
  });

  it("reads formulas, rich text, hyperlinks and errors as the text they show", () => {
    expect(cellText({ formula: "A1*2", result: 9876543210 })).toBe("9876543210");
    expect(cellText({ richText: [{ text: "As" }, { text: "ha" }] })).toBe("Asha");
    expect(cellText({ text: "site", hyperlink: "https://example.org" })).toBe("site");
    expect(cellText({ error: "#N/A" })).toBe("#N/A");
    expect(cellText(null)).toBe("");
  });

  it("writes numbers without exponents or float noise, and dates in the API's form", () => {
    expect(numberText(9876543210)).toBe("9876543210");
    expect(numberText(919876543210)).toBe("919876543210");
    expect(numberText(1e21)).toBe("1000000000000000000000");
    expect(numberText(0.1 + 0.2)).toBe("0.3");
    expect(numberText(12500.5)).toBe("12500.5");
    expect(dateText(new Date(Date.UTC(2026, 11, 5)))).toBe("2026-12-05");
    expect(dateText(new Date(Date.UTC(2026, 11, 5, 23, 59, 59, 999)))).toBe("2026-12-06");
    expect(dateText(new Date(Date.UTC(2026, 11, 5, 14, 30)))).toBe("2026-12-05 14:30");
    expect(dateText(new Date(Date.UTC(1899, 11, 30, 9, 15, 20)))).toBe("09:15:20");
  });
});
