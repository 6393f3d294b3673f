// clients/sheet: the environment-neutral half of the spreadsheet importer.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  columnLetter,
  detectDelimiter,
  fieldForHeader,
  ImportTally,
  KNOWN_FIELDS,
  MAX_RECORDS_PER_REQUEST,
  normalizeHeader,
  parseCsv,
  parseMapOption,
  partIdempotencyKey,
  planColumns,
  planImport,
  REJECT_COLUMNS,
  rejectsTable,
  rowToRecord,
  type Sheet,
  SheetInputError,
  sha256Hex,
  splitIntoParts,
  toCsv,
  utf8Length,
} from "../../clients/sheet";
import { MAX_RECORDS } from "../../src/domain/intake/add-customers-in-bulk";

const sheetOf = (header: string[], ...rows: string[][]): Sheet => ({
  header,
  headerRowNumber: 1,
  rows: rows.map((cells, i) => ({ rowNumber: i + 2, cells })),
  blankRows: 0,
});

const EMI_HEADER = ["loan_id", "first_name", "phone_number", "emi_amount", "emi_due_date"];

function problemOf(fn: () => unknown): SheetInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SheetInputError) return err;
    throw err;
  }
  throw new Error("no SheetInputError");
}

describe("header matching", () => {
  it("ignores case, spaces, underscores, hyphens and a BOM", () => {
    expect(fieldForHeader("Loan ID")).toBe("loan_id");
    expect(fieldForHeader("FIRST NAME")).toBe("first_name");
    expect(fieldForHeader("phoneNumber")).toBe("phone_number");
    expect(fieldForHeader("\uFEFFloan_id")).toBe("loan_id");
    expect(fieldForHeader(" EMI-Due-Date ")).toBe("emi_due_date");
    expect(fieldForHeader("Lead  Date")).toBe("lead_date");
    expect(fieldForHeader("Mobile No")).toBeUndefined();
    expect(fieldForHeader("loan")).toBeUndefined();
  });

  it("knows every documented field, from the API's own list", () => {
    for (const field of KNOWN_FIELDS) {
      expect(fieldForHeader(field)).toBe(field);
      expect(fieldForHeader(field.toUpperCase().replaceAll("_", " "))).toBe(field);
    }
  });

  it("sends at most as many records per request as the API accepts", () => {
    expect(MAX_RECORDS_PER_REQUEST).toBe(MAX_RECORDS);
  });

  it("maps fields by header, --map wins, other columns are variables, rejects columns are ignored", () => {
    const sheet = sheetOf([
      REJECT_COLUMNS.row,
      REJECT_COLUMNS.code,
      "Loan ID",
      "First Name",
      "Mobile No",
      "EMI Amount",
      "Due",
      " Branch ",
      "",
    ]);
    const map = parseMapOption(["phone_number=Mobile No", "emi_due_date = due"]);
    const { columns, fields } = planColumns(sheet, { campaignType: "emi", map });
    expect(fields).toEqual({ loan_id: 2, first_name: 3, phone_number: 4, emi_amount: 5, emi_due_date: 6 });
    expect(columns.map((c) => c.target)).toEqual([
      { kind: "ignored", reason: "rejects_column" },
      { kind: "ignored", reason: "rejects_column" },
      { kind: "field", field: "loan_id", by: "header" },
      { kind: "field", field: "first_name", by: "header" },
      { kind: "field", field: "phone_number", by: "map" },
      { kind: "field", field: "emi_amount", by: "header" },
      { kind: "field", field: "emi_due_date", by: "map" },
      { kind: "variable", name: "Branch" },
      { kind: "ignored", reason: "blank" },
    ]);
  });

  it("requires the columns of the campaign's type", () => {
    const lead = sheetOf(["lead_id", "first_name", "phone_number"]);
    expect(planColumns(lead, { campaignType: "lead" }).fields.lead_id).toBe(0);
    const asEmi = problemOf(() => planColumns(lead, { campaignType: "emi", campaignId: "demo-emi" }));
    expect(asEmi.code).toBe("missing_columns");
    expect(asEmi.message).toContain(
      'Campaign "demo-emi" (type emi) needs the columns loan_id, emi_amount, emi_due_date',
    );
    expect(asEmi.message).toContain('--map "loan_id=<column header>"');
    const emi = sheetOf(EMI_HEADER);
    expect(problemOf(() => planColumns(emi, { campaignType: "lead" })).message).toContain(
      "needs the column lead_id",
    );
    expect(planColumns(emi, { campaignType: "edi" }).fields.emi_due_date).toBe(4);
  });

  it("says when one column holds the whole row: a wrong delimiter", () => {
    const sheet = sheetOf([EMI_HEADER.join(";")], ["LN-1;Asha;9876543210;100;2026-12-05"]);
    const problem = problemOf(() =>
      planColumns(sheet, { campaignType: "emi", delimiter: ",", delimiterGiven: true }),
    );
    expect(problem.code).toBe("wrong_delimiter");
    expect(problem.message).toContain('separated by ";"');
    expect(problem.message).toContain('--delimiter ";"');
  });

  it("says when the first row is data, not a header", () => {
    const sheet = sheetOf(
      ["LN-1", "Asha", "9876543210", "1200", "2026-12-05"],
      ["LN-2", "Ravi", "9876543211"],
    );
    const problem = problemOf(() => planColumns(sheet, { campaignType: "emi" }));
    expect(problem.code).toBe("no_header");
    expect(problem.message).toContain("Row 1 looks like data, not a header");
  });

  it("refuses two columns for one field, a named column twice, and values under a blank header", () => {
    expect(
      problemOf(() => planColumns(sheetOf([...EMI_HEADER, "Phone Number"]), { campaignType: "emi" })).code,
    ).toBe("duplicate_columns");
    const mapped = problemOf(() =>
      planColumns(sheetOf([...EMI_HEADER, "Mobile"]), {
        campaignType: "emi",
        map: parseMapOption(["phone_number=Mobile"]),
      }),
    );
    expect(mapped.message).toContain(
      'Column "phone_number" would be read as phone_number, which --map takes from',
    );
    expect(
      problemOf(() => planColumns(sheetOf([...EMI_HEADER, "Branch", "Branch"]), { campaignType: "emi" }))
        .code,
    ).toBe("duplicate_columns");
    const unnamed = problemOf(() =>
      planColumns(sheetOf([...EMI_HEADER, ""], ["a", "b", "c", "d", "e", "orphan"]), { campaignType: "emi" }),
    );
    expect(unnamed.code).toBe("unnamed_column");
    expect(unnamed.message).toContain('Column F has values (row 2: "orphan")');
  });

  it("refuses more variable columns than a record may keep", () => {
    const header = [...EMI_HEADER, ...Array.from({ length: 51 }, (_, i) => `extra ${i}`)];
    expect(problemOf(() => planColumns(sheetOf(header), { campaignType: "emi" })).code).toBe(
      "too_many_variables",
    );
  });

  it("reads --map and explains its mistakes", () => {
    expect([...parseMapOption(["Phone Number=Mobile No, loan_id=Loan A/c", "first_name=Name"])]).toEqual([
      ["phone_number", "Mobile No"],
      ["loan_id", "Loan A/c"],
      ["first_name", "Name"],
    ]);
    expect(problemOf(() => parseMapOption(["phone_numbr=Mobile"])).message).toContain(
      '"phone_numbr" is not a record field',
    );
    expect(problemOf(() => parseMapOption(["phone_number"])).message).toContain("write field=Column Header");
    expect(problemOf(() => parseMapOption(["loan_id=A,loan_id=B"])).message).toContain("names loan_id twice");
    const missing = problemOf(() =>
      planColumns(sheetOf(EMI_HEADER), { campaignType: "emi", map: parseMapOption(["phone_number=Mobile"]) }),
    );
    expect(missing.message).toContain('the file has no column "Mobile"');
  });

  it("names columns as a spreadsheet does", () => {
    expect([0, 25, 26, 27, 701, 702].map(columnLetter)).toEqual(["A", "Z", "AA", "AB", "ZZ", "AAA"]);
  });
});

