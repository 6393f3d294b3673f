import { describe, expect, it } from "vitest";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

function leadRecord(overrides: Record<string, unknown> = {}) {
  return { lead_id: "LD-1", first_name: "Ravi", phone_number: "9876543210", ...overrides };
}

// [campaign, description, record, failing field, message]
const RULES: [string, string, Record<string, unknown>, string, string][] = [
  ["emi", "loan_id missing", loanRecord(1, { loan_id: undefined }), "loan_id", "is required"],
  ["emi", "loan_id blank", loanRecord(1, { loan_id: "   " }), "loan_id", "is required"],
  ["emi", "loan_id a number", loanRecord(1, { loan_id: 17 }), "loan_id", "must be a string"],
  [
    "emi",
    "loan_id too long",
    loanRecord(1, { loan_id: "L".repeat(129) }),
    "loan_id",
    "must be 1 to 128 characters",
  ],
  ["lead", "lead_id missing", leadRecord({ lead_id: undefined }), "lead_id", "is required"],
  [
    "lead",
    "lead_id too long",
    leadRecord({ lead_id: "L".repeat(129) }),
    "lead_id",
    "must be 1 to 128 characters",
  ],
  ["emi", "first_name missing", loanRecord(1, { first_name: undefined }), "first_name", "is required"],
  ["lead", "first_name null", leadRecord({ first_name: null }), "first_name", "is required"],
  [
    "emi",
    "first_name too long",
    loanRecord(1, { first_name: "A".repeat(101) }),
    "first_name",
    "must be 1 to 100 characters",
  ],
  [
    "emi",
    "last_name too long",
    loanRecord(1, { last_name: "B".repeat(101) }),
    "last_name",
    "must be at most 100 characters",
  ],
  ["emi", "phone_number missing", loanRecord(1, { phone_number: undefined }), "phone_number", "is required"],
  [
    "emi",
    "phone_number too short",
    loanRecord(1, { phone_number: "98765" }),
    "phone_number",
    "is not a valid phone number",
  ],
  [
    "lead",
    "phone_number unassigned range",
    leadRecord({ phone_number: "5555555555" }),
    "phone_number",
    "is not a valid phone number",
  ],
  [
    "emi",
    "phone_number a boolean",
    loanRecord(1, { phone_number: true }),
    "phone_number",
    "must be a string or a whole number",
  ],
  ["emi", "emi_amount missing", loanRecord(1, { emi_amount: undefined }), "emi_amount", "is required"],
  [
    "edi",
    "emi_amount negative",
    loanRecord(1, { emi_amount: -5 }),
    "emi_amount",
    "must be a number greater than or equal to 0",
  ],
  [
    "emi",
    "loan_amount as grouped text",
    loanRecord(1, { loan_amount: "2,50,000" }),
    "loan_amount",
    'must be a number greater than or equal to 0; "2,50,000" has digit grouping, which systems write differently (1,25,000 or 125,000 or 1.25.000): send the digits without separators',
  ],
  [
    "emi",
    "loan_period zero",
    loanRecord(1, { loan_period: 0 }),
    "loan_period",
    "must be a whole number greater than or equal to 1",
  ],
  [
    "emi",
    "current_emi fractional",
    loanRecord(1, { current_emi: 2.5 }),
    "current_emi",
    "must be a whole number greater than or equal to 1",
  ],
  [
    "emi",
    "current_emi beyond loan_period",
    loanRecord(1, { loan_period: 12, current_emi: 13 }),
    "current_emi",
    "must not be greater than loan_period",
  ],
  ["emi", "emi_due_date missing", loanRecord(1, { emi_due_date: undefined }), "emi_due_date", "is required"],
  [
    "emi",
    "emi_due_date not a calendar date",
    loanRecord(1, { emi_due_date: "2026-02-30" }),
    "emi_due_date",
    "must be a calendar date in the form YYYY-MM-DD, in the years 1900 to 2100",
  ],
  [
    "edi",
    "emi_due_date in another format",
    loanRecord(1, { emi_due_date: "05/12/2026" }),
    "emi_due_date",
    "must be a calendar date in the form YYYY-MM-DD, in the years 1900 to 2100",
  ],
  [
    "emi",
    "payment_status unknown",
    loanRecord(1, { payment_status: "overdue" }),
    "payment_status",
    "must be one of bounced, pending, partial, paid, received",
  ],
  [
    "lead",
    "language unknown",
    leadRecord({ language: "french" }),
    "language",
    expect.stringContaining("must be one of"),
  ],
  [
    "lead",
    "lead_date not a date",
    leadRecord({ lead_date: "yesterday" }),
    "lead_date",
    "must be a calendar date in the form YYYY-MM-DD, in the years 1900 to 2100",
  ],
  [
    "emi",
    "extra key with an object value",
    loanRecord(1, { address: { city: "Pune" } }),
    "address",
    "must be a string, number, boolean or null",
  ],
  [
    "emi",
    "extra key with a long value",
    loanRecord(1, { note: "n".repeat(1001) }),
    "note",
    "must be at most 1000 characters",
  ],
  [
    "emi",
    "51 extra keys",
    loanRecord(1, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`v${i}`, i]))),
    "variables",
    "a record may carry at most 50 extra keys",
  ],
] as any;

