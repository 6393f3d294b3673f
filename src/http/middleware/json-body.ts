import { createMiddleware } from "hono/factory";
import { DomainError } from "../../domain/errors";
import { canonicalFieldName, EXACT_DIGITS } from "../../domain/records/record-rules";
import type { AppBindings } from "../types";
import { type Piece, scanElements, skipWhitespace, splitValue, type ValueSplit } from "./json-split";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
/**
 * The documented default of MAX_BODY_BYTES, used when the var is unset or not a number: 20 MB, the
 * contract's floor. 10,000 fully populated records are 2–4 MB; at 25 MiB, a body of records whose
 * values each hold a character above U+00FF (two bytes a character once parsed) needed more than
 * 80 MiB of heap, and at 20 MB it completes within 80 (bench/README "Heap").
 */
const DEFAULT_MAX_BODY_BYTES = 20_000_000;

/**
 * Reads a JSON request body once, for every JSON route: 415 for another media type or a charset
 * other than UTF-8, 413 past MAX_BODY_BYTES, 400 request_incomplete when the client stops sending
 * half-way, 400 invalid_json when the bytes are not UTF-8 (naming the first bad byte's offset) or
 * do not parse. The raw bytes are kept for signature checks, and `c.req.json()` is pointed at the
 * parsed value so the zod validator after this does not parse a 5 MB body a second time.
 */
export const jsonBody = createMiddleware<AppBindings>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
  // A POST that carries nothing (e.g. rotating a webhook's secret) has nothing to parse; a route
  // that needs a body refuses the missing fields through its own schema.
  const contentType = c.req.header("Content-Type");
  if (contentType === undefined && (c.req.raw.body === null || c.req.header("Content-Length") === "0")) {
    c.set("rawBody", new ArrayBuffer(0));
    return next();
  }

  checkJsonMediaType(contentType);
  const configured = Number(c.env.MAX_BODY_BYTES);
  const limit = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MAX_BODY_BYTES;
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  // With a declared length the platform has already bounded the body; without one (chunked
  // transfer) it is read with a running count and abandoned at the limit, never buffered whole.
  const bytes = await readBody(c.req.raw, Number.isFinite(declared), limit, c.get("requestId"));
  if (bytes.byteLength > limit) throw tooLarge(limit);

  const parsed = parseJsonBody(bytes);
  c.set("rawBody", bytes);
  c.req.json = <T>() => Promise.resolve(parsed as T);
  await next();
});

/**
 * 415 unless the content type is JSON in UTF-8: JSON is UTF-8 (RFC 8259), and a body declared in
 * another charset would be read as something else.
 */
export function checkJsonMediaType(contentType: string | undefined): void {
  const [mediaType = "", ...parameters] = (contentType ?? "").split(";").map((p) => p.trim());
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new DomainError(
      "unsupported_media_type",
      "The request body must be JSON (Content-Type: application/json).",
    );
  }
  const charset = parameters.find((p) => /^charset\s*=/i.test(p))?.replace(/^charset\s*=\s*/i, "");
  if (charset !== undefined && !/^"?utf-?8"?$/i.test(charset)) {
    throw new DomainError(
      "unsupported_media_type",
      `The request body must be UTF-8 JSON; charset=${charset.slice(0, 40)} is not accepted. Save the file as UTF-8 and send Content-Type: application/json.`,
    );
  }
}

/** When a body is parsed a piece at a time (splitValue), and how. */
export interface BodySplitting {
  /** Bodies of at least this many bytes. */
  fromBytes: number;
  /** Bytes of an array's elements decoded and parsed at a time. */
  runBytes: number;
  /** Members (arrays and objects) of at least this many bytes are cut out; smaller ones stay in the rest. */
  minPieceBytes: number;
  /**
   * An element of at least this many bytes that is an object or an array is split again; a string
   * of at least this many bytes (an element or a member) is read on its own (parseBigString).
   */
  bigBytes: number;
}

