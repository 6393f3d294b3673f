import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./idempotency";

/**
 * The fingerprint's definition, written the short way (JSON.stringify rebuilding every object with
 * its keys sorted): what canonicalJson must write, byte for byte, so that the fingerprints of the
 * requests stored before it stay the same. It recurses, so it only serves for shallow values.
 */
function reference(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
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

describe("canonicalJson", () => {
  it("writes exactly what JSON.stringify writes with every object's keys sorted", () => {
    fc.assert(
      fc.property(json, (value) => {
        // Through text and back, as a request body reaches it.
        const parsed: unknown = JSON.parse(JSON.stringify(value));
        expect(canonicalJson(parsed)).toBe(reference(parsed));
      }),
      { numRuns: 2_000 },
    );
  });

  it("ignores the order keys were written in, not the order of arrays", () => {
    expect(canonicalJson(JSON.parse('{"b":[2,1],"a":{"d":1,"c":2},"10":0,"9":0}'))).toBe(
      '{"9":0,"10":0,"a":{"c":2,"d":1},"b":[2,1]}',
    );
  });

  it("fingerprints a value nested a million levels deep, where the recursive definition overflows", () => {
    const levels = 1_000_000;
    const text = `{"a":${"[".repeat(levels)}{"z":1,"y":2}${"]".repeat(levels)}}`;
    const value: unknown = JSON.parse(text);
    expect(() => reference(value)).toThrow(RangeError);
    expect(canonicalJson(value)).toBe(`{"a":${"[".repeat(levels)}{"y":2,"z":1}${"]".repeat(levels)}}`);
  });
});
