// The published record schema may never reject what the service accepts: every generated record the
// hot-path validator accepts (for any campaign type and default country) must validate against the
// CustomerRecord schema served in /openapi.json.
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { validateRecord } from "../../src/domain/records/validate-record";
import { COUNTRIES, recordArb, TYPES, validRecord } from "../support/record-arbitraries";

async function servedRecordSchema() {
  const res = await createApp().request("/openapi.json", {}, { MAX_BODY_BYTES: "20000000" } as never);
  const document = (await res.json()) as { components: { schemas: Record<string, object> } };
  return document.components.schemas.CustomerRecord as object;
}

describe("the published CustomerRecord schema", () => {
  it("accepts every record the service accepts", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const check = ajv.compile(await servedRecordSchema());
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(validRecord, recordArb),
        fc.constantFrom(...TYPES),
        fc.constantFrom(...COUNTRIES),
        (generated, type, country) => {
          // The document describes the JSON a client sends.
          if (generated === undefined) return;
          const record = JSON.parse(JSON.stringify(generated));
          if (!validateRecord(record, type, country).ok) return;
          accepted++;
          expect(check(record), JSON.stringify({ record, errors: check.errors })).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
    // The property is only worth something if many generated records were valid.
    expect(accepted).toBeGreaterThan(1000);
  });

  it("refuses values the service refuses where JSON Schema can say so", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const check = ajv.compile(await servedRecordSchema());
    const base = { loan_id: "L1", first_name: "Asha", phone_number: "9876543210" };
    expect(check(base)).toBe(true);
    expect(check({ ...base, payment_status: "PAID" })).toBe(true);
    expect(check({ ...base, payment_status: "settled" })).toBe(false);
    expect(check({ ...base, language: " Hi " })).toBe(true);
    expect(check({ ...base, language: "klingon" })).toBe(false);
    expect(check({ ...base, emi_due_date: "2026-02-30" })).toBe(false);
    expect(check({ ...base, emi_amount: -1 })).toBe(false);
    expect(check({ ...base, loan_period: 1.5 })).toBe(false);
    expect(check({ ...base, first_name: 5 })).toBe(false);
    expect(check({ ...base, note: "x", ["k".repeat(101)]: 1 })).toBe(false);
    // A key's length is not bounded in the schema: NFC can shorten what was sent, so only the
    // service can count it; the description states the limit.
    expect(check({ ...base, loan_id: ` ${"x".repeat(128)} ` })).toBe(true);
    expect(check({ ...base, loan_id: 7001 })).toBe(false);
    expect(check({ ...base, note: { nested: true } })).toBe(false);
    expect(check({ ...base, last_name: null, lead_date: null })).toBe(true);
  });
});
