/**
 * Where a large JSON value's big arrays and objects are, found in one pass over its UTF-8 bytes, so
 * that parseJsonBody can decode and parse it a piece at a time. Decoded whole, a 20 MB body with
 * one character above U+00FF is a 40 MB two-byte string, alive while JSON.parse builds the records
 * next to it; piece by piece, the text alive at once is one piece's.
 */
export interface ValueSplit {
  /** The members (or the value itself) cut out, in the order of the bytes. */
  pieces: Piece[];
  /** Objects and arrays outside strings from the value's start to the range's end, its own included. */
  containers: number;
}

export interface Piece {
  /** Byte offset of the piece's `[`, `{` or opening quote. */
  start: number;
  /** Byte offset just past its `]`, `}` or closing quote (the range's end when it never closes). */
  end: number;
  /** The member's key as JSON reads it (escapes undone); undefined when the piece is the value itself. */
  key: string | undefined;
  /**
   * An array is cut into runs of elements; an object is split again, the same way, when it is
   * parsed; a string (only one of `bigBytes` or more) is read on its own, its text held once.
   */
  kind: "array" | "object" | "string";
  /**
   * An array's runs of whole elements, as triples `[start0, end0, count0, start1, …]` (byte offsets
   * and how many elements): one or more elements' texts with the commas between them, cut at the
   * first comma once a run reaches the run size asked for; an element of `bigBytes` or more is a run
   * of its own. Boundaries are where the commas are; an element's text may be empty or not JSON,
   * which parsing judges.
   */
  runs: number[];
  /** How many elements an array holds (0 for `[]`). */
  elements: number;
  /** Whether the piece's brackets close before the range ends: when not, the value is not JSON. */
  closed: boolean;
}

