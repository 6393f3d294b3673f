/**
 * Where a large JSON body's top-level arrays hold their elements, found in one pass over the body's
 * UTF-8 bytes, so that the elements can be decoded and parsed a run at a time (parseJsonBody).
 * Decoded whole, a 25 MiB body with one character above U+00FF is a 50 MiB two-byte string, alive
 * while JSON.parse builds the records next to it; run by run, the text alive at once is one run's.
 */
export interface BodySplit {
  /** The arrays cut out of the body, in the order of the bytes. */
  arrays: SplitArray[];
  /** Objects and arrays in the whole body outside strings, the body's own included. */
  containers: number;
}

export interface SplitArray {
  /** Byte offset of the array's `[`. */
  start: number;
  /** Byte offset just past the array's `]` (the body's length when it never closes). */
  end: number;
  /** The member's key as JSON reads it (escapes undone); undefined when the array is the body. */
  key: string | undefined;
  /**
   * Runs of whole elements, as byte offsets `[start0, end0, start1, end1, …]`: each run is one or
   * more elements' texts with the commas between them, cut at the first comma once it reaches the
   * run size asked for. Boundaries are where the commas are; an element's text may be empty or not
   * JSON, which parsing the run judges.
   */
  runs: number[];
  /** How many elements the array holds (0 for `[]`). */
  elements: number;
  /** Whether a `]` closes it: one that never closes makes the body not JSON. */
  closed: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const KEY_TEXT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The split of `bytes` (a UTF-8 body, optionally starting with a byte order mark) at its top-level
 * arrays of at least `minArrayBytes`: the body itself when it is an array, or each member of the
 * body's object whose value is such an array (`records`, `phone_numbers`, `ids`). Undefined when
 * there is none before the object stops being JSON; such a body is parsed whole, and when it is not
 * JSON the parse stops where the split did.
 *
 * Once an array is reached it is split whatever follows: an array that never closes, a stray `}`
 * in it, or a broken object after it is left to the parses of the runs and of the rest of the body,
 * which refuse it. Only bytes below 0x80 are read (no byte of a multi-byte UTF-8 character is): when
 * every run and the rest of the body parse, the body is the JSON they make up; when one does not,
 * neither does the body. Strings are skipped as JSON reads them (a backslash escapes the character
 * after it). Linear in the body's length.
 */
export function splitAtArrays(
  bytes: Uint8Array,
  runBytes: number,
  minArrayBytes: number,
): BodySplit | undefined {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let i = skipWhitespace(bytes, bom);
  const arrays: SplitArray[] = [];
  let containers = 1;
  /** The split, once the body stops being read at `at`: the containers after it counted. */
  const stopped = (at: number) =>
    arrays.length === 0 ? undefined : { arrays, containers: containers + containersFrom(bytes, at) };
  if (bytes[i] === OPEN_BRACKET) {
    const inside = scanElements(bytes, i + 1, bytes.length, runBytes);
    const { runs, elements, closed } = inside;
    arrays.push({ start: i, end: inside.arrayEnd, key: undefined, runs, elements, closed });
    containers += inside.containers;
    return stopped(inside.arrayEnd);
  }
  if (bytes[i] !== OPEN_BRACE) return undefined;
  i = skipWhitespace(bytes, i + 1);
  if (bytes[i] === CLOSE_BRACE) return undefined;
  for (;;) {
    if (bytes[i] !== QUOTE) return stopped(i);
    const keyStart = i;
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd < 0) return stopped(bytes.length);
    i = skipWhitespace(bytes, keyEnd);
    if (bytes[i] !== COLON) return stopped(i);
    i = skipWhitespace(bytes, i + 1);
    if (bytes[i] === OPEN_BRACKET) {
      const start = i;
      const inside = scanElements(bytes, i + 1, bytes.length, runBytes);
      containers += inside.containers + 1;
      if (inside.arrayEnd - start >= minArrayBytes || !inside.closed) {
        const key = readKey(bytes, keyStart, keyEnd);
        if (key === undefined) return stopped(keyEnd);
        const { runs, elements, closed } = inside;
        arrays.push({ start, end: inside.arrayEnd, key, runs, elements, closed });
      }
      if (!inside.closed) return stopped(bytes.length);
      i = inside.arrayEnd;
    } else {
      const end = valueEnd(bytes, i);
      containers += end.containers;
      if (end.at < 0) return stopped(bytes.length);
      i = end.at;
    }
    i = skipWhitespace(bytes, i);
    if (bytes[i] === COMMA) {
      i = skipWhitespace(bytes, i + 1);
      continue;
    }
    return stopped(bytes[i] === CLOSE_BRACE ? i + 1 : i);
  }
}

