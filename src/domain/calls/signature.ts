// HMAC-SHA256 signatures shared by both directions of the dialer protocol: bulkcall signs what it
// POSTs to DIALER_URL, and the dialer signs the outcomes it POSTs back. The header carries the
// signing time so a captured request cannot be replayed after the tolerance:
//   X-Bulkcall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
export const SIGNATURE_HEADER = "X-Bulkcall-Signature";
/** How far the signing time may be from our clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function signedBytes(timestamp: number, body: string | ArrayBuffer): Uint8Array {
  const prefix = encoder.encode(`${timestamp}.`);
  const payload = typeof body === "string" ? encoder.encode(body) : new Uint8Array(body);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

function toHex(bytes: ArrayBuffer): string {
  let hex = "";
  for (const b of new Uint8Array(bytes)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The header value for `body` signed at `timestamp` (unix seconds). */
export async function signatureHeader(secret: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), signedBytes(timestamp, body));
  return `t=${timestamp},v1=${toHex(mac)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; problem: string };

interface ParsedHeader {
  timestamp: number;
  macs: Uint8Array[];
}

/**
 * Reads the header and checks its timestamp: everything that can be refused before the body is
 * read. Several v1 values may be sent (the sender is rotating its secret).
 */
function parseHeader(
  header: string | undefined,
  nowSeconds: number,
): { ok: true; parsed: ParsedHeader } | { ok: false; problem: string } {
  if (!header) return { ok: false, problem: `missing ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const macs: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const [k, v] = part.trim().split("=", 2);
    if (k === "t" && v && /^\d{1,12}$/.test(v)) timestamp = Number(v);
    if (k === "v1" && v) {
      const mac = fromHex(v);
      if (mac) macs.push(mac);
    }
  }
  if (timestamp === undefined || macs.length === 0) {
    return { ok: false, problem: `${SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>` };
  }
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, problem: "the signature's timestamp is too far from the current time" };
  }
  return { ok: true, parsed: { timestamp, macs } };
}

/**
 * What can be checked of a signature header without the body: its form and its timestamp. A
 * request that fails here is refused before a byte of its body is read.
 */
export function checkSignatureHeader(header: string | undefined, nowSeconds: number): SignatureCheck {
  const result = parseHeader(header, nowSeconds);
  return result.ok ? { ok: true } : result;
}

/**
 * Checks a signature header against the raw body. One matching v1 value is enough. The comparison
 * is constant-time (crypto.subtle.verify).
 */
export async function verifySignature(
  secret: string,
  header: string | undefined,
  body: string | ArrayBuffer,
  nowSeconds: number,
): Promise<SignatureCheck> {
  const result = parseHeader(header, nowSeconds);
  if (!result.ok) return result;
  const { timestamp, macs } = result.parsed;
  const key = await hmacKey(secret);
  const data = signedBytes(timestamp, body);
  for (const mac of macs) {
    if (await crypto.subtle.verify("HMAC", key, mac, data)) return { ok: true };
  }
  return { ok: false, problem: "the signature does not match the body" };
}
