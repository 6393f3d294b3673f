// Real-world files: every value lands exactly as the lender meant it, or is refused with a reason.
// Each case posts through the Worker and reads back what was STORED.
import { describe, expect, it } from "vitest";
import { call, loanRecord, newTenant } from "./helpers";

const BULK = "/api/v1/customers/add/bulk";

type Tenant = Awaited<ReturnType<typeof newTenant>>;

async function stored(t: Tenant, campaign = "emi") {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ limit: "500", ...(cursor ? { cursor } : {}) });
    const r = await call("GET", `/api/v1/campaigns/${campaign}/customers?${qs}`, undefined, t.auth);
    expect(r.status).toBe(200);
    all.push(...r.json.data);
    cursor = r.json.nextCursor;
  } while (cursor);
  return all;
}

function post(t: Tenant, records: unknown[], campaignId = "emi") {
  return call("POST", BULK, { campaignId, records }, t.auth);
}

describe("keys: invisible characters at the edges never make a second customer", () => {
  it("LN-7001 with a zero-width space or a word joiner glued to it is the same loan", async () => {
    const t = await newTenant();
    expect((await post(t, [loanRecord(1, { loan_id: "LN-7001" })])).status).toBe(201);
    const again = await post(t, [
      loanRecord(2, { loan_id: "LN-7001\u200B" }),
      loanRecord(3, { loan_id: "\u2060LN-7001" }),
      loanRecord(4, { loan_id: "\uFEFFLN-7001 " }),
    ]);
    expect(again.status).toBe(400);
    // The first is the stored loan again; the other two repeat it within the request.
    expect(again.json.results.errors.map((e: any) => [e.code, e.key])).toEqual([
      ["duplicate_existing", "LN-7001"],
      ["duplicate_in_request", "LN-7001"],
      ["duplicate_in_request", "LN-7001"],
    ]);
    const rows = await stored(t);
    expect(rows.map((r) => r.loan_id)).toEqual(["LN-7001"]);
  });

  it("stores the key without the invisible characters, and catches the same key twice in one request", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { loan_id: "\u200BLN-8001\u200D" }),
      loanRecord(2, { loan_id: "LN-8001" }),
    ]);
    expect(r.status).toBe(207);
    expect(r.json.results.errors).toEqual([
      expect.objectContaining({ index: 1, key: "LN-8001", code: "duplicate_in_request" }),
    ]);
    expect((await stored(t)).map((c) => c.loan_id)).toEqual(["LN-8001"]);
  });

  it("compares composed and decomposed writings as one key (Unicode NFC)", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { loan_id: "JOS\u00c9-1" }),
      loanRecord(2, { loan_id: "JOSE\u0301-1" }),
    ]);
    expect(r.json.results.errors).toEqual([
      expect.objectContaining({ index: 1, code: "duplicate_in_request" }),
    ]);
    expect((await stored(t)).map((c) => c.loan_id)).toEqual(["JOS\u00c9-1"]);
  });

  it("refuses a key with an invisible character inside, naming it", async () => {
    const t = await newTenant();
    const r = await post(t, [loanRecord(1, { loan_id: "LN\u200B-9001" })]);
    expect(r.status).toBe(400);
    expect(r.json.results.errors[0]).toMatchObject({
      code: "invalid_record",
      fields: [
        {
          field: "loan_id",
          message: "must not contain spaces or invisible characters: U+200B at character 3",
        },
      ],
    });
    expect(await stored(t)).toEqual([]);
  });

  it("keeps a name exactly as sent: the joiner in मोहन‍लाल is part of the name", async () => {
    const t = await newTenant();
    const name = "मोहन\u200Dलाल";
    expect(
      (await post(t, [loanRecord(1, { first_name: `  ${name} `, last_name: "Jos\u0065\u0301" })])).status,
    ).toBe(201);
    const [row] = await stored(t);
    expect(row.first_name).toBe(name);
    expect([...row.first_name].map((c: string) => c.codePointAt(0))).toEqual(
      [...name].map((c) => c.codePointAt(0)),
    );
    expect(row.last_name).toBe("Jos\u0065\u0301");
  });
});

