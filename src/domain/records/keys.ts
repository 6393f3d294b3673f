// loan_id / lead_id as bulkcall compares and stores them. A key that reaches us with an invisible
// character glued to it ("LN-7001\u200B", a BOM from the first CSV column, a word joiner from a
// copy-paste) is the same loan to the lender, and must be the same customer here: otherwise one
// loan becomes several customers and the borrower is dialled several times.

/**
 * Characters that show as nothing, or as a blank: Unicode White_Space (spaces, tabs, line breaks,
 * NEL), controls (Cc), formatting characters (Cf: U+200B–U+200F, U+2060, BOM, soft hyphen…), the
 * Default_Ignorable_Code_Point set (the combining grapheme joiner, variation selectors, Hangul and
 * Khmer fillers…) and U+2800, the blank braille pattern, which renders as a space.
 */
const BLANK = String.raw`\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800`;
const EDGE = new RegExp(`^[${BLANK}]+|[${BLANK}]+$`, "gu");
const INSIDE = new RegExp(`[${BLANK}]`, "u");
const VISIBLE = new RegExp(`[^${BLANK}]`, "u");

/** True when `text` has a character that shows: a name of zero-width spaces alone is no name. */
export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE.test(text);
}

/** Keys that need none of the work: printable ASCII without spaces. */
const PLAIN_ASCII = /^[\x21-\x7e]+$/;

export type KeyResult = { ok: true; key: string } | { ok: false; message: string };

/**
 * A key as stored: Unicode NFC, without blank characters (BLANK: whitespace, controls, invisible
 * and default-ignorable characters) at both ends. A blank character INSIDE the key is refused,
 * naming it (a key is not a name: "LN 7001", "LN\u00A07001" and "LN7001" must not become three
 * loans, and a hidden character is never what a lender meant), as is an empty result. Source:
 * api-contract.md, the loan_id row.
 */
export function normalizeKey(value: string): KeyResult {
  if (PLAIN_ASCII.test(value)) return { ok: true, key: value };
  const key = value.normalize("NFC").replace(EDGE, "");
  if (key === "") return { ok: false, message: "must contain visible characters" };
  const inside = INSIDE.exec(key);
  if (inside) {
    const code = (inside[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0");
    const position = [...key.slice(0, inside.index)].length + 1;
    return {
      ok: false,
      message: `must not contain spaces or invisible characters: U+${code} at character ${position}`,
    };
  }
  return { ok: true, key };
}