/** An object key as JSON reads it (`"rec\u006frds"` is `records`), or undefined when it is not a JSON string. */
function readKey(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return JSON.parse(KEY_TEXT.decode(bytes.subarray(start, end))) as string;
  } catch {
    return undefined;
  }
}

/** Objects and arrays outside strings from `from` to the end of the bytes (strings as JSON reads them). */
function containersFrom(bytes: Uint8Array, from: number): number {
  let containers = 0;
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) break;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) containers++;
  }
  return containers;
}

/**
 * The elements of an array from `from` (just past its `[`) up to `to`: runs of about `runBytes`
 * (see SplitArray.runs), how many elements there are, the objects and arrays they hold, and
 * `arrayEnd`, just past the array's `]`. When no `]` closes the array before `to`, the text up to
 * `to` is its last element (`closed` false; how the records of one run are found again). A `}`
 * with nothing open, or a string that never closes, stays inside an element, for its parse to
 * refuse.
 */
export function scanElements(
  bytes: Uint8Array,
  from: number,
  to: number,
  runBytes: number,
): { runs: number[]; elements: number; containers: number; arrayEnd: number; closed: boolean } {
  const runs: number[] = [];
  let elements = 0;
  let depth = 0;
  let containers = 0;
  let runStart = from;
  const close = (end: number, closed: boolean) => {
    // `[]` (or `[ ]`) holds nothing; any other text before the `]` is an element to judge.
    if (elements > 0 || skipWhitespace(bytes, runStart) < end) {
      runs.push(runStart, end);
      elements++;
    }
    return { runs, elements, containers, arrayEnd: closed ? end + 1 : end, closed };
  };
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return close(to, false);
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      containers++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth > 0) depth--;
      else if (c === CLOSE_BRACKET) return close(i, true);
    } else if (c === COMMA && depth === 0) {
      elements++;
      if (i - runStart >= runBytes) {
        runs.push(runStart, i);
        runStart = i + 1;
      }
    }
  }
  return close(to, false);
}

/** Just past the value starting at `start`, with the containers it holds; `at` is -1 when it never ends. */
function valueEnd(bytes: Uint8Array, start: number): { at: number; containers: number } {
  if (bytes[start] === QUOTE) return { at: stringEnd(bytes, start), containers: 0 };
  let depth = 0;
  let containers = 0;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return { at: -1, containers };
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      containers++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return { at: i, containers };
      depth--;
      if (depth === 0) return { at: i + 1, containers };
    } else if (depth === 0 && (c === COMMA || isWhitespace(c))) {
      return { at: i, containers };
    }
  }
  return { at: depth === 0 ? bytes.length : -1, containers };
}

/**
 * Just past the closing quote of the string whose opening quote is at `start`, or -1 when it never
 * closes; a backslash escapes the byte after it. A plain loop: in workerd it reads a 25 MiB body
 * faster than crossing its strings with indexOf does, even strings of 1,000 bytes (measured).
 */
function stringEnd(bytes: Uint8Array, start: number): number {
  const n = bytes.length;
  let i = start + 1;
  while (i < n) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
  return -1;
}

/** JSON's whitespace (RFC 8259): space, tab, line feed, carriage return. */
function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWhitespace(bytes: Uint8Array, from: number): number {
  let i = from;
  while (isWhitespace(bytes[i])) i++;
  return i;
}