/**
 * Bodies from 4 MiB on are parsed a piece at a time, never decoded whole: a 25 MiB body with one
 * character above U+00FF was a 50 MiB string, and with records whose 50 variable names are all
 * different (40 MiB parsed) the two did not fit an isolate capped at 80 MiB of old generation.
 * Below 4 MiB one decode and one parse are faster (measured in bench/README "Heap") and the memory
 * is small. Elements are parsed 128 KiB at a time (one call per record would cost more than the
 * parse); members from 16 KiB on are cut out, so a level is cut into 1,300 pieces at most; an
 * element of 1 MiB or more (no valid record is) is split again, down to MAX_CUT_DEPTH levels.
 */
const BODY_SPLITTING: BodySplitting = {
  fromBytes: 4 * 1024 * 1024,
  runBytes: 128 * 1024,
  minPieceBytes: 16 * 1024,
  bigBytes: 1024 * 1024,
};

/**
 * The body's JSON value: 400 invalid_json when the bytes are not UTF-8 (naming the first bad byte's
 * offset) or do not parse (naming the element, `records.1200`, when the body was parsed a piece at
 * a time), 413 payload_too_large past MAX_JSON_CONTAINERS, or past MAX_ARRAY_ELEMENTS in one array
 * when parsed a piece at a time. Both ways give the same value, held to each other by a property
 * test with `splitting` set to split every body; where a body has two faults, they may name
 * different ones.
 */
export function parseJsonBody(bytes: ArrayBuffer, splitting = BODY_SPLITTING): unknown {
  if (bytes.byteLength >= splitting.fromBytes) {
    const view = new Uint8Array(bytes);
    const split = splitValue(view, 0, view.length, splitting);
    // Past the container bound the body is refused the way it always was, which needs no parse.
    if (split !== undefined && split.containers <= MAX_JSON_CONTAINERS) {
      const reading = { surrogates: false };
      const value = parsePieces(view, 0, view.length, split, "", splitting, reading, 0);
      if (reading.surrogates) refuseLoneSurrogates(value);
      return value;
    }
  }
  let text = decode(new Uint8Array(bytes), 0, bytes.byteLength, UTF8);
  checkContainerCount(text);
  // The same variable, so that the text as sent is not held while its quoted copy is parsed.
  if (readsNumbersAsWritten(text)) text = quoteNumbersAsWritten(text);
  const value = parseText(text, "body");
  // Raw UTF-8 cannot carry a surrogate; only a \uD800-style escape can, so without one the walk is
  // skipped (a scan of the text costs milliseconds even at 20 MB).
  if (SURROGATE_ESCAPE.test(text)) refuseLoneSurrogates(value);
  return value;
}

/**
 * The most elements one array of a body parsed a piece at a time may hold: ten times the most any
 * route takes (10,000 records, numbers or ids), so that a body of 10 million `0,` is refused (413)
 * before an array of them is built.
 */
export const MAX_ARRAY_ELEMENTS = 100_000;

/** What reading a body piece by piece found along the way. */
interface Reading {
  /** A `\uD800`-style escape was seen: the value is walked for lone surrogates at the end. */
  surrogates: boolean;
}

/**
 * How deep pieces are cut: a piece inside a piece inside … this many levels down is parsed whole.
 * Each level scans its piece again, so a body nested thousands of levels deep around one long
 * string would take time in proportion to depth × size (and the stack with it); a bulk request
 * needs 3 (the body, `records`, a record of 1 MiB or more), and a few more keep the shapes around
 * it (`{"data":{"records":…}}`, a body inside an array) cut too.
 */
const MAX_CUT_DEPTH = 8;

/** `path` and `key` joined as an error detail names a place (`records.3`); "" is the body. */
function child(path: string, key: string | number): string {
  return path === "" ? String(key) : `${path}.${key}`;
}

