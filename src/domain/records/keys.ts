// loan_id / lead_id as bulkcall compares and stores them. A key that reaches us with an invisible
// character glued to it ("LN-7001\u200B", a BOM from the first CSV column, a word joiner from a
// copy-paste) is the same loan to the lender, and must be the same customer here: otherwise one
// loan becomes several customers and the borrower is dialled several times.

/** Whitespace and invisible formatting characters (Unicode category Cf: U+200B–U+200F, U+2060, BOM, soft hyphen…). */
const EDGE = /^[\s\p{Cf}]+|[\s\p{Cf}]+$/gu;
const INVISIBLE = /\p{Cf}/u;
/** Keys that need none of the work: printable ASCII without spaces at either end. */
const PLAIN_ASCII = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export type KeyResult = { ok: true; key: string } | { ok: false; message: string };

/**
 * A key as stored: Unicode NFC, without whitespace and invisible formatting characters at both
 * ends. An invisible character INSIDE the key is refused, naming it (a key is not a name, and a
 * hidden character there is never what a lender meant). An empty result is refused too.
 */
export function normalizeKey(value: string): KeyResult {
  if (PLAIN_ASCII.test(value)) return { ok: true, key: value };
  const key = value.normalize("NFC").replace(EDGE, "");
  if (key === "") return { ok: false, message: "must contain visible characters" };
  const inside = INVISIBLE.exec(key);
  if (inside) {
    const code = (inside[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0");
    const position = [...key.slice(0, inside.index)].length + 1;
    return {
      ok: false,
      message: `must not contain invisible characters: U+${code} at character ${position}`,
    };
  }
  return { ok: true, key };
}
