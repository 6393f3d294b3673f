// Generators of customer records for the property tests: records every rule accepts, and the same
// records broken field by field in every way a spreadsheet export breaks them. The validator's
// oracle test and the published-schema test both draw from here.
import fc from "fast-check";
import type { CampaignType } from "../../src/domain/model/campaign";
import { PAYMENT_STATUSES } from "../../src/domain/model/customer";
import { canonicalFieldName, KNOWN_FIELDS, LANGUAGES, LIMITS } from "../../src/domain/records/record-rules";

export const TYPES: readonly CampaignType[] = ["emi", "edi", "lead"];
export const COUNTRIES = ["IN", "US", "GB"] as const;
const DELETE = Symbol("delete");

const digit = fc.constantFrom(..."0123456789");
const digits = (n: number) => fc.string({ unit: digit, minLength: n, maxLength: n });

/** Valid phone numbers for the default countries, written the ways spreadsheets carry them. */
const phoneArb = fc.oneof(
  digits(8).map((d) => `98${d}`),
  digits(8).map((d) => `+91 98${d.slice(0, 3)}-${d.slice(3)}`),
  digits(8).map((d) => `098${d}`),
  digits(8).map((d) => Number(`9198${d}`)),
  digits(7).map((d) => `(201) 55${d.slice(0, 1)}-${d.slice(1, 5)}`),
  digits(7).map((d) => `+1 201-555-${d.slice(0, 4)}`),
  digits(6).map((d) => `07700 9${d}`),
  digits(6).map((d) => `+44 7700 9${d}`),
);
const badPhoneArb = fc.oneof(
  fc.constantFrom("123", "12345", "+91 12345 67890", "00000000000", "+999 1234567", "98765 43210 ext. 7"),
  fc.constantFrom("9876543210x", "phone", "+", "++919876543210", "９８７６５４３２１０", "tel:+919876543210"),
  fc.constantFrom(98765.5, -9876543210, 0, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY),
  fc.string({ unit: fc.constantFrom(..."0123456789+-() ."), maxLength: 18 }),
);

/** Strings around a length limit, with surrogate pairs (zod counts code points) and padding. */
const aroundLimit = (max: number) =>
  fc.oneof(
    fc.integer({ min: max - 1, max: max + 2 }).map((n) => "a".repeat(n)),
    fc.integer({ min: max - 1, max: max + 1 }).map((n) => "😀".repeat(n)),
    fc.integer({ min: max - 2, max: max + 1 }).map((n) => `${"😀".repeat(n)}a`),
    fc.integer({ min: max, max: max + 2 }).map((n) => `  ${"b".repeat(n - 1)}  `),
    fc.constant(`${"x".repeat(max - 1)}\ud83d`),
  );
/** Whitespace and invisible formatting characters a spreadsheet or a copy-paste glues to values. */
const INVISIBLES = [
  "\u200B",
  "\u200C",
  "\u200D",
  "\u200E",
  "\u200F",
  "\u2060",
  "\uFEFF",
  "\u00AD",
  " ",
  "\t",
  "\u00A0",
];
const padding = fc.array(fc.constantFrom(...INVISIBLES), { maxLength: 3 }).map((a) => a.join(""));
const padded = (value: fc.Arbitrary<string>) =>
  fc.tuple(padding, value, padding).map(([before, v, after]) => `${before}${v}${after}`);

