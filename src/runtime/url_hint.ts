/**
 * What a mistyped endpoint or proxy URL probably meant: `localhost:4566` →
 * `http://localhost:4566`, `htp://h` → `http://h`, `http://u:pw@h` → `http://h`.
 * Pure string work; the result never contains a password.
 * @module
 */

// Near-misses of http/https, as typed.
const SCHEME_TYPOS: Readonly<Record<string, string>> = {
  htp: "http",
  htt: "http",
  ttp: "http",
  hhtp: "http",
  htpp: "http",
  hptt: "http",
  http: "http",
  htps: "https",
  htttps: "https",
  httsp: "https",
  ttps: "https",
  hhtps: "https",
  https: "https",
};

/**
 * A corrected URL for `raw`, or `undefined` when none can be guessed.
 * `https` picks the scheme for a bare host (AWS hosts always get https).
 *
 * @example
 * ```ts
 * import { suggestUrl } from "./url_hint.ts";
 * suggestUrl("localhost:4566"); // "http://localhost:4566"
 * suggestUrl("kinesis.us-east-1.amazonaws.com"); // "https://kinesis.us-east-1.amazonaws.com"
 * ```
 */
export function suggestUrl(raw: string, https = false): string | undefined {
  const text = raw.trim();
  if (text === "") return undefined;
  let rest = text;
  let scheme: string | undefined;
  const m = /^([a-z][a-z0-9+.-]*):\/*/i.exec(text);
  // "localhost:4566" reads as scheme "localhost" to URL; a port number after the colon says otherwise.
  if (m && !/^\d/.test(text.slice(m[1].length + 1))) {
    scheme = SCHEME_TYPOS[m[1].toLowerCase()];
    if (!scheme) return undefined; // socks5:, ftp:… : no http(s) meant
    rest = text.slice(m[0].length);
  }
  // Drop user info: keys never belong in a Kinesis endpoint; a proxy's stays out of the hint.
  const at = rest.search(/@[^/]*$|@(?=[^/]*\/)/);
  if (at >= 0) rest = rest.slice(at + 1);
  const host = /^[^/?#]+/.exec(rest)?.[0];
  if (!host || !/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.test(host)) return undefined;
  scheme ??= https || /amazonaws\.com(?:\.cn)?(?::\d+)?$/i.test(host) ? "https" : "http";
  const suggestion = `${scheme}://${rest}`;
  try {
    new URL(suggestion);
  } catch {
    return undefined;
  }
  return suggestion === text ? undefined : suggestion;
}
