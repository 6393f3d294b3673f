// The console's logic apart from its page (clients/console/logic.ts): the mapping editor's rows and
// the plan's --map they give, the call counts behind the progress bar, the rejects file's name.
import { describe, expect, it } from "vitest";
import {
  addCounts,
  type ColumnChoice,
  columnRows,
  emptyCounts,
  mapOf,
  planFor,
  rejectsName,
  settledCalls,
} from "../../clients/console/logic";
import { readSheet } from "../../clients/sheet";

const csv = (text: string) => readSheet("daily.csv", "csv", new TextEncoder().encode(text));

describe("the mapping editor", () => {
  it("starts from header matching, keeps rejects-file columns out, and turns choices into --map", async () => {
    const read = await csv(
      "bulkcall_row,Loan ID,First Name,Mobile No,EMI Amount,EMI Due Date,Branch\n2,LN-1,Asha,9876543210,100,2026-12-05,Pune\n",
    );
    const none = new Map<number, ColumnChoice>();
    expect(columnRows(read, none).map((r) => [r.header, r.choice, r.ignored, r.sample])).toEqual([
      ["bulkcall_row", "", true, "2"],
      ["Loan ID", "loan_id", false, "LN-1"],
      ["First Name", "first_name", false, "Asha"],
      ["Mobile No", "", false, "9876543210"],
      ["EMI Amount", "emi_amount", false, "100"],
      ["EMI Due Date", "emi_due_date", false, "2026-12-05"],
      ["Branch", "", false, "Pune"],
    ]);
    const campaign = { id: "demo-emi", campaignType: "emi" as const };
    const before = planFor(
      { name: "daily.csv", size: 0, bytes: new Uint8Array(), sha256: "", read },
      campaign,
      none,
      false,
    );
    expect(before.ok ? undefined : before.problem.code).toBe("missing_columns");

    // A choice equal to the header's own match adds nothing; another one is a --map entry.
    const choices = new Map<number, ColumnChoice>([
      [1, "loan_id"],
      [3, "phone_number"],
    ]);
    expect([...mapOf(read, choices)]).toEqual([["phone_number", "Mobile No"]]);
    const after = planFor(
      { name: "daily.csv", size: 0, bytes: new Uint8Array(), sha256: "", read },
      campaign,
      choices,
      false,
    );
    expect(after.ok && after.plan.parts[0]?.records).toEqual([
      {
        loan_id: "LN-1",
        first_name: "Asha",
        phone_number: "9876543210",
        emi_amount: "100",
        emi_due_date: "2026-12-05",
        Branch: "Pune",
      },
    ]);
  });

  it("names the console's controls in clients/sheet's messages", async () => {
    const read = await csv(
      "loan_id;first_name;phone_number;emi_amount;emi_due_date\nLN-1;Asha;9876543210;1;2026-12-05\n",
    );
    const forced = await readSheet("daily.csv", "csv", new TextEncoder().encode("a;b\n1;2\n"), {
      delimiter: ",",
    });
    const loaded = (r: typeof read) => ({
      name: "daily.csv",
      size: 0,
      bytes: new Uint8Array(),
      sha256: "",
      read: r,
    });
    expect(planFor(loaded(read), { id: "c", campaignType: "emi" }, new Map(), false).ok).toBe(true);
    const result = planFor(loaded(forced), { id: "c", campaignType: "emi" }, new Map(), true);
    expect(result.ok ? "" : result.problem.message).toMatch(
      /The file seems to be separated by ";": choose ";" under Delimiter, or "detect"\.$/,
    );
  });
});

describe("call progress", () => {
  it("adds up the parts' imports and counts dispatched, completed, skipped and failed calls as settled", () => {
    const a = {
      requested: 5,
      queued: 1,
      dispatched: 1,
      delayed: 1,
      skipped: { paid: 1 },
      failed: 0,
      completed: 1,
    };
    const b = {
      requested: 3,
      queued: 0,
      dispatched: 1,
      delayed: 0,
      skipped: { paid: 1, suppressed: 1 },
      failed: 0,
      completed: 0,
    };
    const total = addCounts(addCounts(emptyCounts(), a), b);
    expect(total).toEqual({
      requested: 8,
      queued: 1,
      dispatched: 2,
      delayed: 1,
      skipped: { paid: 2, suppressed: 1 },
      failed: 0,
      completed: 1,
    });
    expect(settledCalls(total)).toBe(6);
    expect(settledCalls(total) + total.queued + total.delayed).toBe(total.requested);
  });
});

it("names the rejects file as the CLI does", () => {
  expect(rejectsName("daily.csv")).toBe("daily.rejects.csv");
  expect(rejectsName("March 2026.xlsx")).toBe("March 2026.rejects.csv");
  expect(rejectsName("noext")).toBe("noext.rejects.csv");
});