/** The value in `bytes[from, to)`: cut into pieces when it has any (splitValue), else parsed whole. */
function parseRange(
  bytes: Uint8Array,
  from: number,
  to: number,
  path: string,
  cut: BodySplitting,
  reading: Reading,
  depth: number,
): unknown {
  const split = depth < MAX_CUT_DEPTH ? splitValue(bytes, from, to, cut) : undefined;
  if (split !== undefined) return parsePieces(bytes, from, to, split, path, cut, reading, depth);
  const decoded = decode(bytes, from, to, from === 0 ? UTF8 : UTF8_INSIDE);
  reading.surrogates ||= SURROGATE_ESCAPE.test(decoded);
  const text = readsNumbersAsWritten(decoded) ? quoteNumbersAsWritten(decoded) : decoded;
  // A byte order mark dropped at the body's start is three bytes before the text.
  const start = from === 0 && bytes[0] === 0xef ? 3 : from;
  return parseText(text, path || "body", text === decoded ? locatedFrom(start, text) : () => undefined);
}

/**
 * The value in `bytes[from, to)` with its pieces parsed on their own, in the order of the bytes (so
 * an invalid UTF-8 byte is named by its offset in the body): the text before each piece, the piece,
 * and so on; then the rest, in which each piece is a marker, is parsed and the pieces are put where
 * their markers are. A marker a later member of the same name replaced (as JSON reads an object,
 * the last one wins) is not there: its piece was judged, and is dropped.
 */
function parsePieces(
  bytes: Uint8Array,
  from: number,
  to: number,
  split: ValueSplit,
  path: string,
  cut: BodySplitting,
  reading: Reading,
  depth: number,
): unknown {
  const nonce = crypto.getRandomValues(new Uint32Array(2)).join("-");
  const marker = (n: number) => `bulkcall-piece-${nonce}-${n}`;
  const rest: string[] = [];
  /** Where each text of `rest` came from: its byte offset, or the piece its marker stands for. */
  const sources: number[] = [];
  const parsed: unknown[] = [];
  let at = from;
  for (const [n, piece] of split.pieces.entries()) {
    const before = decode(bytes, at, piece.start, at === 0 ? UTF8 : UTF8_INSIDE);
    reading.surrogates ||= SURROGATE_ESCAPE.test(before);
    rest.push(before, `["${marker(n)}"]`);
    sources.push(at === 0 && bytes[0] === 0xef ? 3 : at, piece.start);
    const where = piece.key === undefined ? path : child(path, piece.key);
    parsed.push(
      piece.kind === "array"
        ? parseArray(bytes, piece, where, cut, reading, depth + 1)
        : piece.kind === "string"
          ? parseBigString(bytes, piece.start, piece.end, where, reading)
          : parseRange(bytes, piece.start, piece.end, where, cut, reading, depth + 1),
    );
    if (!piece.closed) {
      throw new DomainError("invalid_json", "The request body is not valid JSON.", [
        { path: where || "body", message: `the ${piece.kind} never closes` },
      ]);
    }
    at = piece.end;
  }
  const after = decode(bytes, at, to, at === 0 ? UTF8 : UTF8_INSIDE);
  reading.surrogates ||= SURROGATE_ESCAPE.test(after);
  rest.push(after);
  sources.push(at === 0 && bytes[0] === 0xef ? 3 : at);
  const joined = rest.join("");
  const text = readsNumbersAsWritten(joined) ? quoteNumbersAsWritten(joined) : joined;
  /** A position in the joined text, as a byte offset of the body (a marker's: its piece's start). */
  const locate = (position: number) => {
    let chars = 0;
    for (const [k, part] of rest.entries()) {
      if (position < chars + part.length || k === rest.length - 1) {
        const source = sources[k] as number;
        return k % 2 === 1 ? source : locatedFrom(source, part)(position - chars);
      }
      chars += part.length;
    }
    return undefined;
  };
  let value = parseText(text, path || "body", text === joined ? locate : () => undefined);
  for (const [n, piece] of split.pieces.entries()) {
    const isMarker = (v: unknown) => Array.isArray(v) && v.length === 1 && v[0] === marker(n);
    if (piece.key === undefined) {
      if (isMarker(value)) value = parsed[n];
    } else if (typeof value === "object" && value !== null) {
      // An own property, also when it is named __proto__ (JSON.parse makes it one).
      const held = Object.getOwnPropertyDescriptor(value, piece.key);
      if (held !== undefined && isMarker(held.value)) {
        Object.defineProperty(value, piece.key, { ...held, value: parsed[n] });
      }
    }
  }
  return value;
}