const dateArb = fc
  .date({ min: new Date("1999-01-01"), max: new Date("2031-12-31"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const badDateArb = fc.oneof(
  fc.constantFrom("2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2025-02-29", "1900-02-29"),
  fc.constantFrom("2026-2-3", "05/12/2026", " 2026-12-05", "2026-12-05T00:00:00Z", "20261205"),
  fc.constantFrom(20261205, "2024-02-29", "2000-02-29", "2026-12-05 ", "\t2026-12-05\n"),
  fc.constantFrom("0026-12-05", "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "9999-12-31"),
  fc.string({ maxLength: 12 }),
);
/** Keys as lenders' files carry them: invisible characters at the ends or inside, composed or not. */
const keyArb = fc.oneof(
  padded(fc.string({ minLength: 1, maxLength: 10 })),
  fc.constantFrom(
    "LN-7001\u200B",
    "\u2060LN-7001",
    "LN\u200B-7001",
    "\uFEFF\uFEFF",
    "Jos\u00e9",
    "Jose\u0301",
  ),
  fc.constantFrom("\u200B", " \u00AD ", "LN\u00AD7001", "LN 7001", "A\u0301\u200D"),
);
/** Numbers as a CSV-to-JSON converter writes them, and the forms that are not plain numbers. */
const numberTextArb = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }).map(String),
  fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99 })).map(([a, b]) => `${a}.${b}`),
  padded(fc.integer({ min: 0, max: 400 }).map(String)),
  fc.constantFrom("1,25,000", "12,500.00", "₹12500", "1.25.000", "Rs 500", "12 500", "-5", "+5", ".5", "5."),
  fc.constantFrom("1e3", "0x10", "24.0", "0", "00", "007", "9".repeat(400), "１２", "٣", "12500.50"),
  // Around the digits a stored number keeps exactly: 15 fit, 16 would be rounded.
  fc.constantFrom(
    "123456789012345",
    "1234567890123456",
    "0001234567890123.45",
    "12345678901234.5",
    "1234567890.123456",
  ),
);
const caseVariants = (words: readonly string[]) =>
  fc
    .tuple(fc.constantFrom(...words), fc.array(fc.boolean(), { maxLength: 12 }), fc.boolean())
    .map(([w, upper, pad]) => {
      const cased = [...w].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
      return pad ? ` ${cased}\t` : cased;
    });
const LANGUAGE_WORDS = [
  ...Object.keys(LANGUAGES),
  "xx",
  "hindu",
  "en-IN",
  "eng",
  "hi-IN",
  "bn_BD",
  "or-in",
  "en-GB-oxendict",
  "xx-IN",
  "hi-",
  "hi--IN",
  "zh-Hant-TW",
  "ta-LK",
];
const STATUS_WORDS = [...PAYMENT_STATUSES, "bounce", "paid!", "unknown"];
const PROTOTYPE_WORDS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

/** Values that break a field in some way: wrong types, blanks, nulls, numbers as strings. */
const junk = fc.oneof(
  fc.constantFrom(null, "", "   ", "\t\n", true, false, 0, -1, -0, 1.5, "12", "1e3", "0x10", [], {}, [1], {
    a: 1,
  }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, -(2 ** 60), Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom(...PROTOTYPE_WORDS),
  fc.string({ maxLength: 8 }),
  fc.double(),
  fc.integer(),
);

/** A value for `field` that may or may not be acceptable. */
const valueFor = (field: string): fc.Arbitrary<unknown> => {
  switch (field) {
    case "loan_id":
    case "lead_id":
      return fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), keyArb, aroundLimit(LIMITS.keyMax), junk);
    case "first_name":
    case "last_name":
      return fc.oneof(fc.string({ maxLength: 10 }), aroundLimit(LIMITS.firstNameMax), junk);
    case "phone_number":
      return fc.oneof(phoneArb, badPhoneArb, junk);
    case "loan_amount":
    case "emi_amount":
      return fc.oneof(
        fc.double({ min: -10, max: 1e7, noNaN: true }),
        fc.integer({ min: -5, max: 1e6 }),
        numberTextArb,
        junk,
      );
    case "loan_period":
    case "current_emi":
      return fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double({ min: 0, max: 40 }), numberTextArb, junk);
    case "emi_due_date":
    case "lead_date":
      return fc.oneof(dateArb, badDateArb, junk);
    case "payment_status":
      return fc.oneof(caseVariants(STATUS_WORDS), junk);
    case "language":
      return fc.oneof(caseVariants(LANGUAGE_WORDS), junk);
    default:
      return fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        aroundLimit(LIMITS.variableValueMax),
        fc.constantFrom({ nested: 1 }, [1, 2], Number.NaN, undefined),
      );
  }
};

/**
 * Extra keys, and other spellings of documented fields: letter case, a BOM glued to the first CSV
 * header, surrounding spaces; plus key names that can never be variables.
 */
const EXTRA_KEYS = [
  "branch",
  "product",
  "agent_note",
  "1",
  "42",
  "record",
  "variables",
  "Loan_ID",
  "first name",
  "Payment_Status",
  "\uFEFFpayment_status",
  " loan_id ",
  "\uFEFFLOAN_ID",
  "EMI_AMOUNT",
  " Phone_Number",
  "Language ",
  "\u00A0first_name",
  "k".repeat(LIMITS.variableNameMax),
  "k".repeat(LIMITS.variableNameMax + 1),
  "😀".repeat(LIMITS.variableNameMax),
  "__proto__",
];

