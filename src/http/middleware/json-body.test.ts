// quoteNumbersAsWritten, the one pass that keeps a float-written phone number's text, held to its
// definition: JSON.parse with a reviver that reads each number's source text (which workerd's V8
// passes), the way the body used to be read. And parseJsonBody's run-by-run parse of large bodies,
// held to the whole parse of smaller ones.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../domain/errors";
import { canonicalFieldName } from "../../domain/records/record-rules";
import {
  type BodySplitting,
  heldExactly,
  MAX_ARRAY_ELEMENTS,
  MAX_JSON_CONTAINERS,
  parseJsonBody,
  quoteNumbersAsWritten,
} from "./json-body";
import { splitValue } from "./json-split";

class Written {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}
}

/** The definition: a phone_number's float-written number, or a phone_numbers entry's, keeps its text. */
function reviver(this: unknown, key: string, value: unknown, context?: { source?: string }): unknown {
  const source = context?.source;
  if (typeof value === "number" && source !== undefined) {
    if (Array.isArray(this)) return new Written(value, source);
    if (canonicalFieldName(key) === "phone_number" && /[.eE]/.test(source)) return source;
    // A number a double cannot hold as written keeps its text wherever it is.
    if (!heldExactly(source)) return source;
  }
  if (Array.isArray(value)) {
    const phones = canonicalFieldName(key) === "phone_numbers";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item instanceof Written) {
        const asWritten = (phones && /[.eE]/.test(item.source)) || !heldExactly(item.source);
        value[i] = asWritten ? item.source : item.value;
      }
    }
  }
  return value;
}

const number = fc.constantFrom(
  "9.87654E+09",
  "98765432100e-1",
  "9876543210.0",
  "9.87654e9",
  "1.5",
  "-0.5E-3",
  "9876543210",
  "0",
  "-12",
  "1e5",
  "12.50",
);
const phoneKey = fc.constantFrom(
  "phone_number",
  "Phone_Number",
  " PHONE_NUMBER ",
  "phone\\u005fnumber",
  "phone",
);
const space = fc.constantFrom("", " ", "\n  ");
const text = fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s));

/** Bodies with phone numbers in every place the definition looks, and in places it does not. */
/** Amounts as a loan-management system may write them, some with more digits than a double keeps. */
const longNumber = fc.constantFrom(
  "12345678901234567",
  "1234567890123456.5",
  "-0.1234567890123456789",
  "123456789012345",
  "1.2345678901234567e5",
  "100000000000000000000",
  "0.000000000000000000001",
  "250000",
);

const body = fc
  .tuple(
    phoneKey,
    number,
    number,
    number,
    number,
    number,
    space,
    text,
    fc.jsonValue({ maxDepth: 3 }),
    longNumber,
  )
  .map(
    ([key, a, b, c, d, e, w, t, other, long]) =>
      `{${w}"records":[{"${key}":${w}${a},"note":${t},"x":"\\"phone_number\\": 1.5","amount":${b},"Loan_Amount ":${long},"emi_amount":${e}},` +
      `{"phone_numbers":[${c},${w}[${d}],${t},{"phone_number":${e}}]}],` +
      `"phone_numbers":[${e}${w},${a}],"other":${JSON.stringify(other)}}`,
  );

describe("quoteNumbersAsWritten", () => {
  it("reads every body as the source-text reviver does", () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(JSON.parse(quoteNumbersAsWritten(b))).toEqual(JSON.parse(b, reviver as never));
      }),
      { numRuns: 1_000 },
    );
  });

  it("leaves any JSON without such numbers untouched, and malformed numbers for JSON.parse to refuse", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const b = JSON.stringify(v);
        expect(JSON.parse(quoteNumbersAsWritten(b))).toEqual(JSON.parse(b, reviver as never));
      }),
      { numRuns: 500 },
    );
    const malformed = '{"phone_number": 1.}';
    expect(quoteNumbersAsWritten(malformed)).toBe(malformed);
    expect(quoteNumbersAsWritten('{"phone_number":9.87654E+09}')).toBe('{"phone_number":"9.87654E+09"}');
    expect(quoteNumbersAsWritten('{"loan_amount":12345678901234567,"emi_amount":1234.5}')).toBe(
      '{"loan_amount":"12345678901234567","emi_amount":1234.5}',
    );
    expect(quoteNumbersAsWritten('{"loan_amount":123456789012345,"emi_amount":0.00000000000000001}')).toBe(
      '{"loan_amount":123456789012345,"emi_amount":0.00000000000000001}',
    );
  });

  it("keeps as text every number a double would not hold as written", () => {
    for (const held of [
      "0",
      "-0",
      "0.0",
      "0e5",
      "250000",
      "1234.50",
      "123456789012345",
      "0.00000000000000001",
      "1e300",
      "-2.5E-3",
    ]) {
      expect(heldExactly(held), held).toBe(true);
    }
    for (const changed of [
      "12345678901234567",
      "1234567890.1234567",
      "100000000000000000000",
      "1e400",
      "-1e400",
      "1e-400",
      "4.9e-324",
      "1.7976931348623157e308",
    ]) {
      expect(heldExactly(changed), changed).toBe(false);
    }
    expect(quoteNumbersAsWritten('{"records":[{"acct":12345678901234567,"n":[1e400,2]}]}')).toBe(
      '{"records":[{"acct":"12345678901234567","n":["1e400",2]}]}',
    );
  });

  it("walks any depth without recursion", () => {
    const deep = `{"phone_numbers":[9.5,${"[".repeat(200_000)}${"]".repeat(200_000)}]}`;
    expect(quoteNumbersAsWritten(deep).startsWith('{"phone_numbers":["9.5",')).toBe(true);
  });
});