/**
 * An array piece's elements, parsed a run at a time: 413 past MAX_ARRAY_ELEMENTS, 400 naming the
 * first element that is not JSON. An element big enough to be a run of its own is split again.
 */
function parseArray(
  bytes: Uint8Array,
  piece: Piece,
  path: string,
  cut: BodySplitting,
  reading: Reading,
  depth: number,
): unknown[] {
  if (piece.elements > MAX_ARRAY_ELEMENTS) {
    const name = path || "body";
    throw new DomainError(
      "payload_too_large",
      `The request body's ${name} array holds ${piece.elements.toLocaleString("en-US")} elements; no request takes more than ${MAX_ARRAY_ELEMENTS.toLocaleString("en-US")}.`,
      [{ path: name, message: `more than ${MAX_ARRAY_ELEMENTS} elements` }],
    );
  }
  // An array under a phone_numbers key is a suppression list: its float-written entries keep their
  // text, as quoteNumbersAsWritten reads them in the whole body.
  const phones = piece.key !== undefined && canonicalFieldName(piece.key) === "phone_numbers";
  const elements: unknown[] = [];
  const { runs } = piece;
  for (let k = 0; k < runs.length; k += 3) {
    const start = runs[k] as number;
    const end = runs[k + 1] as number;
    const at = skipWhitespace(bytes, start, end);
    const first = bytes[at];
    if (runs[k + 2] === 1 && end - start >= cut.bigBytes) {
      const where = child(path, elements.length);
      if (first === 0x7b || first === 0x5b) {
        elements.push(parseRange(bytes, start, end, where, cut, reading, depth));
        continue;
      }
      const close = skipWhitespaceBack(bytes, at, end);
      if (first === 0x22 && close - at >= 2 && bytes[close - 1] === 0x22) {
        elements.push(parseBigString(bytes, at, close, where, reading));
        continue;
      }
    }
    const inside = decode(bytes, start, end, UTF8_INSIDE);
    // A run is never empty: `[]` has none. An empty one is an element left out (`[{},]`), which
    // `[]` would read as nothing.
    if (JSON_WHITESPACE_ONLY.test(inside)) {
      throw new DomainError("invalid_json", "The request body is not valid JSON.", [
        {
          path: child(path, elements.length),
          message: `an element is missing (two commas in a row, or a comma before "]") at byte offset ${start} of the body`,
        },
      ]);
    }
    let text = phones ? `{"phone_numbers":[${inside}]}` : `[${inside}]`;
    reading.surrogates ||= SURROGATE_ESCAPE.test(inside);
    if (readsNumbersAsWritten(text)) text = quoteNumbersAsWritten(text);
    let run: unknown[];
    try {
      const value = JSON.parse(text) as unknown[] | { phone_numbers: unknown[] };
      run = Array.isArray(value) ? value : value.phone_numbers;
    } catch {
      throw unparseableElement(bytes, start, end, path, elements.length);
    }
    for (const element of run) elements.push(element);
  }
  return elements;
}

const JSON_WHITESPACE_ONLY = /^[ \t\n\r]*$/;

/** Just past the last byte of `bytes[from, end)` that is not JSON whitespace. */
function skipWhitespaceBack(bytes: Uint8Array, from: number, end: number): number {
  let i = end;
  while (
    i > from &&
    (bytes[i - 1] === 0x20 || bytes[i - 1] === 0x0a || bytes[i - 1] === 0x0d || bytes[i - 1] === 0x09)
  )
    i--;
  return i;
}