describe("documented fields spelled another way", () => {
  it("reads Payment_Status, a BOM-glued header and a padded loan_id as the documented fields", async () => {
    const t = await newTenant();
    const { loan_id: _loan, payment_status: _status, ...rest } = loanRecord(1);
    const r = await post(t, [
      { ...rest, " loan_id ": "LN-1", Payment_Status: "paid", branch: "Pune" },
      { ...loanRecord(2, { payment_status: undefined }), "\uFEFFpayment_status": "PAID" },
      { ...loanRecord(3, { emi_amount: undefined }), EMI_AMOUNT: 999 },
    ]);
    expect(r.status, r.text).toBe(201);
    const rows = await stored(t);
    expect(rows.map((c) => [c.loan_id, c.payment_status, c.emi_amount, c.variables])).toEqual([
      ["LN-1", "paid", 12500, { branch: "Pune" }],
      ["LN-000002", "paid", 12500, {}],
      ["LN-000003", "pending", 999, {}],
    ]);
  });

  it("refuses a record carrying two spellings of one field with different values, naming both", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { payment_status: "pending", Payment_Status: "paid" }),
      loanRecord(2, { payment_status: "paid", PAYMENT_STATUS: "paid" }),
    ]);
    expect(r.status).toBe(207);
    expect(r.json.results.errors).toEqual([
      expect.objectContaining({
        index: 0,
        code: "invalid_record",
        fields: [
          {
            field: "payment_status",
            message: 'is given twice, as "payment_status" and "Payment_Status", with different values',
          },
        ],
      }),
    ]);
    expect((await stored(t)).map((c) => [c.loan_id, c.payment_status])).toEqual([["LN-000002", "paid"]]);
  });
});

describe("numbers sent as text", () => {
  it("stores plain decimals and plain digits as the numbers", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, {
        emi_amount: "12500",
        loan_amount: " 250000.50 ",
        loan_period: " 24 ",
        current_emi: "05",
      }),
    ]);
    expect(r.status, r.text).toBe(201);
    const [row] = await stored(t);
    expect(row).toMatchObject({ emi_amount: 12500, loan_amount: 250000.5, loan_period: 24, current_emi: 5 });
  });

  it("refuses grouped and currency forms, quoting what was received", async () => {
    const t = await newTenant();
    const cases = ["1,25,000", "12,500.00", "₹12500", "1.25.000", "Rs. 500", "12 500"];
    const r = await post(
      t,
      cases.map((emi_amount, i) => loanRecord(i, { emi_amount })),
    );
    expect(r.status).toBe(400);
    const messages = r.json.results.errors.map((e: any) => e.fields[0].message as string);
    cases.forEach((sent, i) => {
      expect(messages[i]).toContain(JSON.stringify(sent));
      expect(messages[i]).toMatch(/digit grouping|currency sign/);
    });
    expect(await stored(t)).toEqual([]);
  });

  it("refuses a decimal with more digits than a stored number keeps, instead of rounding it", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { loan_amount: "1234567890123456.78" }),
      loanRecord(2, { loan_amount: "123456789012345" }),
    ]);
    expect(r.status).toBe(207);
    expect(r.json.results.errors[0].fields[0].message).toBe(
      'must be a number greater than or equal to 0; "1234567890123456.78" has more than 15 digits, more than can be stored exactly',
    );
    expect((await stored(t)).map((c) => c.loan_amount)).toEqual([123456789012345]);
  });

  it("refuses an amount sent as a JSON number a stored number cannot hold, and keeps such a variable as written", async () => {
    const t = await newTenant();
    // As text the body carries each number exactly as a loan-management system wrote it.
    const body = JSON.stringify({
      campaignId: "emi",
      records: [
        loanRecord(1, { loan_amount: 1 }),
        loanRecord(2, { emi_amount: 2 }),
        loanRecord(3, { loan_amount: 3, acct: 4, tiny: 5 }),
      ],
    })
      .replace('"loan_amount":1,', '"loan_amount":12345678901234567,')
      .replace('"emi_amount":2,', '"emi_amount":1234567890.1234567,')
      .replace('"loan_amount":3,', '"loan_amount":1234567.25,')
      // Variables a double cannot hold keep the digits they were written with, as text.
      .replace('"acct":4', '"acct":98765432109876543210')
      .replace('"tiny":5', '"tiny":1e-400');
    const r = await call("POST", BULK, body, t.auth);
    expect(r.status, r.text).toBe(207);
    expect(r.json.results.errors.map((e: any) => [e.index, e.fields[0].message])).toEqual([
      [
        0,
        'must be a number greater than or equal to 0; "12345678901234567" has more than 15 digits, more than can be stored exactly',
      ],
      [
        1,
        'must be a number greater than or equal to 0; "1234567890.1234567" has more than 15 digits, more than can be stored exactly',
      ],
    ]);
    const [kept, ...others] = await stored(t);
    expect(others).toEqual([]);
    expect(kept).toMatchObject({
      loan_amount: 1234567.25,
      variables: { acct: "98765432109876543210", tiny: "1e-400" },
    });
  });

  it("keeps keys as strings: a numeric loan_id would already have lost its leading zeros", async () => {
    const t = await newTenant();
    const r = await post(t, [loanRecord(1, { loan_id: 70001 })]);
    expect(r.json.results.errors[0].fields).toEqual([{ field: "loan_id", message: "must be a string" }]);
  });
});

