// PUT /api/v1/customers/update: a partial update judged by the intake's record rules on the stored
// record merged with the patch.
import { describe, expect, it } from "vitest";
import { call, loanRecord, newTenant } from "./helpers";

const UPDATE = "/api/v1/customers/update";

async function tenantWith(records: unknown[], campaignId = "emi") {
  const t = await newTenant();
  const r = await call("POST", "/api/v1/customers/add/bulk", { campaignId, records }, t.auth);
  expect(r.status, r.text).toBe(201);
  return t;
}

async function customer(auth: Record<string, string>, key: string, campaignId = "emi") {
  const r = await call("GET", `/api/v1/campaigns/${campaignId}/customers?limit=500`, undefined, auth);
  return (r.json.data as any[]).find((c) => (c.loan_id ?? c.lead_id) === key || c.lead_id === key);
}

describe("PUT /api/v1/customers/update — success", () => {
  it("changes only the fields sent, normalized by the record rules, and says which changed", async () => {
    const t = await tenantWith([loanRecord(1, { branch: "Pune", dpd: 3 })]);
    const before = await customer(t.auth, "LN-000001");
    const r = await call(
      "PUT",
      UPDATE,
      {
        campaignId: "emi",
        loan_id: "LN-000001",
        data: {
          Payment_Status: "Bounced",
          emi_due_date: " 2027-01-05 ",
          phone_number: "+91 98765-43210",
          language: "ta-IN",
          dpd: 33,
          segment: "gold",
        },
      },
      t.auth,
    );
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({
      success: true,
      message: "Customer updated",
      data: {
        id: "LN-000001",
        result: "updated",
        changed: ["phone_number", "emi_due_date", "payment_status", "language", "dpd", "segment"],
      },
    });
    const after = await customer(t.auth, "LN-000001");
    expect(after).toMatchObject({
      id: before.id,
      first_name: "Asha",
      emi_amount: 12500,
      phone_number: "+919876543210",
      emi_due_date: "2027-01-05",
      payment_status: "bounced",
      language: "tamil",
      // The variables keep their order; new ones come after.
      variables: { branch: "Pune", dpd: 33, segment: "gold" },
      importId: before.importId,
      createdAt: before.createdAt,
      updatedAt: expect.any(String),
    });
    expect(Object.keys(after.variables)).toEqual(["branch", "dpd", "segment"]);
  });

  it("null clears an optional field or removes a variable; the same values again are unchanged", async () => {
    const t = await tenantWith([loanRecord(1, { branch: "Pune", flag: null })]);
    const cleared = await call(
      "PUT",
      UPDATE,
      { campaignId: "emi", loan_id: "LN-000001", data: { last_name: null, loan_period: null, branch: null } },
      t.auth,
    );
    expect(cleared.json.data.changed).toEqual(["last_name", "loan_period", "branch"]);
    expect(await customer(t.auth, "LN-000001")).toMatchObject({
      last_name: null,
      loan_period: null,
      variables: { flag: null },
    });
    const again = await call(
      "PUT",
      UPDATE,
      {
        campaignId: "emi",
        loan_id: "LN-000001",
        data: { last_name: null, first_name: " Asha ", LOAN_ID: "LN-000001" },
      },
      t.auth,
    );
    expect(again.status).toBe(200);
    expect(again.json).toEqual({
      success: true,
      message: "Nothing to change",
      data: { id: "LN-000001", result: "unchanged", changed: [] },
    });
    expect((await customer(t.auth, "LN-000001")).updatedAt).toBe(
      (await customer(t.auth, "LN-000001")).updatedAt,
    );
  });

  it("finds the customer by its key as the intake normalizes it, and a lead by lead_id", async () => {
    const t = await tenantWith([{ lead_id: "LD-7", first_name: "Ravi", phone_number: "9876543210" }], "lead");
    const r = await call(
      "PUT",
      UPDATE,
      { campaignId: "lead", lead_id: "\u200BLD-7 ", data: { lead_date: "2026-11-30", loan_id: "L-1" } },
      t.auth,
    );
    expect(r.status, r.text).toBe(200);
    expect(r.json.data).toEqual({ id: "LD-7", result: "updated", changed: ["loan_id", "lead_date"] });
    expect(await customer(t.auth, "LD-7", "lead")).toMatchObject({ lead_date: "2026-11-30", loan_id: "L-1" });
  });
});

