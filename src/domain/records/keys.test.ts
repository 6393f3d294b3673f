import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeKey } from "./keys";

// What may stand at the ends of a key without making it another key.
const EDGE_CHARS = [" ", "\t", "\n", "\u00A0", "\u2007", "\u202F", "\u3000", "\u200B", "\u200C", "\u200D"];
const MORE_EDGE_CHARS = ["\u200E", "\u200F", "\u2060", "\uFEFF", "\u00AD", "\u2061", "\u202A", "\u202E"];
/** Blank without being spaces or Cf: NEL, controls, the grapheme joiner, a variation selector, fillers, blank braille. */
const BLANK_CHARS = [
  "\u0085",
  "\u0000",
  "\u001F",
  "\u007F",
  "\u034F",
  "\uFE0F",
  "\u115F",
  "\u3164",
  "\uFFA0",
  "\u17B4",
  "\u17B5",
  "\u2800",
];
const edge = fc
  .array(fc.constantFrom(...EDGE_CHARS, ...MORE_EDGE_CHARS, ...BLANK_CHARS), { maxLength: 4 })
  .map((a) => a.join(""));
/** Keys as a lender means them: visible characters only, maybe decomposed. */
const visibleKey = fc
  .string({ minLength: 1, maxLength: 20, unit: "grapheme" })
  .map((s) =>
    s.replace(/[\p{White_Space}\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}\u2800]/gu, "").normalize("NFC"),
  )
  .filter((s) => s !== "");

describe("normalizeKey", () => {
  it("keeps a key lenders write as it is", () => {
    expect(normalizeKey("LN-7001")).toEqual({ ok: true, key: "LN-7001" });
    expect(normalizeKey("ঋণ/৭০০১")).toEqual({ ok: true, key: "ঋণ/৭০০১" });
  });

  it("refuses a space inside a key: LN 7001, LN\u00A07001 and LN7001 are not three loans", () => {
    expect(normalizeKey("LN 7001")).toEqual({
      ok: false,
      message: "must not contain spaces or invisible characters: U+0020 at character 3",
    });
    expect(normalizeKey("LN\u00A07001").ok).toBe(false);
    expect(normalizeKey("LN\t7001").ok).toBe(false);
  });

  it("removes every blank character at the ends, not only spaces and Cf", () => {
    for (const c of BLANK_CHARS) expect(normalizeKey(`DUP-1${c}`)).toEqual({ ok: true, key: "DUP-1" });
  });

  it("removes whitespace and invisible characters at both ends: LN-7001 stays one loan", () => {
    for (const sent of ["LN-7001\u200B", "\u2060LN-7001", "\uFEFFLN-7001 ", " \u00ADLN-7001\u200D\t"]) {
      expect(normalizeKey(sent)).toEqual({ ok: true, key: "LN-7001" });
    }
  });

  it("refuses an invisible character inside a key, naming it and where it is", () => {
    expect(normalizeKey("LN\u200B-7001")).toEqual({
      ok: false,
      message: "must not contain spaces or invisible characters: U+200B at character 3",
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

  it("never accepts a key with a blank character inside", () => {
    fc.assert(
      fc.property(
        visibleKey,
        visibleKey,
        fc.constantFrom(...EDGE_CHARS, ...MORE_EDGE_CHARS, ...BLANK_CHARS),
        (a, b, hidden) => {
          expect(normalizeKey(`${a}${hidden}${b}`).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
