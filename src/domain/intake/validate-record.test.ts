import { describe, expect, it } from "vitest";
import { validateRecord } from "./validate-record";

describe("validateRecord", () => {
  it("normalizes a full emi record", () => {
    const v = validateRecord(
      {
        loan_id: " L1 ",
        first_name: "Asha",
        phone_number: "09876543210",
        emi_amount: 10,
        emi_due_date: "2026-12-05",
        language: "HI",
        payment_status: "Pending",
        branch: "Pune",
      },
      "emi",
      "IN",
    );
    expect(v).toEqual({
      ok: true,
      record: {
        loan_id: "L1",
        first_name: "Asha",
        phone_number: "+919876543210",
        emi_amount: 10,
        emi_due_date: "2026-12-05",
        language: "hindi",
        payment_status: "pending",
        variables: { branch: "Pune" },
      },
    });
  });
  it("names the failing field", () => {
    const v = validateRecord(
      { loan_id: "L1", first_name: "Asha", phone_number: "123", emi_amount: 10, emi_due_date: "2026-02-30" },
      "emi",
      "IN",
    );
    expect(v).toEqual({
      ok: false,
      fields: [
        { field: "phone_number", message: "is not a valid phone number" },
        { field: "emi_due_date", message: "must be a calendar date in the form YYYY-MM-DD" },
      ],
    });
  });
});
