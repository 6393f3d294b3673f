import { describe, expect, it } from "vitest";
import { call, loanRecord, newTenant } from "./helpers";

describe("smoke", () => {
  it("adds three records", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "emi", records: [loanRecord(1), loanRecord(2), loanRecord(3)] },
      t.auth,
    );
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ success: true, message: "Added 3 of 3 records" });
  });
});