/**
 * The string whose JSON text is `bytes[start, end)` (quotes included), 1 MiB or more of it. Parsed
 * as JSON, its text would be held twice (two bytes per character once one is above U+00FF: 40 MiB
 * each for 20 MB of mostly ASCII); without an escape, a quote inside (`"a" "b"` is two strings, not
 * JSON) or a control character (which JSON.parse refuses) it is decoded straight from the bytes,
 * once. Otherwise it is parsed as JSON.
 */
function parseBigString(
  bytes: Uint8Array,
  start: number,
  end: number,
  path: string,
  reading: Reading,
): string {
  let plain = true;
  for (let i = start + 1; i < end - 1; i++) {
    const b = bytes[i] as number;
    if (b === 0x5c || b === 0x22 || b < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return decode(bytes, start + 1, end - 1, UTF8_INSIDE);
  const text = decode(bytes, start, end, UTF8_INSIDE);
  reading.surrogates ||= SURROGATE_ESCAPE.test(text);
  return parseText(text, path || "body", locatedFrom(start, text)) as string;
}

/**
 * The 400 for a run of the array at `path` (bytes `start` to `end`, its first element the array's
 * `index`th) that did not parse, naming the first of its elements that does not (`records.1200`).
 */
function unparseableElement(
  bytes: Uint8Array,
  start: number,
  end: number,
  path: string,
  index: number,
): DomainError {
  const { runs } = scanElements(bytes, start, end, 0);
  for (let k = 0; k < runs.length; k += 3) {
    // Quoting numbers as written changes no element's being JSON, so it is left out here.
    const text = decode(bytes, runs[k] as number, runs[k + 1] as number, UTF8_INSIDE);
    try {
      JSON.parse(text);
    } catch (err) {
      return notJson(err, child(path, index + k / 3), locatedFrom(runs[k] as number, text));
    }
  }
  // Not reached: a run is its elements joined by commas, so one of them does not parse.
  return new DomainError("invalid_json", "The request body is not valid JSON.", [
    { path: child(path, index), message: "unparseable" },
  ]);
}

/** `bytes[start, end)` as text: 400 invalid_json naming the first byte that is not UTF-8. */
function decode(bytes: Uint8Array, start: number, end: number, decoder: TextDecoder): string {
  const slice = bytes.subarray(start, end);
  try {
    return decoder.decode(slice);
  } catch {
    const at = firstInvalidUtf8(slice);
    const byte = slice[at] ?? 0;
    throw new DomainError(
      "invalid_json",
      `The request body is not valid UTF-8: byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} at offset ${start + at} is not part of a UTF-8 character. Save the file as UTF-8 (not Windows-1252 or Latin-1) and send it again.`,
      [{ path: "body", message: `invalid UTF-8 at byte offset ${start + at}` }],
    );
  }
}

/**
 * JSON.parse of `text`, or 400 invalid_json with the parser's message under `path`. A piece of a
 * large body is not the body, so a position the parser names in it is restated as a byte offset of
 * the body by `locate` (undefined when it cannot tell: the position is then left out).
 */
function parseText(text: string, path: string, locate?: (position: number) => number | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw notJson(err, path, locate);
  }
}

const PARSER_POSITION = / (in|after) JSON at position (\d+)(?: \(line \d+ column \d+\))?/;
/** A piece's marker, which the parser may quote from the text it read: it was never sent. */
const MARKER_TEXT = /bulkcall-piece-[\d-]*/g;

/** The 400 for a parser error `err` under `path`, its position restated by `locate` (see parseText). */
function notJson(err: unknown, path: string, locate?: (position: number) => number | undefined): DomainError {
  let message = err instanceof Error ? err.message : "unparseable";
  const position = PARSER_POSITION.exec(message);
  if (locate !== undefined && position !== null) {
    const offset = locate(Number(position[2]));
    const after = position[1] === "after" ? " after the JSON" : "";
    message = message.replace(
      PARSER_POSITION,
      offset === undefined ? after : `${after} at byte offset ${offset} of the body`,
    );
  }
  if (locate !== undefined) message = message.replace(MARKER_TEXT, "…");
  return new DomainError("invalid_json", "The request body is not valid JSON.", [
    { path, message: message.slice(0, 200) },
  ]);
}

/** A locate for text decoded unchanged from the body's bytes from `start`: characters counted as UTF-8. */
function locatedFrom(start: number, text: string): (position: number) => number {
  return (position) => start + UTF8_ENCODER.encode(text.slice(0, position)).length;
}

const UTF8_ENCODER = new TextEncoder();

/** 400 invalid_json when a string of `value` holds a lone surrogate (firstLoneSurrogate). */
function refuseLoneSurrogates(value: unknown): void {
  const at = firstLoneSurrogate(value);
  if (at !== undefined) {
    throw new DomainError(
      "invalid_json",
      `The request body is not valid Unicode text: ${at.path} holds a lone surrogate (a \\u${at.code} escape without its pair), which no system stores as it was sent. Send the text as UTF-8, or escape whole characters.`,
      [{ path: at.path, message: `contains a lone surrogate \\u${at.code}` }],
    );
  }
}

/**
 * Objects and arrays one JSON body may hold. JSON.parse builds every one before any rule can refuse
 * the value holding it, at 11–15 bytes of heap per byte of `{}` or `[` (measured): 20 MB of them
 * (one record with a value of `[{},{},…]`, or nested `[[[…]]]`) needs 300 MiB to 1.5 GB, and kills
 * the isolate (128 MB) with every request it is serving. 10,000 records need about 10,000; invalid
 * ones whose 50 extra keys are all objects, 510,000.
 */
export const MAX_JSON_CONTAINERS = 1_000_000;

/**
 * 413 payload_too_large when the body holds more than MAX_JSON_CONTAINERS objects and arrays,
 * before it is parsed. Counting `{` and `[` characters (strings included) bounds the count from
 * above and costs a few milliseconds; only a body over the bound is read character by character,
 * outside strings.
 */
function checkContainerCount(text: string): void {
  if (openingBrackets(text) <= MAX_JSON_CONTAINERS) return;
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i) - 1;
    else if ((c === 0x7b || c === 0x5b) && ++containers > MAX_JSON_CONTAINERS) {
      throw new DomainError(
        "payload_too_large",
        `The request body holds more than ${MAX_JSON_CONTAINERS.toLocaleString("en-US")} JSON objects and arrays; records are flat objects (10,000 of them hold about 10,000). Send flat records.`,
        [{ path: "body", message: `more than ${MAX_JSON_CONTAINERS} objects and arrays` }],
      );
    }
  }
}