describe("rows to records", () => {
  const sheet = sheetOf([...EMI_HEADER, "Loan Amount", "Account", "Branch"]);
  const mapping = planColumns(sheet, { campaignType: "emi" });

  it("trims, leaves blanks out, sends plain decimals of numeric fields as numbers and the rest as text", () => {
    const result = rowToRecord(
      {
        rowNumber: 2,
        cells: [" LN-1 ", "आशा", "09876543210", "12500.50", "2026-12-05", "1,25,000", "000123", "  "],
      },
      mapping,
    );
    expect(result).toEqual({
      ok: true,
      record: {
        loan_id: "LN-1",
        first_name: "आशा",
        phone_number: "09876543210",
        emi_amount: "12500.50",
        emi_due_date: "2026-12-05",
        loan_amount: "1,25,000",
        Account: "000123",
      },
    });
  });

  it("refuses a row with values beyond the header", () => {
    const result = rowToRecord(
      { rowNumber: 7, cells: ["LN-1", "A", "9876543210", "1", "2026-12-05", "", "", "", "", "x"] },
      mapping,
    );
    expect(result).toEqual({ ok: false, problem: expect.objectContaining({ code: "extra_cells" }) });
    expect(
      rowToRecord(
        { rowNumber: 7, cells: ["LN-1", "A", "9876543210", "1", "2026-12-05", "", "", "", " "] },
        mapping,
      ).ok,
    ).toBe(true);
  });
});