describe("PUT /api/v1/customers/update — errors", () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ["a required field cannot be cleared", { first_name: null }, "invalid_record", "data.first_name"],
    ["a blank required field is cleared too", { emi_due_date: "  " }, "invalid_record", "data.emi_due_date"],
    ["the phone is judged again", { phone_number: "12345" }, "invalid_record", "data.phone_number"],
    ["cross-field rules see the merged record", { current_emi: 30 }, "invalid_record", "data.current_emi"],
    [
      "two spellings that disagree",
      { language: "hindi", LANGUAGE: "tamil" },
      "invalid_record",
      "data.language",
    ],
    ["the key cannot change", { loan_id: "LN-999" }, "validation_error", "data.loan_id"],
    ["the key cannot be cleared", { loan_id: null }, "validation_error", "data.loan_id"],
    ["a variable must be a scalar", { notes: { a: 1 } }, "invalid_record", "data.notes"],
  ];
  for (const [name, data, code, path] of cases) {
    it(`${name} → 400 ${code}, and nothing changes`, async () => {
      const t = await tenantWith([loanRecord(1)]);
      const before = await customer(t.auth, "LN-000001");
      const r = await call("PUT", UPDATE, { campaignId: "emi", loan_id: "LN-000001", data }, t.auth);
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.details.map((d: any) => d.path)).toContain(path);
      expect(await customer(t.auth, "LN-000001")).toEqual(before);
    });
  }

  it("an unknown key or campaign is 404; the campaign's key field is required", async () => {
    const t = await tenantWith([loanRecord(1)]);
    const unknownKey = await call("PUT", UPDATE, { campaignId: "emi", loan_id: "LN-404", data: {} }, t.auth);
    expect(unknownKey.status).toBe(404);
    expect(unknownKey.json.error.code).toBe("customer_not_found");
    const unknownCampaign = await call(
      "PUT",
      UPDATE,
      { campaignId: "nope", loan_id: "LN-000001", data: {} },
      t.auth,
    );
    expect(unknownCampaign.status).toBe(404);
    expect(unknownCampaign.json.error.code).toBe("campaign_not_found");
    const wrongField = await call(
      "PUT",
      UPDATE,
      { campaignId: "emi", lead_id: "LN-000001", data: {} },
      t.auth,
    );
    expect(wrongField.status).toBe(400);
    expect(wrongField.json.error.details).toEqual([{ path: "loan_id", message: "is required" }]);
    const noData = await call("PUT", UPDATE, { campaignId: "emi", loan_id: "LN-000001" }, t.auth);
    expect(noData.status).toBe(400);
    expect(noData.json.error.details[0].path).toBe("data");
  });
});

describe("PUT /api/v1/customers/update — security", () => {
  it("another organization's campaign is 404, exactly like a missing one, and nothing changes", async () => {
    const a = await tenantWith([loanRecord(1)]);
    await call("POST", "/api/v1/campaigns", { id: "only-a", name: "A", campaignType: "emi" }, a.auth);
    await call(
      "POST",
      "/api/v1/customers/add/bulk",
      { campaignId: "only-a", records: [loanRecord(1)] },
      a.auth,
    );
    const b = await newTenant();
    const before = await customer(a.auth, "LN-000001", "only-a");
    const foreign = await call(
      "PUT",
      UPDATE,
      { campaignId: "only-a", loan_id: "LN-000001", data: { payment_status: "paid" } },
      b.auth,
    );
    const missing = await call(
      "PUT",
      UPDATE,
      { campaignId: "nowhere", loan_id: "LN-000001", data: { payment_status: "paid" } },
      b.auth,
    );
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.json.error).toEqual(missing.json.error);
    expect(foreign.json.message).toBe('Campaign "only-a" does not exist.');
    // The same campaign id in B's own organization names B's campaign, which does not hold A's loan.
    const own = await call(
      "PUT",
      UPDATE,
      { campaignId: "emi", loan_id: "LN-000001", data: { payment_status: "paid" } },
      b.auth,
    );
    expect(own.status).toBe(404);
    expect(own.json.error.code).toBe("customer_not_found");
    expect(await customer(a.auth, "LN-000001", "only-a")).toEqual(before);
    expect((await customer(a.auth, "LN-000001")).payment_status).toBe("pending");
  });

  it("requires a live API key", async () => {
    const t = await tenantWith([loanRecord(1)]);
    const r = await call("PUT", UPDATE, {
      campaignId: "emi",
      loan_id: "LN-000001",
      data: { payment_status: "paid" },
    });
    expect(r.status).toBe(401);
    expect((await customer(t.auth, "LN-000001")).payment_status).toBe("pending");
  });
});