/** A record every rule accepts, with every documented field present or not. */
export const validRecord = fc
  .record(
    {
      loan_id: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ""),
      lead_id: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ""),
      first_name: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ""),
      last_name: fc.string({ maxLength: 20 }),
      phone_number: phoneArb,
      loan_amount: fc.double({ min: 0, max: 1e7, noNaN: true }),
      emi_amount: fc.integer({ min: 0, max: 100_000 }),
      loan_period: fc.integer({ min: 1, max: 360 }),
      current_emi: fc.integer({ min: 1, max: 360 }),
      emi_due_date: dateArb,
      payment_status: caseVariants(PAYMENT_STATUSES),
      language: caseVariants(Object.keys(LANGUAGES)),
      lead_date: dateArb,
      branch: fc.string({ maxLength: 12 }),
      product: fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null)),
    },
    {
      requiredKeys: ["loan_id", "lead_id", "first_name", "phone_number", "emi_amount", "emi_due_date"],
    },
  )
  .map((r) => {
    // current_emi <= loan_period in a valid record.
    if (r.current_emi !== undefined && r.loan_period !== undefined && r.current_emi > r.loan_period) {
      return { ...r, current_emi: r.loan_period };
    }
    return r;
  });

/** Breaks the cross-field rule, so that other problems decide whether it is reported. */
const pastLoanPeriod = validRecord.map((r) => ({ ...r, loan_period: 6, current_emi: 7 }));

const KNOWN: ReadonlySet<string> = new Set(KNOWN_FIELDS);

// Another spelling of a documented field gets values for that field.
const mutation = fc.constantFrom(...KNOWN_FIELDS, ...EXTRA_KEYS).chain((field) =>
  fc.tuple(
    fc.constant(field),
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(DELETE) },
      {
        weight: 4,
        arbitrary: valueFor(KNOWN.has(canonicalFieldName(field)) ? canonicalFieldName(field) : field),
      },
    ),
  ),
);

/** Moves or copies a documented field's value to another spelling of its name. */
const respelled = fc
  .tuple(
    validRecord,
    fc.constantFrom(...KNOWN_FIELDS),
    fc.constantFrom(
      (f: string) => f.toUpperCase(),
      (f: string) => `\uFEFF${f}`,
      (f: string) => ` ${f} `,
    ),
    fc.boolean(),
  )
  .map(([record, field, spell, keepOriginal]) => {
    const out: Record<string, unknown> = { ...record };
    if (!(field in out)) return out;
    out[spell(field)] = out[field];
    if (!keepOriginal) delete out[field];
    return out;
  });

/** Many extra keys, to cross the 50-key limit or the size of the stored variables. */
const manyExtras = fc
  .tuple(
    fc.integer({ min: 10, max: 60 }),
    fc.oneof(
      fc.constant("x"),
      fc.constant(1),
      aroundLimit(LIMITS.variableValueMax),
      fc.constant("😀".repeat(LIMITS.variableValueMax)),
      fc.constant("ह".repeat(LIMITS.variableValueMax)),
      // JSON escapes control characters as six bytes each: 50 of these pass the stored size.
      fc.constant("\u0001".repeat(LIMITS.variableValueMax)),
    ),
  )
  .map(([n, value]) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`var_${i}`, i === 0 || typeof value === "string" ? value : i]),
    ),
  );

export const recordArb = fc.oneof(
  { weight: 3, arbitrary: validRecord },
  { weight: 2, arbitrary: respelled },
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.oneof(validRecord, pastLoanPeriod), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([record, mutations]) => {
        const out: Record<string, unknown> = { ...record };
        for (const [field, value] of mutations) {
          if (value === DELETE) delete out[field];
          else out[field] = value;
        }
        return out;
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.oneof(validRecord, pastLoanPeriod), manyExtras, fc.array(mutation, { maxLength: 2 }))
      .map(([r, extras, mutations]) => {
        const out: Record<string, unknown> = { ...r, ...extras };
        for (const [field, value] of mutations) {
          if (value === DELETE) delete out[field];
          else out[field] = value;
        }
        return out;
      }),
  },
  {
    weight: 1,
    // An own "__proto__" key and numeric keys, as JSON.parse makes them.
    arbitrary: fc
      .tuple(validRecord, fc.constantFrom('"x"', "null", "{}", '{"loan_id":"P"}'))
      .map(([r, proto]) => JSON.parse(`{"__proto__":${proto},"7":"seven",${JSON.stringify(r).slice(1)}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, "record", 42, true, [], [{ loan_id: "L1" }]) },
);