describe("dates and languages", () => {
  it("trims dates and refuses years outside 1900-2100", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { emi_due_date: "2026-12-05 " }),
      loanRecord(2, { emi_due_date: "0026-12-05" }),
      loanRecord(3, { emi_due_date: "2101-01-01" }),
    ]);
    expect(r.status).toBe(207);
    expect(r.json.results.errors.map((e: any) => e.index)).toEqual([1, 2]);
    expect((await stored(t)).map((c) => c.emi_due_date)).toEqual(["2026-12-05"]);
  });

  it("accepts common English names and BCP 47 tags, stored as the canonical name", async () => {
    const t = await newTenant();
    const sent = ["Oriya", "Bangla", "hi-IN", "bn_BD", "TA-lk", "en-GB-oxendict", "Panjabi"];
    const r = await post(
      t,
      sent.map((language, i) => loanRecord(i, { language })),
    );
    expect(r.status, r.text).toBe(201);
    expect((await stored(t)).map((c) => c.language)).toEqual([
      "odia",
      "bengali",
      "hindi",
      "bengali",
      "tamil",
      "english",
      "punjabi",
    ]);
    const refused = await post(t, [loanRecord(100, { language: "xx-IN" })]);
    expect(refused.json.results.errors[0].fields[0].field).toBe("language");
  });
});

describe("extra keys are bounded", () => {
  it("refuses key names over 100 characters and a __proto__ key, storing nothing of them", async () => {
    const t = await newTenant();
    const r = await call(
      "POST",
      BULK,
      // Written by hand so that "__proto__" is an own key, as JSON.parse makes it.
      `{"campaignId":"emi","records":[${JSON.stringify(loanRecord(1, { ["k".repeat(101)]: 1 }))},${JSON.stringify(
        loanRecord(2),
      ).replace(
        "{",
        '{"__proto__":{"loan_id":"LN-EVIL"},',
      )},${JSON.stringify(loanRecord(3, { ["k".repeat(100)]: "ok" }))}]}`,
      t.auth,
    );
    expect(r.status).toBe(207);
    expect(r.json.results.errors.map((e: any) => [e.index, e.fields])).toEqual([
      [0, [{ field: `${"k".repeat(100)}…`, message: "a key name may be at most 100 characters" }]],
      [1, [{ field: "__proto__", message: "is a reserved name and cannot be a key" }]],
    ]);
    const rows = await stored(t);
    expect(rows.map((c) => [c.loan_id, c.variables])).toEqual([["LN-000003", { ["k".repeat(100)]: "ok" }]]);
  });

  it("refuses a 2.5-million-character key name instead of storing megabytes of variables", async () => {
    const t = await newTenant();
    const r = await post(t, [loanRecord(1, { ["x".repeat(2_500_000)]: "v" })]);
    expect(r.status).toBe(400);
    expect(r.json.results.errors[0].fields[0].message).toBe("a key name may be at most 100 characters");
    // The answer does not echo the key: the field name is clipped.
    expect(r.text.length).toBeLessThan(2_000);
    expect(await stored(t)).toEqual([]);
  });

  it("refuses variables that would be stored as more than 256 KiB", async () => {
    const t = await newTenant();
    const heavy = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`note_${i}`, "\u0001".repeat(1000)]),
    );
    const r = await post(t, [loanRecord(1, heavy)]);
    expect(r.json.results.errors[0].fields).toEqual([
      { field: "variables", message: "the extra keys may hold at most 262,144 bytes of data" },
    ]);
    expect(await stored(t)).toEqual([]);
  });
});

