/**
 * The upstream URL without its credentials, for logs and banners:
 * `wss://user:secret@api.example.com/graphql?token=abc` is shown as
 * `wss://<redacted>@api.example.com/graphql?token=<redacted>` (userinfo and
 * every query value are where tokens go). `redactor` does the same to any
 * text that may quote the URL or a part of it (an error from the WebSocket
 * library, a configuration error).
 */

export const REDACTED = '<redacted>';

/** The URL with its userinfo and query values replaced; text that is not a URL has the same parts cut by pattern. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/?#]*@/, `//${REDACTED}@`).replace(/\?.*$/s, `?${REDACTED}`);
  }
  const userinfo = url.username || url.password ? `${REDACTED}@` : '';
  const query = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join('&');
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${query ? `?${query}` : url.search}`;
}

/** The parts of a URL that are secrets: its username, password and query values, as written and decoded. */
function secretsOf(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const found = [url.username, url.password, ...url.search.slice(1).split('&').map((p) => p.slice(p.indexOf('=') + 1))];
  const all = found.flatMap((s) => {
    try {
      return [s, decodeURIComponent(s)];
    } catch {
      return [s];
    }
  });
  // Longest first, so a secret that contains another is replaced whole; very short values would redact ordinary text.
  return [...new Set(all)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** A function that redacts the URL (whole, then each of its secrets) from any text. */
export function redactor(url: string | undefined): (text: string) => string {
  if (!url) return (text) => text;
  const whole = redactUrl(url);
  const secrets = secretsOf(url);
  return (text) => {
    let out = text.split(url).join(whole);
    for (const s of secrets) out = out.split(s).join(REDACTED);
    return out;
  };
}
