// The Idempotency-Key fingerprint's hand-written canonical JSON, held to JSON.stringify.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJsonPieces, requestFingerprint } from "./idempotency";

/** The oracle: JSON.stringify with every object's keys sorted by a replacer. */
function stringifySorted(value: unknown): string {
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

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** JSON values as JSON.parse returns them: lone surrogates, "__proto__" keys, -0 and big nesting included. */
const parsedJson = fc
  .jsonValue({ maxDepth: 6, noUnicodeString: false })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe("requestFingerprint", () => {
  it("is the SHA-256 of JSON.stringify's text with sorted keys, for any parsed JSON value", async () => {
    await fc.assert(
      fc.asyncProperty(parsedJson, async (value) => {
        expect([...canonicalJsonPieces(value)].join("")).toBe(stringifySorted(value));
        expect(await requestFingerprint(value)).toBe(sha256(stringifySorted(value)));
      }),
      { numRuns: 500 },
    );
  });

  it("does not depend on the order keys were written in", async () => {
    const a = JSON.parse('{"records":[{"b":1,"a":[2,{"y":null,"x":"é"}]}],"campaignId":"emi","__proto__":3}');
    const b = JSON.parse('{"__proto__":3,"campaignId":"emi","records":[{"a":[2,{"x":"é","y":null}],"b":1}]}');
    expect(await requestFingerprint(a)).toBe(await requestFingerprint(b));
    const c = JSON.parse('{"campaignId":"emi","records":[{"a":[{"x":"é","y":null},2],"b":1}],"__proto__":3}');
    expect(await requestFingerprint(c)).not.toBe(await requestFingerprint(a));
  });

  it("hashes a body larger than one flush, and one nested 100,000 levels deep", async () => {
    const wide = {
      records: Array.from({ length: 5_000 }, (_, i) => ({ loan_id: `LN-${i}`, note: "x".repeat(40) })),
    };
    expect(await requestFingerprint(wide)).toBe(sha256(stringifySorted(wide)));
    const depth = 100_000;
    const deep = JSON.parse(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
    expect(await requestFingerprint(deep)).toBe(sha256(`${"[".repeat(depth)}1${"]".repeat(depth)}`));
  });
});
