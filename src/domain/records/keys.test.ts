import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeKey } from "./keys";

// What may stand at the ends of a key without making it another key.
const EDGE_CHARS = [" ", "\t", "\n", "\u00A0", "\u2007", "\u202F", "\u3000", "\u200B", "\u200C", "\u200D"];
const MORE_EDGE_CHARS = ["\u200E", "\u200F", "\u2060", "\uFEFF", "\u00AD", "\u2061", "\u202A", "\u202E"];
const edge = fc
  .array(fc.constantFrom(...EDGE_CHARS, ...MORE_EDGE_CHARS), { maxLength: 4 })
  .map((a) => a.join(""));
const INVISIBLE = /\p{Cf}/u;
/** Keys as a lender means them: visible characters, maybe with spaces inside, maybe decomposed. */
const visibleKey = fc
  .string({ minLength: 1, maxLength: 20, unit: "grapheme" })
  .map((s) => s.replace(/[\s\p{Cf}\p{Cc}]/gu, "").normalize("NFC"))
  .filter((s) => s !== "");

describe("normalizeKey", () => {
  it("keeps a key lenders write as it is", () => {
    expect(normalizeKey("LN-7001")).toEqual({ ok: true, key: "LN-7001" });
    expect(normalizeKey("LN 7001")).toEqual({ ok: true, key: "LN 7001" });
  });

  it("removes whitespace and invisible characters at both ends: LN-7001 stays one loan", () => {
    for (const sent of ["LN-7001\u200B", "\u2060LN-7001", "\uFEFFLN-7001 ", " \u00ADLN-7001\u200D\t"]) {
      expect(normalizeKey(sent)).toEqual({ ok: true, key: "LN-7001" });
    }
  });

  it("refuses an invisible character inside a key, naming it and where it is", () => {
    expect(normalizeKey("LN\u200B-7001")).toEqual({
      ok: false,
      message: "must not contain invisible characters: U+200B at character 3",
    });
    expect(normalizeKey("\u200B")).toEqual({ ok: false, message: "must contain visible characters" });
  });

  it("compares composed and decomposed writings as one key (NFC)", () => {
    expect(normalizeKey("Jose\u0301")).toEqual(normalizeKey("Jos\u00e9"));
  });

  it("for any key and any padding, gives that key (NFC), and is idempotent", () => {
    fc.assert(
      fc.property(visibleKey, edge, edge, (key, before, after) => {
        const result = normalizeKey(`${before}${key.normalize("NFD")}${after}`);
        expect(result).toEqual({ ok: true, key });
        expect(normalizeKey(key)).toEqual({ ok: true, key });
      }),
      { numRuns: 3000 },
    );
  });

  it("never accepts a key with an invisible character inside", () => {
    fc.assert(
      fc.property(
        visibleKey,
        visibleKey,
        fc.constantFrom(...MORE_EDGE_CHARS, "\u200B", "\u200D"),
        (a, b, hidden) => {
          const result = normalizeKey(`${a}${hidden}${b}`);
          if (INVISIBLE.test(hidden)) expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
