// The stored text of a record's variables: one order of names whatever order they were sent in,
// with the shortcut for variables already in order held to the full rebuild; and the positional
// row a chunk writes, written out by hand, held to the list of columns every statement reads.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CustomerToStore } from "../domain/ports/customers-repository";
import { encodeCustomerRow, POSITION, rowValues, sortedVariables } from "./customer-rows";

/** The rebuild by definition: every name, in sort order, as an own data property. */
function rebuilt(variables: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(variables).sort()) {
    Object.defineProperty(out, name, {
      value: variables[name],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** An object with these own properties in this insertion order (`__proto__` included, as JSON.parse makes it). */
function withNames(entries: readonly (readonly [string, string])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

describe("sortedVariables", () => {
  const name = fc.oneof(
    fc.constantFrom("__proto__", "constructor", "a", "B", "10", "9", "0", "branch", "é", "z"),
    fc.string({ maxLength: 6 }),
  );
  const entries = fc.uniqueArray(fc.tuple(name, fc.string({ maxLength: 4 })), {
    selector: ([n]) => n,
    maxLength: 12,
  });

  it("writes the same JSON as a rebuild in sort order, whatever order the names came in", () => {
    fc.assert(
      fc.property(entries, (list) => {
        const variables = withNames(list);
        expect(JSON.stringify(sortedVariables(variables))).toBe(JSON.stringify(rebuilt(variables)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("makes two orders of the same variables one text, and keeps an own __proto__ as a variable", () => {
    const one = sortedVariables(
      withNames([
        ["b", "2"],
        ["__proto__", "x"],
        ["a", "1"],
      ]),
    );
    const other = sortedVariables(
      withNames([
        ["a", "1"],
        ["b", "2"],
        ["__proto__", "x"],
      ]),
    );
    expect(JSON.stringify(one)).toBe('{"__proto__":"x","a":"1","b":"2"}');
    expect(JSON.stringify(other)).toBe(JSON.stringify(one));
    expect(Object.getPrototypeOf(one)).toBe(Object.prototype);
    expect(sortedVariables(undefined)).toBeUndefined();
  });
});

describe("encodeCustomerRow", () => {
  const text = fc.option(fc.string({ maxLength: 8 }), { nil: undefined });
  const amount = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: undefined });
  const whole = fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined });
  const customer: fc.Arbitrary<CustomerToStore> = fc.record({
    dedupeKey: fc.string({ minLength: 1, maxLength: 8 }),
    record: fc.record(
      {
        loan_id: text,
        lead_id: text,
        first_name: fc.string({ maxLength: 8 }),
        last_name: text,
        phone_number: fc.string({ maxLength: 16 }),
        loan_amount: amount,
        emi_amount: amount,
        loan_period: whole,
        current_emi: whole,
        emi_due_date: text,
        payment_status: fc.option(fc.constantFrom("bounced", "pending", "partial", "paid", "received"), {
          nil: undefined,
        }),
        language: text,
        lead_date: text,
        variables: fc.option(
          fc.dictionary(
            fc.string({ maxLength: 6 }),
            fc.oneof(
              fc.string({ maxLength: 6 }),
              fc.double({ noNaN: true }),
              fc.boolean(),
              fc.constant(null),
            ),
            { maxKeys: 5 },
          ),
          { nil: undefined },
        ),
      },
      { requiredKeys: ["first_name", "phone_number"] },
    ),
  });

  it("writes each column at the position the statements read it from, a missing value as null", () => {
    fc.assert(
      fc.property(customer, (c) => {
        const byColumn = rowValues(c);
        const expected = [...POSITION]
          .sort((a, b) => a[1] - b[1])
          .map(([column]) => byColumn[column as keyof typeof byColumn]);
        expect(encodeCustomerRow(c)).toBe(JSON.stringify(expected));
      }),
      { numRuns: 2_000 },
    );
  });
});