/** How many `{` and `[` characters `text` holds, counted up to one past MAX_JSON_CONTAINERS. */
function openingBrackets(text: string): number {
  let count = 0;
  for (const bracket of ["{", "["]) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++count > MAX_JSON_CONTAINERS) return count;
    }
  }
  return count;
}

/**
 * For the routes that take no body (they act on their path alone): a body is refused rather than
 * ignored, since a client sending one expects it to mean something. Nothing, or `{}` (which some
 * HTTP clients send with every POST), is accepted. Runs after jsonBody.
 */
export const noBody = createMiddleware<AppBindings>(async (c, next) => {
  if ((c.var.rawBody?.byteLength ?? 0) > 0) {
    const value = await c.req.json<unknown>();
    const empty =
      typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
    if (!empty) {
      throw new DomainError("validation_error", "This request takes no body; send none.", [
        { path: "body", message: "must be empty" },
      ]);
    }
  }
  await next();
});

/**
 * A JSON number as a value (after `:`, `[` or `,`) written with a fraction or an exponent, or with
 * 16 digits or more (it may hold more than a stored number keeps): only a text holding one is read
 * by quoteNumbersAsWritten before it is parsed. It looks at no key, so it cannot miss a field
 * spelled with escapes or spaces (`"\u0070hone_number"`), and it reads a piece of a large body as
 * it reads the whole. One pattern, not one for each kind: the body is scanned once (about 40 % less
 * time on a 10,000-record body than two scans).
 */