/** How a value is cut: see BodySplitting in json-body.ts. */
export interface Cut {
  runBytes: number;
  minPieceBytes: number;
  bigBytes: number;
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
 * The split of the JSON value in `bytes[from, to)` (UTF-8; a byte order mark is skipped at offset
 * 0): the value itself when it is an array, or each member of its object whose value is an array or
 * an object of at least `cut.minPieceBytes` (`records`, a suppression list's `phone_numbers`), or
 * a string of at least `cut.bigBytes`.
 * Undefined when there is none before the object stops being JSON; such a value is parsed whole,
 * and when it is not JSON the parse stops where the split did.
 *
 * Once a piece is reached it is cut out whatever follows: an array that never closes, a stray `}`
 * in it, or a broken object after it is left to the parses of the runs and of the rest, which
 * refuse it. Only bytes below 0x80 are read (no byte of a multi-byte UTF-8 character is): when every
 * piece and the rest parse, the value is the JSON they make up; when one does not, neither does the
 * value. Strings are skipped as JSON reads them (a backslash escapes the character after it). Linear
 * in the range's length.
 */
export function splitValue(bytes: Uint8Array, from: number, to: number, cut: Cut): ValueSplit | undefined {
  const bom = from === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let i = skipWhitespace(bytes, from + bom, to);
  const pieces: Piece[] = [];
  let containers = 1;
  /** The split, once the value stops being read at `at`: the containers after it counted. */
  const stopped = (at: number) =>
    pieces.length === 0 ? undefined : { pieces, containers: containers + containersIn(bytes, at, to) };
  if (bytes[i] === OPEN_BRACKET) {
    const inside = scanElements(bytes, i + 1, to, cut.runBytes, cut.bigBytes);
    const { runs, elements, closed } = inside;
    pieces.push({ start: i, end: inside.arrayEnd, key: undefined, kind: "array", runs, elements, closed });
    containers += inside.containers;
    return stopped(inside.arrayEnd);
  }
  if (bytes[i] !== OPEN_BRACE) return undefined;
  i = skipWhitespace(bytes, i + 1, to);
  if (bytes[i] === CLOSE_BRACE) return undefined;
  for (;;) {
    if (i >= to || bytes[i] !== QUOTE) return stopped(i);
    const keyStart = i;
    const keyEnd = stringEnd(bytes, i, to);
    if (keyEnd < 0) return stopped(to);
    i = skipWhitespace(bytes, keyEnd, to);
    if (bytes[i] !== COLON) return stopped(i);
    i = skipWhitespace(bytes, i + 1, to);
    const start = i;
    let piece: Omit<Piece, "key"> | undefined;
    if (bytes[i] === OPEN_BRACKET) {
      const inside = scanElements(bytes, i + 1, to, cut.runBytes, cut.bigBytes);
      containers += inside.containers + 1;
      const { runs, elements, closed } = inside;
      piece = { start, end: inside.arrayEnd, kind: "array", runs, elements, closed };
      i = inside.arrayEnd;
    } else {
      const end = valueEnd(bytes, i, to);
      containers += end.containers;
      const closed = end.at >= 0;
      if (bytes[i] === OPEN_BRACE)
        piece = { start, end: closed ? end.at : to, kind: "object", runs: [], elements: 0, closed };
      else if (bytes[i] === QUOTE && closed && end.at - start >= cut.bigBytes)
        piece = { start, end: end.at, kind: "string", runs: [], elements: 0, closed };
      if (!closed) i = to;
      else i = end.at;
    }
    if (piece !== undefined && (piece.end - piece.start >= cut.minPieceBytes || !piece.closed)) {
      const key = readKey(bytes, keyStart, keyEnd);
      if (key === undefined) return stopped(keyEnd);
      pieces.push({ ...piece, key });
    }
    if (i >= to) return stopped(to);
    i = skipWhitespace(bytes, i, to);
    if (bytes[i] === COMMA && i < to) {
      i = skipWhitespace(bytes, i + 1, to);
      continue;
    }
    return stopped(bytes[i] === CLOSE_BRACE && i < to ? i + 1 : i);
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

/** Objects and arrays outside strings in `bytes[from, to)` (strings as JSON reads them). */
function containersIn(bytes: Uint8Array, from: number, to: number): number {
  let containers = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i, to);
      if (end < 0) break;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) containers++;
  }
  return containers;
}

/**
 * The elements of an array from `from` (just past its `[`) up to `to`: runs (see Piece.runs), how
 * many elements there are, the objects and arrays they hold, and `arrayEnd`, just past the array's
 * `]`. When no `]` closes the array before `to`, the text up to `to` is its last element (`closed`
 * false; also how the elements of one run are found again). A `}` with nothing open, or a string
 * that never closes, stays inside an element, for its parse to refuse.
 */
export function scanElements(
  bytes: Uint8Array,
  from: number,
  to: number,
  runBytes: number,
  bigBytes = Number.POSITIVE_INFINITY,
): { runs: number[]; elements: number; containers: number; arrayEnd: number; closed: boolean } {
  const runs: number[] = [];
  let elements = 0;
  let depth = 0;
  let containers = 0;
  let runStart = from;
  let inRun = 0;
  let elementStart = from;
  /** The element that ends at `end` (a comma, the `]`, or `to`): counted, and cut into runs. */
  const ended = (end: number) => {
    elements++;
    if (end - elementStart >= bigBytes) {
      // A big element is a run of its own, so that it can be split again.
      if (inRun > 0) runs.push(runStart, elementStart - 1, inRun);
      runs.push(elementStart, end, 1);
      runStart = end + 1;
      inRun = 0;
    } else {
      inRun++;
      if (end - runStart >= runBytes) {
        runs.push(runStart, end, inRun);
        runStart = end + 1;
        inRun = 0;
      }
    }
    elementStart = end + 1;
  };
  const close = (end: number, closed: boolean) => {
    // `[]` (or `[ ]`) holds nothing; any other text before the `]` is an element to judge.
    if (elements > 0 || skipWhitespace(bytes, elementStart, end) < end) {
      ended(end);
      if (inRun > 0) runs.push(runStart, end, inRun);
    }
    return { runs, elements, containers, arrayEnd: closed ? end + 1 : end, closed };
  };
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i, to);
      if (end < 0) return close(to, false);
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      containers++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth > 0) depth--;
      else if (c === CLOSE_BRACKET) return close(i, true);
    } else if (c === COMMA && depth === 0) {
      ended(i);
    }
  }
  return close(to, false);
}

/**
 * Just past the value starting at `start` (before `to`), with the containers it holds; `at` is -1
 * when it never ends.
 */
function valueEnd(bytes: Uint8Array, start: number, to: number): { at: number; containers: number } {
  if (bytes[start] === QUOTE) return { at: stringEnd(bytes, start, to), containers: 0 };
  let depth = 0;
  let containers = 0;
  for (let i = start; i < to; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i, to);
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
  return { at: depth === 0 ? to : -1, containers };
}

/**
 * Just past the closing quote of the string whose opening quote is at `start`, or -1 when it does
 * not close before `to`; a backslash escapes the byte after it. A plain loop: in workerd it reads a
 * 20 MB body faster than crossing its strings with indexOf does, even strings of 1,000 bytes
 * (measured).
 */
function stringEnd(bytes: Uint8Array, start: number, to: number): number {
  let i = start + 1;
  while (i < to) {
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

/** The first offset from `from` (before `to`) that is not JSON whitespace. */
export function skipWhitespace(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && isWhitespace(bytes[i])) i++;
  return i;
}