describe("keys: every blank character at the edges, and text that is not Unicode", () => {
  it("a loan id with a trailing NEL, control, filler or blank braille is the same loan, dialled once", async () => {
    const t = await newTenant();
    const blanks = ["\u0085", "\u0000", "\u007F", "\u034F", "\uFE0F", "\u3164", "\u17B5", "\u2800"];
    const records = [
      loanRecord(1, { loan_id: "DUP-1" }),
      ...blanks.map((b) => loanRecord(1, { loan_id: `DUP-1${b}` })),
    ];
    const r = await post(t, records);
    expect(r.status).toBe(207);
    expect(r.json.results.successful).toBe(1);
    expect(r.json.results.errors.map((e: { code: string }) => e.code)).toEqual(
      blanks.map(() => "duplicate_in_request"),
    );
    expect((await stored(t)).map((c) => c.loan_id)).toEqual(["DUP-1"]);
  });

  it("a space inside a loan id is refused, not a second loan", async () => {
    const t = await newTenant();
    const r = await post(t, [loanRecord(1, { loan_id: "LN7001" }), loanRecord(2, { loan_id: "LN 7001" })]);
    expect(r.status).toBe(207);
    expect(r.json.results.errors[0]).toMatchObject({
      index: 1,
      code: "invalid_record",
      fields: [
        {
          field: "loan_id",
          message: "must not contain spaces or invisible characters: U+0020 at character 3",
        },
      ],
    });
    expect((await stored(t)).map((c) => c.loan_id)).toEqual(["LN7001"]);
  });

  it("a lone surrogate escape anywhere in the body is refused whole, like bytes that are not UTF-8", async () => {
    const t = await newTenant();
    for (const [body, path] of [
      [
        `{"campaignId":"emi","records":[${JSON.stringify(loanRecord(1))},{"loan_id":"LS\\ud800","first_name":"A","phone_number":"9811100001","emi_amount":1,"emi_due_date":"2026-12-05"}]}`,
        "records.1.loan_id",
      ],
      [
        `{"campaignId":"emi","records":[{"loan_id":"LS1","first_name":"\\udc00A","phone_number":"9811100001","emi_amount":1,"emi_due_date":"2026-12-05"}]}`,
        "records.0.first_name",
      ],
    ] as const) {
      const r = await call("POST", BULK, body, t.auth);
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.code).toBe("invalid_json");
      expect(r.json.error.details[0].path).toBe(path);
    }
    // A pair escaped whole is one character, and is kept.
    const emoji = await call(
      "POST",
      BULK,
      `{"campaignId":"emi","records":[{"loan_id":"LS2","first_name":"A\\ud83d\\ude00","phone_number":"9811100002","emi_amount":1,"emi_due_date":"2026-12-05"}]}`,
      t.auth,
    );
    expect(emoji.status, emoji.text).toBe(201);
    expect((await stored(t)).map((c) => [c.loan_id, c.first_name])).toEqual([["LS2", "A😀"]]);
  });
});

describe("a __proto__ key in the single add and the update", () => {
  it("is reported as in a bulk record, never dropped", async () => {
    const t = await newTenant();
    const add = await call(
      "POST",
      "/api/v1/customers/add",
      `{"campaignId":"emi","data":{"loan_id":"LN-P1","first_name":"A","phone_number":"9811100001","emi_amount":1,"emi_due_date":"2026-12-05","__proto__":"x"}}`,
      t.auth,
    );
    expect(add.status, add.text).toBe(400);
    expect(add.json.error.details).toEqual([
      { path: "data.__proto__", message: "is a reserved name and cannot be a key" },
    ]);
    expect(await stored(t)).toEqual([]);

    expect((await post(t, [loanRecord(1)])).status).toBe(201);
    const update = await call(
      "PUT",
      "/api/v1/customers/update",
      `{"campaignId":"emi","loan_id":"${loanRecord(1).loan_id}","data":{"__proto__":{"x":1}}}`,
      t.auth,
    );
    expect(update.status, update.text).toBe(400);
    expect(update.json.error.details[0]).toMatchObject({ path: "data.__proto__" });
  });
});

describe("a whole number written with a fraction", () => {
  it("names the fraction, not the length", async () => {
    const t = await newTenant();
    const r = await post(t, [loanRecord(1, { loan_period: "24.0" })]);
    expect(r.status).toBe(400);
    expect(r.json.results.errors[0].fields).toEqual([
      {
        field: "loan_period",
        message: expect.stringMatching(/"24\.0" has a fraction: send whole numbers without one$/),
      },
    ]);
  });
});

describe("a name of invisible characters alone", () => {
  it("is refused: a zero-width space is no first name", async () => {
    const t = await newTenant();
    const r = await post(t, [
      loanRecord(1, { first_name: "\u200B" }),
      loanRecord(2, { first_name: "\u0000 " }),
    ]);
    expect(r.status).toBe(400);
    expect(r.json.results.errors.map((e: { fields: unknown }) => e.fields)).toEqual([
      [{ field: "first_name", message: "must contain visible characters" }],
      [{ field: "first_name", message: "must contain visible characters" }],
    ]);
    expect(await stored(t)).toEqual([]);
  });
});
