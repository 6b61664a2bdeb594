/**
 * The `Host` header, checked and never trusted: the gateway routes by the
 * request's path alone and builds no URL from `Host` (the Node adapter makes
 * the request URL from the path, see src/node/request.ts). A value that is
 * not a host (`x/metrics?`, `a b`, `[`) is refused with a 400 before any
 * route runs, so it cannot reach a log line, a URL or a comparison.
 */
import { SubwayError } from '../errors.ts';

/**
 * RFC 3986's `host [ ":" port ]`: an IP literal in brackets, or a reg-name
 * (unreserved, percent-encoded and sub-delims characters); empty is allowed
 * (HTTP/1.1 sends an empty Host for a target without authority).
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+(?:%25[0-9A-Za-z._~-]+)?\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]{0,5})?$/;

/** Whether a `Host` (or `:authority`) value is a well-formed host, with an optional port. */
export function isValidHost(value: string): boolean {
  return value.length <= 1024 && HOST.test(value);
}

/** Throws `BAD_REQUEST` (400) when the request's `Host` header is present and malformed. */
export function checkHost(headers: Headers): void {
  const host = headers.get('host');
  if (host !== null && !isValidHost(host)) {
    throw new SubwayError('BAD_REQUEST', 400, 'The Host header is not a valid host.');
  }
}