/** What parseJsonBody makes of a body: its value, or the error's code and message. */
function outcome(
  bytes: Uint8Array,
  fromBytes: number,
  cut: Partial<Omit<BodySplitting, "fromBytes">> = {},
): { value?: unknown; code?: string; message?: string } {
  const splitting = { fromBytes, runBytes: 128 * 1024, minPieceBytes: 0, bigBytes: 1024 * 1024, ...cut };
  try {
    return { value: parseJsonBody(bytes.slice().buffer, splitting) };
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { code: err.code, message: err.message };
  }
}

/**
 * The same value, or the same error code; the same message too when both name a byte that is not
 * UTF-8 or a lone surrogate. (A body with a syntax error in one record and a bad byte in a later
 * one may be refused for either: both are invalid_json.)
 */
function expectSameOutcome(bytes: Uint8Array, cut: Partial<Omit<BodySplitting, "fromBytes">> = {}): void {
  const split = outcome(bytes, 0, cut);
  const whole = outcome(bytes, Number.POSITIVE_INFINITY);
  expect(split.code).toBe(whole.code);
  if (whole.code === undefined) expect(split.value).toEqual(whole.value);
  const exact = /UTF-8:|Unicode/;
  if (exact.test(split.message ?? "") && exact.test(whole.message ?? ""))
    expect(split.message).toBe(whole.message);
}

const ws = fc.constantFrom("", " ", "\n\t", "\r\n  ");
/** A record's text: any JSON, or a record with float phones, escapes and surrogates, or a broken one. */
const element = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .tuple(
      phoneKey,
      number,
      text,
      fc.constantFrom("\\ud83d\\ude00", "\\uD800", "\\u0101", "ā€", '\\"]', "\\\\"),
    )
    .map(([k, n, t, s]) => `{"${k}":${n},"note":${t},"name":"${s}","phone_numbers":[${n}]}`),
  fc.constantFrom(
    "",
    "{",
    '{"a":1]',
    '"open',
    "[1,]",
    "1 2",
    "\uFEFF1",
    "{}}",
    "]",
    "nul",
    '"aaaa" "bbbb"',
    '"k":"v"',
    '{"a":{"phone_number":1}, 1.5: 2}',
    '{"phone_number":"x", 1.5:"y"}',
    '[{"phone_number":"x","amount":2.5},{1.5:2}]',
    '{"a":[1]}}',
    "[[1, ,2]]",
    `${"[".repeat(40)}"deep"${"]".repeat(40)}`,
  ),
);
const topKey = fc.constantFrom(
  "campaignId",
  "records",
  "rec\\u006frds",
  "phone_numbers",
  "Records",
  "dryRun",
);
/** Bodies shaped like a bulk request: a records array among other keys, with the ways one can go wrong. */
const bulkBody = fc
  .tuple(
    fc.array(fc.tuple(ws, element, ws), { maxLength: 6 }),
    fc.array(
      fc.tuple(
        topKey,
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          number,
          fc.array(fc.oneof(number, element), { maxLength: 4 }).map((a) => `[${a.join(",")}]`),
        ),
      ),
      {
        maxLength: 3,
      },
    ),
    fc.nat(3),
    fc.constantFrom("", "\uFEFF", " "),
    fc.constantFrom("", " ", "\n", "x", "{}", "[[", ","),
    fc.constantFrom("object", "array", "nested object", "nested array"),
  )
  .map(([records, others, at, before, after, shape]) => {
    const array = `[${records.map(([a, e, b]) => `${a}${e}${b}`).join(",")}]`;
    // A body that is an array itself (no route takes one; it is still split, and refused whole).
    if (shape === "array") return `${before}${array}${after}`;
    const members = others.map(([k, v]) => `"${k}":${v}`);
    members.splice(Math.min(at, members.length), 0, `"records" :${array}`);
    const object = `{${members.join(",")}}`;
    // The same one level down: in a member of an object, or as the element of an array.
    if (shape === "nested object") return `${before}{"data": ${object}, "n": [1]}${after}`;
    if (shape === "nested array") return `${before}[${object} , ${array}]${after}`;
    return `${before}${object}${after}`;
  });

