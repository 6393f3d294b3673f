// What a webhook URL must look like. The rules are checked when a webhook is registered, so a
// delivery never meets a URL it may not call.

/** Longest accepted URL: what common servers and proxies accept in a request line. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * True for hosts that can only be this machine: `localhost` and `*.localhost`, 127.0.0.0/8 and
 * [::1]. Only they may be called over plain http, which is how local development is recognised: a
 * receiver on the developer's own machine. A deployed Worker cannot reach them at all.
 */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; message: string };

/**
 * Checks a webhook URL: absolute, https (http only for loopback hosts), no user name or password,
 * at most MAX_WEBHOOK_URL_LENGTH characters. On success `url` is the URL in its normalized form
 * (what is stored and called).
 */
export function checkWebhookUrl(raw: string): WebhookUrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return { ok: false, message: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: "must be an absolute URL, such as https://example.com/hooks" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, message: "must be an https URL" };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      message: "must not contain a user name or password: receivers verify the signature instead",
    };
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      message: "must use https: plain http is accepted only for loopback hosts (localhost, 127.0.0.1, [::1])",
    };
  }
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    return { ok: false, message: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters once normalized` };
  }
  return { ok: true, url: url.href };
}