describe("CSV", () => {
  it("reads quoted fields, a BOM, CRLF, and keeps row numbers across multi-line cells and blank rows", () => {
    const text =
      '\uFEFFloan_id,first_name,note\r\nLN-1,"Rao, Asha","line 1\r\nline 2"\r\n\r\nLN-2,"Say ""hi""",x\r\n';
    const { sheet, delimiter, detected } = parseCsv(text);
    expect(delimiter).toBe(",");
    expect(detected).toBe(true);
    expect(sheet.header).toEqual(["loan_id", "first_name", "note"]);
    expect(sheet.rows).toEqual([
      { rowNumber: 2, cells: ["LN-1", "Rao, Asha", "line 1\r\nline 2"] },
      { rowNumber: 4, cells: ["LN-2", 'Say "hi"', "x"] },
    ]);
    expect(sheet.blankRows).toBe(1);
  });

  it("detects ; tab and | even with quoted delimiters inside values", () => {
    expect(detectDelimiter('a;b;c\n"1,5";2;3\n4;"5;6";7\n')).toBe(";");
    expect(detectDelimiter("a\tb\n1\t2\n")).toBe("\t");
    expect(detectDelimiter("a|b|c\n1|2|3\n")).toBe("|");
    expect(detectDelimiter('a,b\n"x;y",2\n')).toBe(",");
    expect(detectDelimiter("only\none\n")).toBe(",");
    expect(parseCsv("a;b\n1;2").sheet.rows[0]?.cells).toEqual(["1", "2"]);
  });

  it("refuses an empty file, a header alone, and an unclosed quote", () => {
    expect(problemOf(() => parseCsv("")).code).toBe("empty_file");
    expect(problemOf(() => parseCsv("\uFEFF\r\n , \r\n")).code).toBe("empty_file");
    expect(problemOf(() => parseCsv("loan_id,first_name\n\n")).code).toBe("header_only");
    const unclosed = problemOf(() => parseCsv('a,b\n1,2\n"x,3\n4,5\n'));
    expect(unclosed.code).toBe("unclosed_quote");
    expect(unclosed.message).toContain("Row 3");
  });
});