/** A body with one byte changed: a structural character, a backslash, or a byte that is not UTF-8. */
const mutated = fc
  .tuple(bulkBody, fc.nat(), fc.constantFrom(0x22, 0x5c, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x80, 0xc3, 0xff, -1))
  .map(([b, at, byte]) => {
    const bytes = Array.from(new TextEncoder().encode(b));
    const i = at % (bytes.length + 1);
    if (byte < 0) bytes.splice(i, 1);
    else bytes.splice(i, 0, byte);
    return Uint8Array.from(bytes);
  });

describe("parseJsonBody and float-written phones", () => {
  const parse = (body: string, fromBytes = Number.POSITIVE_INFINITY) =>
    parseJsonBody(new TextEncoder().encode(body).buffer as ArrayBuffer, {
      fromBytes,
      runBytes: 0,
      minPieceBytes: 0,
      bigBytes: 0,
    });

  it("keeps the text of a phone under any spelling of its key, whatever else the body holds, whole or in pieces", () => {
    const bodies: [string, unknown][] = [
      ['{"records":[{"\\u0070hone_number":9.87654E+09}]}', { records: [{ phone_number: "9.87654E+09" }] }],
      ['{" phone_numbers":[9.87654E+09, 5]}', { " phone_numbers": ["9.87654E+09", 5] }],
      ['{"phone\\u005fnumbers":[9.87654E+09,5]}', { phone_numbers: ["9.87654E+09", 5] }],
      ['{"\uFEFFphone_numbers":[1.5e3]}', { "\uFEFFphone_numbers": ["1.5e3"] }],
      [
        '{"records":[{"phone_number":9.87654E+09}],"\\u0070hone_number":1.5e9}',
        { records: [{ phone_number: "9.87654E+09" }], phone_number: "1.5e9" },
      ],
      [
        '{"records":[{"Phone_Numbers ":[9.87654E+09]}],"k":"phone_numbers"}',
        { records: [{ "Phone_Numbers ": ["9.87654E+09"] }], k: "phone_numbers" },
      ],
      [
        '{"amount":1.5,"records":[{"phone_number":98765.4321e5}]}',
        { amount: 1.5, records: [{ phone_number: "98765.4321e5" }] },
      ],
    ];
    for (const [body, expected] of bodies) {
      expect(parse(body)).toEqual(expected);
      expect(parse(body, 0)).toEqual(expected);
    }
  });

  it("reads a key once, however many values follow it in a body that is not JSON", () => {
    // One 200,000-character key followed by 80,000 numbers: each number used to lowercase the key.
    const body = `{"phone_number":1.5,"${"K".repeat(200_000)}":${"1,".repeat(80_000)}1}`;
    expect(quoteNumbersAsWritten(body).startsWith('{"phone_number":"1.5",')).toBe(true);
    expect(() => parse(body)).toThrow(expect.objectContaining({ code: "invalid_json" }));
  });
});