const NUMBER_AS_WRITTEN = /[:[,]\s*-?(?:\d+(?:\.\d*)?(?:[eE]|\.\d)|[\d.]{16,})/;

function readsNumbersAsWritten(text: string): boolean {
  return NUMBER_AS_WRITTEN.test(text);
}

/** The smallest double that keeps all its digits: below it (subnormals), fewer and fewer are kept. */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * Whether JSON.parse reads the JSON number `token` as the value written: at most 15 significant
 * digits (EXACT_DIGITS in record-rules, what a double keeps), and neither past a double's range
 * (1e400 would be Infinity, stored as null) nor below its normal range (1e-400 would be 0). Any
 * other number is kept as the text it was written in, so that a rule refuses it or a variable keeps
 * it exactly, instead of a rounded value being stored.
 */
export function heldExactly(token: string): boolean {
  const mantissa = token
    .replace(/^-/, "")
    .replace(/[eE].*$/, "")
    .replace(".", "");
  if (mantissa.replace(/^0+/, "").length > EXACT_DIGITS) return false;
  const value = Math.abs(Number(token));
  if (!Number.isFinite(value)) return false;
  // 0 only when every digit written is 0.
  if (value === 0) return !/[1-9]/.test(mantissa);
  return value >= MIN_NORMAL;
}

/** A JSON number, whole: only such a token is quoted (a malformed one is left for JSON.parse to refuse). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const FLOAT_TEXT = /[.eE]/;

/** What a container on quoteNumbersAsWritten's stack is. */
const OBJECT = 0;
const ARRAY = 1;
const PHONE_ARRAY = 2;

/**
 * `text` with the numbers that must be judged as written turned into JSON strings of their text:
 * - a phone number written with a fraction or an exponent: the value of a `phone_number` key (in
 *   any spelling canonicalFieldName accepts) and an entry of a `phone_numbers` array
 *   (suppressions). The rules then see `"9.87654E+09"` and refuse it as a spreadsheet number
 *   instead of dialling 9876540000, someone else's number;
 * - any number JSON.parse would not read as written (heldExactly: more than 15 significant
 *   digits, or past a double's range): an amount is then refused (`"12345678901234567"`) instead
 *   of stored as 12345678901234568, and a variable keeps its digits as text.
 * Every other number, and every string, is left as it was.
 *
 * One pass over the text, aware of strings and their escapes, with its own stack (any depth). It
 * replaces reading the body through JSON.parse's reviver with source texts, which kept a record of
 * every value and needed several times the heap of a plain parse. Throws nothing: a body that is
 * not JSON is left for JSON.parse to refuse.
 */
export function quoteNumbersAsWritten(text: string): string {
  const pieces: string[] = [];
  let copiedUpTo = 0;
  let stack = new Uint8Array(64);
  let depth = 0;
  /**
   * In an object: what the last key read names (canonicalFieldName, worked out once per key: a
   * malformed body can follow one long key with many values), and whether the next string is a key.
   */
  let named = "";
  let expectingKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      i = stringEnd(text, i);
      if (expectingKey) {
        const raw = text.slice(start, i);
        named = canonicalFieldName(raw.includes("\\") ? readKey(raw) : raw.slice(1, -1));
        expectingKey = false;
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      const inObject = depth > 0 && stack[depth - 1] === OBJECT;
      stack[depth++] = c === 0x7b ? OBJECT : inObject && named === "phone_numbers" ? PHONE_ARRAY : ARRAY;
      expectingKey = c === 0x7b;
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      if (depth > 0) depth--;
      expectingKey = false;
      i++;
      continue;
    }
    if (c === 0x2c) {
      expectingKey = depth > 0 && stack[depth - 1] === OBJECT;
      i++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      const top = depth > 0 ? stack[depth - 1] : undefined;
      // A number where a key belongs is not a value, and is left for JSON.parse to refuse: quoted,
      // it would become a key, and a body that is not JSON would be read as one.
      if (!expectingKey) {
        const token = text.slice(start, i);
        const phone = top === PHONE_ARRAY || (top === OBJECT && named === "phone_number");
        const changed = (phone && FLOAT_TEXT.test(token)) || !heldExactly(token);
        if (changed && JSON_NUMBER.test(token)) {
          pieces.push(text.slice(copiedUpTo, start), `"${token}"`);
          copiedUpTo = i;
        }
      }
      continue;
    }
    i++;
  }
  if (copiedUpTo === 0) return text;
  pieces.push(text.slice(copiedUpTo));
  return pieces.join("");
}