describe("parts", () => {
  const item = (rowNumber: number, size = 10) => ({ rowNumber, record: { loan_id: "x".repeat(size) } });

  it("cuts at 10,000 records", () => {
    const items = Array.from({ length: 25_000 }, (_, i) => item(i + 2));
    const { parts } = splitIntoParts(items);
    expect(parts.map((p) => p.records.length)).toEqual([10_000, 10_000, 5_000]);
    expect(parts.map((p) => [p.rows[0], p.rows.at(-1)])).toEqual([
      [2, 10_001],
      [10_002, 20_001],
      [20_002, 25_001],
    ]);
  });

  it("cuts by body size too, and sets aside a record too large for any request", () => {
    const items = [item(2, 40_000), item(3, 40_000), item(4, 40_000), item(5, 200_000)];
    const { parts, tooLarge } = splitIntoParts(items, { maxBodyBytes: 100_000 });
    expect(parts.map((p) => p.rows)).toEqual([[2, 3], [4]]);
    expect(tooLarge.map((t) => t.rowNumber)).toEqual([5]);
  });

  it("keeps every record once, in order, within both limits, measuring bytes exactly (property)", () => {
    const record = fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.string({ maxLength: 200 }), fc.integer()),
      {
        maxKeys: 6,
      },
    );
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 120 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 4_200, max: 9_000 }),
        (records, maxRecords, maxBodyBytes) => {
          const items = records.map((r, i) => ({ rowNumber: i + 2, record: r }));
          const { parts, tooLarge } = splitIntoParts(items, { maxRecords, maxBodyBytes });
          const seen = [...parts.flatMap((p) => p.rows), ...tooLarge.map((t) => t.rowNumber)].sort(
            (a, b) => a - b,
          );
          expect(seen).toEqual(items.map((i) => i.rowNumber));
          for (const part of parts) {
            expect(part.records.length).toBeLessThanOrEqual(maxRecords);
            const json = JSON.stringify(part.records);
            expect(part.bytes).toBe(new TextEncoder().encode(json).length);
            expect(part.bytes).toBeLessThanOrEqual(maxBodyBytes - 4096);
          }
          expect(parts.flatMap((p) => p.rows)).toEqual(
            [...parts.flatMap((p) => p.rows)].sort((a, b) => a - b),
          );
        },
      ),
    );
  });

  it("measures UTF-8 like TextEncoder (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), (a, b) => {
        expect(utf8Length(a)).toBe(new TextEncoder().encode(a).length);
        expect(utf8Length(b)).toBe(new TextEncoder().encode(b).length);
      }),
    );
  });
});

