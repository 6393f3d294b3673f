// The Idempotency-Key fingerprint's hand-written canonical JSON, held to its definition: the text
// JSON.stringify writes once every object is rebuilt with its keys sorted. Byte for byte, so that
// the fingerprints of requests stored before a change stay the same.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJsonPieces, requestFingerprint } from "./idempotency";

/** The definition, written the short way. It recurses, so it only serves for shallow values. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      // defineProperty keeps an own "__proto__" key a plain key.
      Object.defineProperty(sorted, k, {
        value: (v as Record<string, unknown>)[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const canonical = (value: unknown) => [...canonicalJsonPieces(value)].join("");

/** Keys that order in surprising ways: array indexes, "__proto__", non-ASCII, escapes. */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom(
    "0",
    "1",
    "2",
    "10",
    "-1",
    "01",
    "4294967295",
    "__proto__",
    "constructor",
    "é",
    "😀",
    '"',
    "",
  ),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(null, true, false, 0, -0, 1e21, 1.5, -3, 2 ** 53),
    fc.string({ unit: "binary", maxLength: 8 }),
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.array(fc.tuple(key, tie("value")), { maxLength: 6 }).map((entries) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return o;
  }),
})).value;

describe("requestFingerprint", () => {
  it("is the SHA-256 of the definition's text, for any parsed JSON value", async () => {
    await fc.assert(
      fc.asyncProperty(json, async (value) => {
        // Through text and back, as a request body reaches it.
        const parsed: unknown = JSON.parse(JSON.stringify(value));
        expect(canonical(parsed)).toBe(reference(parsed));
        expect(await requestFingerprint(parsed)).toBe(sha256(reference(parsed)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("writes a long string or key in slices, never cutting a surrogate pair, as JSON.stringify writes it whole", () => {
    const text = fc.string({ unit: "binary", minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 4 }), (s, k, slice) => {
        const value = JSON.parse(JSON.stringify({ [k]: [s, `😀${s}😀`] }));
        expect([...canonicalJsonPieces(value, slice)].join("")).toBe(reference(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it("ignores the order keys were written in, not the order of arrays", async () => {
    expect(canonical(JSON.parse('{"b":[2,1],"a":{"d":1,"c":2},"10":0,"9":0}'))).toBe(
      '{"9":0,"10":0,"a":{"c":2,"d":1},"b":[2,1]}',
    );
    const a = JSON.parse('{"records":[{"b":1,"a":[2,{"y":null,"x":"é"}]}],"campaignId":"emi","__proto__":3}');
    const b = JSON.parse('{"__proto__":3,"campaignId":"emi","records":[{"a":[2,{"x":"é","y":null}],"b":1}]}');
    expect(await requestFingerprint(a)).toBe(await requestFingerprint(b));
    const c = JSON.parse('{"campaignId":"emi","records":[{"a":[{"x":"é","y":null},2],"b":1}],"__proto__":3}');
    expect(await requestFingerprint(c)).not.toBe(await requestFingerprint(a));
  });

  it("hashes a body larger than one flush, and one nested a million levels deep", async () => {
    const wide = {
      records: Array.from({ length: 5_000 }, (_, i) => ({ loan_id: `LN-${i}`, note: "x".repeat(40) })),
    };
    expect(await requestFingerprint(wide)).toBe(sha256(reference(wide)));
    const levels = 1_000_000;
    const value: unknown = JSON.parse(`{"a":${"[".repeat(levels)}{"z":1,"y":2}${"]".repeat(levels)}}`);
    expect(() => reference(value)).toThrow(RangeError);
    expect(await requestFingerprint(value)).toBe(
      sha256(`{"a":${"[".repeat(levels)}{"y":2,"z":1}${"]".repeat(levels)}}`),
    );
  });
});