/**
 * The index just past the JSON string whose opening quote is at `start` (past its closing quote;
 * a backslash escapes the character after it), or the text's length when it never closes.
 */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return text.length;
}

/** An object key with escapes, as JSON reads it; a malformed one is left for JSON.parse to refuse. */
function readKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return "";
  }
}

/** Characters a JSON number token may hold. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The first string (object key or value) of a parsed JSON value that is not well-formed UTF-16 — a
 * lone surrogate, which becomes U+FFFD the moment it is stored, so that two different keys would
 * read back as one — with its path (`records.3.loan_id`) and the surrogate's code. Iterative: any
 * depth.
 */
function firstLoneSurrogate(value: unknown): { path: string; code: string } | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: "body" }];
  const bad = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
        return c;
      }
      if (c >= 0xdc00 && c <= 0xdfff) return c;
    }
    return undefined;
  };
  const hex = (c: number) => c.toString(16).toUpperCase();
  const child = (path: string, key: string) => (path === "body" ? key : `${path}.${key}`);
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, path } = item;
    if (typeof v === "string") {
      const c = bad(v);
      if (c !== undefined) return { path, code: hex(c) };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: child(path, String(i)) });
    } else if (v !== null && typeof v === "object") {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const c = bad(key);
        // The key itself is named by its position: its text cannot be shown as sent.
        if (c !== undefined) return { path: child(path, `(key ${i + 1})`), code: hex(c) };
        stack.push({ value: (v as Record<string, unknown>)[key], path: child(path, key) });
      }
    }
  }
  return undefined;
}

/**
 * Fatal: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD in a stored name. A
 * byte order mark is dropped at the body's start only: inside a body U+FEFF is not JSON whitespace.
 */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const UTF8_INSIDE = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The offset of the first byte that does not belong to a well-formed UTF-8 sequence (overlong
 * forms, surrogates and code points past U+10FFFF included), or the length when there is none.
 * Only called once decoding has failed, so it may be plain.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (next & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return i;
}

/**
 * The body's bytes, read with a running count (abandoned at the limit, never buffered whole). A
 * client that stops sending half-way is its own fault: a 400 request_incomplete, logged as such.
 */
export async function readBody(
  request: Request,
  lengthDeclared: boolean,
  limit: number,
  requestId: string,
): Promise<ArrayBuffer> {
  try {
    return lengthDeclared ? await request.arrayBuffer() : await readAtMost(request, limit);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    console.warn(
      JSON.stringify({ event: "request_body_incomplete", requestId, error: String(err).slice(0, 200) }),
    );
    throw new DomainError(
      "request_incomplete",
      "The request body ended before it was complete (the connection was closed while sending); send it again.",
    );
  }
}

async function readAtMost(request: Request, limit: number): Promise<ArrayBuffer> {
  if (!request.body) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}

export function tooLarge(limit: number): DomainError {
  return new DomainError("payload_too_large", `The request body may be at most ${limit} bytes.`);
}
