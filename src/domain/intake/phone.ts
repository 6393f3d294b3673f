// Phone numbers are normalized to E.164 with the campaign's default country. The "max" metadata is
// used on purpose: it knows which number ranges are really assigned (e.g. an Indian number must be
// a real mobile or fixed-line range), so the dialer is not handed numbers that can never connect.
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";

export type PhoneResult = { ok: true; e164: string } | { ok: false; message: string };

export const PHONE_MESSAGES = {
  type: "must be a string or a whole number",
  invalid: "is not a valid phone number",
  extension: "must not carry an extension",
} as const;

export function normalizePhone(input: unknown, defaultCountry: string): PhoneResult {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else if (typeof input === "number" && Number.isSafeInteger(input) && input > 0) {
    text = String(input);
  } else {
    return { ok: false, message: PHONE_MESSAGES.type };
  }
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode });
  if (!parsed?.isValid()) return { ok: false, message: PHONE_MESSAGES.invalid };
  if (parsed.ext) return { ok: false, message: PHONE_MESSAGES.extension };
  return { ok: true, e164: parsed.number };
}

const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}