describe("Idempotency-Keys", () => {
  const mapping = planColumns(sheetOf(EMI_HEADER), { campaignType: "emi" });
  const source = {
    fileSha256: "a".repeat(64),
    delimiter: ",",
    mapping,
    envelope: { campaignId: "demo-emi" } as Record<string, unknown>,
  };
  const part = { number: 2, rows: [10_002, 10_003] };

  it("hashes with Web Crypto", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("is the same for the same file, part and options, and printable within the API's 255 characters", async () => {
    const key = await partIdempotencyKey(source, part);
    expect(key).toBe(
      await partIdempotencyKey({ ...source, envelope: { campaignId: "demo-emi" } }, { ...part }),
    );
    expect(key).toMatch(/^bulkcall-v1-a{32}-p2-[0-9a-f]{24}$/);
    expect(key.length).toBeLessThanOrEqual(255);
  });

  it("changes with the file, the part, its rows, and everything that changes the body", async () => {
    const base = await partIdempotencyKey(source, part);
    const variants = [
      partIdempotencyKey({ ...source, fileSha256: "b".repeat(64) }, part),
      partIdempotencyKey(source, { ...part, number: 3 }),
      partIdempotencyKey(source, { ...part, rows: [10_002, 10_004] }),
      partIdempotencyKey({ ...source, envelope: { campaignId: "other" } }, part),
      partIdempotencyKey({ ...source, envelope: { ...source.envelope, dryRun: true } }, part),
      partIdempotencyKey({ ...source, envelope: { ...source.envelope, onExisting: "update" } }, part),
      partIdempotencyKey({ ...source, envelope: { ...source.envelope, initiateCall: true } }, part),
      partIdempotencyKey({ ...source, delimiter: ";" }, part),
      partIdempotencyKey({ ...source, sheet: "Borrowers" }, part),
      partIdempotencyKey(
        {
          ...source,
          mapping: planColumns(sheetOf(["loan_id", "first_name", "Mobile", "emi_amount", "emi_due_date"]), {
            campaignType: "emi",
            map: new Map([["phone_number", "Mobile"]]),
          }),
        },
        part,
      ),
    ];
    const keys = await Promise.all(variants);
    expect(new Set([base, ...keys]).size).toBe(keys.length + 1);
  });

  it("canonical JSON ignores key order (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe("rejects", () => {
  const sheet = sheetOf(
    [...EMI_HEADER, "Branch"],
    ["LN-1", "Asha", "9876543210", "100", "2026-12-05", "Pune, MH"],
    ["LN-2", "Ravi", "12345", "100", "2026-12-05", ""],
    ["LN-3", "", "9876543212", "1,200", "2026-12-05", "x", "stray"],
  );

  it("account for each API error by row number, and for failed and unsent parts", () => {
    const plan = planImport(sheet, { campaignType: "emi" });
    expect(plan.refused).toEqual([expect.objectContaining({ rowNumber: 4, code: "extra_cells" })]);
    const [part] = plan.parts;
    expect(part?.rows).toEqual([2, 3]);
    const tally = new ImportTally(3, 0, "loan_id");
    tally.rowProblem(4, "extra_cells", "stray value");
    tally.answered(
      part!,
      {
        success: false,
        message: "Added 1 of 2 records",
        results: {
          total: 2,
          valid: 1,
          invalid: 1,
          successful: 1,
          failed: 1,
          batchesProcessed: 1,
          errors: [
            {
              index: 1,
              key: "LN-2",
              code: "invalid_record",
              message: "Record failed validation: phone_number",
              fields: [{ field: "phone_number", message: "is not a valid phone number" }],
            },
          ],
        },
        importId: "imp_1",
      },
      false,
      207,
    );
    expect(tally.rejectList()).toEqual([
      {
        rowNumber: 3,
        code: "invalid_record",
        field: "phone_number",
        message: "phone_number: is not a valid phone number",
      },
      { rowNumber: 4, code: "extra_cells", field: "", message: "stray value" },
    ]);
    const failing = new ImportTally(3, 0, "loan_id");
    failing.failed(part!, "503 service_unavailable.", 503, true);
    failing.notSent({ ...part!, number: 2, rows: [4] }, "the import stopped at part 1.");
    expect(failing.rejectList().map((r) => [r.rowNumber, r.code])).toEqual([
      [2, "request_failed"],
      [3, "request_failed"],
      [4, "not_sent"],
    ]);
    expect(failing.summary().parts.map((p) => p.state)).toEqual(["failed", "not_sent"]);
  });

  it("keep the whole original row under the same header, and upload again as they are", () => {
    const rejects = [
      { rowNumber: 4, code: "extra_cells", field: "", message: "stray" },
      { rowNumber: 3, code: "invalid_record", field: "phone_number", message: "phone_number: is not valid" },
    ];
    const table = rejectsTable(sheet, rejects);
    expect(table).toEqual([
      ["bulkcall_row", "bulkcall_code", "bulkcall_field", "bulkcall_message", ...EMI_HEADER, "Branch"],
      [
        "3",
        "invalid_record",
        "phone_number",
        "phone_number: is not valid",
        "LN-2",
        "Ravi",
        "12345",
        "100",
        "2026-12-05",
        "",
      ],
      ["4", "extra_cells", "", "stray", "LN-3", "", "9876543212", "1,200", "2026-12-05", "x", "stray"],
    ]);
    const again = parseCsv(toCsv(table, { delimiter: ";", bom: true }));
    expect(again.delimiter).toBe(";");
    expect(again.sheet.rows.map((r) => r.cells)).toEqual(table.slice(1));
    const plan = planImport(again.sheet, { campaignType: "emi" });
    expect(plan.mapping.columns.filter((c) => c.target.kind === "variable").map((c) => c.header)).toEqual([
      "Branch",
    ]);
    expect(plan.parts[0]?.records[0]).toEqual({
      loan_id: "LN-2",
      first_name: "Ravi",
      phone_number: "12345",
      emi_amount: "100",
      emi_due_date: "2026-12-05",
    });
    // A rejects file of a rejects file has one set of importer columns, numbered by the new file.
    const second = rejectsTable(again.sheet, [
      { rowNumber: 2, code: "invalid_record", field: "", message: "m" },
    ]);
    expect(second[0]).toEqual(table[0]);
    expect(second[1]?.slice(0, 5)).toEqual(["2", "invalid_record", "", "m", "LN-2"]);
  });

  it("round-trip any cell text through CSV (property)", () => {
    const cell = fc.string({ unit: "grapheme", maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        (rows) => {
          const nonBlank = rows.filter((r) => r.some((c) => c.trim() !== ""));
          const table = [["a", "b", "c"], ...nonBlank];
          if (nonBlank.length === 0) return;
          const parsed = parseCsv(toCsv(table, { delimiter: "," }), { delimiter: "," });
          expect(parsed.sheet.rows.map((r) => r.cells)).toEqual(nonBlank);
        },
      ),
    );
  });
});

it("normalizes headers idempotently (property)", () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      expect(normalizeHeader(normalizeHeader(text))).toBe(normalizeHeader(text));
    }),
  );
});