describe("each record rule names its field", () => {
  for (const [campaignId, name, record, field, message] of RULES) {
    it(`${campaignId}: ${name}`, async () => {
      const t = await newTenant();
      const good = campaignId === "lead" ? leadRecord({ lead_id: "LD-OK" }) : loanRecord(999);
      const r = await call("POST", BULK, { campaignId, records: [good, record] }, t.auth);
      expect(r.status).toBe(207);
      expect(r.json.results.errors).toHaveLength(1);
      const error = r.json.results.errors[0];
      expect(error).toMatchObject({ index: 1, code: "invalid_record" });
      expect(error.fields).toEqual([{ field, message }]);
    });
  }
});

describe("lenient where a careful caller expects it", () => {
  it("accepts every documented phone format, ISO language codes and case-insensitive enums", async () => {
    const t = await newTenant();
    const phones = ["9876543210", "09876543210", "+91 98765-43210", "919876543210", 9876543210];
    const records = phones.map((phone_number, i) =>
      loanRecord(i, {
        phone_number,
        language: ["TA", "Tamil", "ml", "ODIA", "as"][i],
        payment_status: "PAID",
      }),
    );
    const r = await call("POST", BULK, { campaignId: "emi", records }, t.auth);
    expect(r.status).toBe(201);
    const list = await call("GET", "/api/v1/campaigns/emi/customers", undefined, t.auth);
    expect(list.json.data.map((c: any) => c.phone_number)).toEqual(Array(5).fill("+919876543210"));
    expect(list.json.data.map((c: any) => c.language)).toEqual([
      "tamil",
      "tamil",
      "malayalam",
      "odia",
      "assamese",
    ]);
    expect(list.json.data.every((c: any) => c.payment_status === "paid")).toBe(true);
  });

  it("treats blank and null optional fields as absent", async () => {
    const t = await newTenant();
    const record = loanRecord(1, { last_name: "", loan_amount: null, language: " ", lead_id: null });
    const r = await call("POST", BULK, { campaignId: "emi", records: [record] }, t.auth);
    expect(r.status).toBe(201);
  });

  it("parses a foreign number against the campaign's default country", async () => {
    const t = await newTenant();
    const created = await call(
      "POST",
      "/api/v1/campaigns",
      {
        id: "us-leads",
        name: "US",
        campaignType: "lead",
        defaultCountry: "us",
        timezone: "America/New_York",
      },
      t.auth,
    );
    expect(created.status).toBe(201);
    expect(created.json.defaultCountry).toBe("US");
    const r = await call(
      "POST",
      BULK,
      { campaignId: "us-leads", records: [leadRecord({ phone_number: "(415) 555-2671" })] },
      t.auth,
    );
    expect(r.status).toBe(201);
    const list = await call("GET", "/api/v1/campaigns/us-leads/customers", undefined, t.auth);
    expect(list.json.data[0].phone_number).toBe("+14155552671");
  });
});