describe("parseJsonBody run by run", () => {
  it("gives the value, or the error, a whole parse gives", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          bulkBody.map((b) => new TextEncoder().encode(b)),
          mutated,
        ),
        // Runs of one element each, of a few, and of all of them; every member cut out, or only the
        // longer ones; every element split again, only the longer ones, or none.
        fc.constantFrom(0, 1, 40, 128 * 1024),
        fc.constantFrom(0, 30),
        fc.constantFrom(0, 20, Number.POSITIVE_INFINITY),
        (bytes, runBytes, minPieceBytes, bigBytes) => {
          expectSameOutcome(bytes, { runBytes, minPieceBytes, bigBytes });
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it("cuts a body at its arrays and objects, and one without any not at all", () => {
    const records = [{ a: "ā€" }, [1, { b: "]" }], "x,y", 5, null];
    const body = new TextEncoder().encode(
      `\uFEFF{"campaignId":"c", "records" : [ ${records.map((r) => JSON.stringify(r)).join(" ,\n")} ], "n":{"m":[]}, "ids":[]}`,
    );
    const cut = { runBytes: 0, minPieceBytes: 0, bigBytes: Number.POSITIVE_INFINITY };
    const split = splitValue(body, 0, body.length, cut);
    expect(split?.pieces.map((p) => [p.key, p.kind, p.elements, p.runs.length])).toEqual([
      ["records", "array", records.length, records.length * 3],
      ["n", "object", 0, 0],
      ["ids", "array", 0, 0],
    ]);
    expect(split?.containers).toBe(1 + 1 + 3 + 2 + 1);
    // Runs of at least 20 bytes: the first two records, then the last three. Pieces of at least 10
    // bytes: not `{"m":[]}` or `[]`.
    const longer = splitValue(body, 0, body.length, { ...cut, runBytes: 20, minPieceBytes: 10 });
    expect(longer?.pieces.map((p) => p.runs.filter((_, k) => k % 3 === 2))).toEqual([[2, 3]]);
    // An element of 12 bytes or more is a run of its own, between the runs of the others.
    const big = splitValue(body, 0, body.length, { ...cut, runBytes: 1_000, bigBytes: 12 });
    expect(big?.pieces[0]?.runs.filter((_, k) => k % 3 === 2)).toEqual([1, 1, 3]);
    const at = (text: string) => splitValue(new TextEncoder().encode(text), 0, text.length, cut);
    // No array or object member before the object stops being JSON: parsed whole.
    for (const other of ['{"records":5}', '{"campaignId":"c"}', '{"a" 1,"records":[1]}', '"x"', "{}"]) {
      expect(at(other)).toBeUndefined();
    }
    expect(at('[{"records":[]}]')?.pieces).toMatchObject([{ key: undefined, elements: 1 }]);
    expect(at('{"rec\\u006frds":[1,2]}')?.pieces).toMatchObject([{ key: "records", elements: 2 }]);
    expect(at('{"records":[1],"records":[2,3]}')?.pieces).toMatchObject([{ elements: 1 }, { elements: 2 }]);
    // Once a piece is reached, cut it whatever follows; the parses refuse what is broken.
    expect(at('{"records":[1]} x')?.pieces).toMatchObject([{ elements: 1, end: 14, closed: true }]);
    expect(at('{"records":[1},{"a":[]}')).toMatchObject({
      pieces: [{ elements: 2, end: 23, closed: false }],
      containers: 4,
    });
    expect(at('{"records":["1,2]}')?.pieces).toMatchObject([{ elements: 1, end: 18, closed: false }]);
    expect(at('{"data":{"records":[1]')?.pieces).toMatchObject([
      { key: "data", kind: "object", closed: false },
    ]);
  });

  it("puts each array where the body has it: the last of two members of one name wins, __proto__ is a member", () => {
    const value = (text: string) =>
      outcome(new TextEncoder().encode(text), 0, { runBytes: 0, bigBytes: 0 }).value;
    expect(value('{"records":[1],"x":[2],"records":[3,4]}')).toEqual({ records: [3, 4], x: [2] });
    expect(value('{"records":[1],"records":5}')).toEqual({ records: 5 });
    const proto = value('{"__proto__":[1,2]}') as object;
    expect(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value).toEqual([1, 2]);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(value('{"phone_numbers":[9.87654E+09, 12],"records":[{"phone_number":1.5e3}, 2.5]}')).toEqual({
      phone_numbers: ["9.87654E+09", 12],
      records: [{ phone_number: "1.5e3" }, 2.5],
    });
  });

  it("cuts at most a few levels deep: a body nested thousands of levels is read without recursing as deep", () => {
    const deep = `{"records":[1],"x":${'{"a":'.repeat(3_000)}"${"x".repeat(1_000)}"${"}".repeat(3_000)}}`;
    expectSameOutcome(new TextEncoder().encode(deep), { runBytes: 0, minPieceBytes: 0, bigBytes: 0 });
    const arrays = `{"records":[1,${"[".repeat(3_000)}"x"${"]".repeat(3_000)}]}`;
    expectSameOutcome(new TextEncoder().encode(arrays), { runBytes: 0, minPieceBytes: 0, bigBytes: 0 });
    expect(
      outcome(new TextEncoder().encode(arrays), 0, { runBytes: 0, minPieceBytes: 0, bigBytes: 0 }).code,
    ).toBeUndefined();
  });

  it("gives byte offsets of the body, also for text after a value", () => {
    const cut = { runBytes: 0, minPieceBytes: 0, bigBytes: 0 };
    const detailOf = (text: string) => {
      try {
        parseJsonBody(new TextEncoder().encode(text).buffer as ArrayBuffer, { fromBytes: 0, ...cut });
      } catch (err) {
        return (err as DomainError).details[0];
      }
      return undefined;
    };
    expect(detailOf('{"a":[1]}}')).toMatchObject({
      path: "body",
      message: expect.stringContaining("at byte offset 9 of the body"),
    });
    expect(detailOf('{"records":[1, {"a":1} x]}')).toMatchObject({
      path: "records.1",
      message: expect.stringContaining("at byte offset 23 of the body"),
    });
    expect(detailOf('{"a":[[1, ,2]]}')).toMatchObject({
      path: "a.0.1",
      message: expect.stringContaining("an element is missing"),
    });
    expect(JSON.stringify(detailOf('{"a":[1],"b":tru}'))).not.toContain("bulkcall-piece");
  });

  it("names the record that does not parse", () => {
    // Cut from the first byte into runs of 128 KiB, no element split again.
    const inRuns = {
      fromBytes: 0,
      runBytes: 128 * 1024,
      minPieceBytes: 0,
      bigBytes: Number.POSITIVE_INFINITY,
    };
    // Records 0–4 fill the first run of 128 KiB; the bad one (6) is in the second.
    const good = Array.from({ length: 5 }, () => JSON.stringify({ a: "x".repeat(30_000) }));
    const body = new TextEncoder().encode(`{"records":[${good.join(",")},{"a":1},{"a":},{"a":2}]}`);
    expect(outcome(body, 0)).toMatchObject({ code: "invalid_json" });
    expect(() => parseJsonBody(body.buffer as ArrayBuffer, inRuns)).toThrow(
      expect.objectContaining({ details: [expect.objectContaining({ path: "records.6" })] }),
    );
    // A left-out last record, in a run of its own, is not read as no record.
    expect(outcome(new TextEncoder().encode('{"records":[{},]}'), 0, { runBytes: 0 }).code).toBe(
      "invalid_json",
    );
    // A position is restated as a byte offset of the body, in a record and in the rest of the body.
    const placed = new TextEncoder().encode(`{"records":[${good.join(",")},{"ā€":1,"a" 1}]}`);
    expect(() => parseJsonBody(placed.buffer as ArrayBuffer, inRuns)).toThrow(
      expect.objectContaining({
        details: [
          expect.objectContaining({
            path: "records.5",
            message: expect.stringContaining(
              `at byte offset ${placed.indexOf(0x31, placed.length - 6)} of the body`,
            ),
          }),
        ],
      }),
    );
    const unclosed = new TextEncoder().encode(`{"records":[${good.join(",")}]`);
    expect(() => parseJsonBody(unclosed.buffer as ArrayBuffer, inRuns)).toThrow(
      expect.objectContaining({
        details: [
          expect.objectContaining({
            path: "body",
            message: expect.stringContaining(`at byte offset ${unclosed.length} of the body`),
          }),
        ],
      }),
    );
    // An element split again is named by its place in the body.
    const nested = new TextEncoder().encode('{"data":{"records":[{"a":1},{"a":}]}}');
    expect(() =>
      parseJsonBody(nested.buffer as ArrayBuffer, {
        fromBytes: 0,
        runBytes: 0,
        minPieceBytes: 0,
        bigBytes: 0,
      }),
    ).toThrow(expect.objectContaining({ details: [expect.objectContaining({ path: "data.records.1" })] }));
  });

  it("refuses a body past the container bound or with too many elements in an array, and counts brackets inside strings as text", () => {
    const bomb = new TextEncoder().encode(`{"records":[${"{},".repeat(MAX_JSON_CONTAINERS)}{}]}`);
    expect(outcome(bomb, 0).code).toBe("payload_too_large");
    const zeros = new TextEncoder().encode(`{"records":[0${",0".repeat(MAX_ARRAY_ELEMENTS)}]}`);
    expect(outcome(zeros, 0)).toMatchObject({
      code: "payload_too_large",
      message: expect.stringContaining("100,001 elements"),
    });
    expect(outcome(zeros, Number.POSITIVE_INFINITY).value).toHaveProperty(
      "records.length",
      MAX_ARRAY_ELEMENTS + 1,
    );
    const quoted = new TextEncoder().encode(
      `{"records":[{"note":"${"{".repeat(MAX_JSON_CONTAINERS + 1)}"}]}`,
    );
    expectSameOutcome(quoted);
    expect(outcome(quoted, 0)).toHaveProperty("value.records.0.note");
  });
});
