/**
 * An HTTP(S) proxy for `fetch` (the seed's `http_proxy`), per runtime:
 * - Deno: `Deno.createHttpClient({ proxy })`, passed as `client`;
 * - Bun: its `fetch` `proxy` option;
 * - Node: undici's `ProxyAgent` as the dispatcher of undici's `fetch`
 *   (undici is loaded on demand, so bundles that never call this skip it);
 * - Workers and anything else: {@link ProxyUnsupportedError}.
 *
 * Give the returned `fetch` to the Kinesis client AND to the credential
 * providers, so STS and metadata calls take the same route.
 * @module
 */
import { suggestUrl } from "./url_hint.ts";
import type { FetchLike } from "../aws/types.ts";

/** The runtimes {@link proxyFetch} knows. */
export type ProxyRuntime = "deno" | "bun" | "node" | "workerd" | "unknown";

/** A proxied `fetch`, with a way to release its connections. */
export interface ProxiedFetch extends FetchLike {
  /** Closes the proxy client's connections (Deno client, undici agent); a no-op in Bun. */
  close(): Promise<void>;
  /**
   * The proxy (`host:port`, never its credentials) a request to `url` goes
   * through, or `undefined` when it goes direct: error messages blame the proxy
   * rather than the endpoint when a connection fails.
   */
  proxyFor(url: string): string | undefined;
}

/** `host:port` of a parsed proxy URL, the port filled in from the scheme. */
function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** Options for {@link proxyFetch}. */
export interface ProxyFetchOptions {
  /**
   * Which runtime's mechanism to use; `"node"` works in Deno and Bun too.
   * @default {the detected runtime}
   */
  runtime?: ProxyRuntime;
}

/** This runtime cannot send `fetch` through a proxy (Workers: outbound traffic goes through Cloudflare). */
export class ProxyUnsupportedError extends Error {
  /** Always `"ProxyUnsupported"`. */
  readonly code = "ProxyUnsupported";
  /** Never worth retrying. */
  readonly retryable = false;
  /** The runtime that lacks proxy support. */
  readonly runtime: ProxyRuntime;

  /** Creates the error for `runtime`. */
  constructor(runtime: ProxyRuntime, message?: string, options?: { cause?: unknown }) {
    super(
      message ??
        `Cannot use an HTTP proxy in runtime "${runtime}": it has no proxy support for fetch`,
      options,
    );
    this.name = "ProxyUnsupportedError";
    this.runtime = runtime;
  }
}

/** Detects the runtime: Deno and Bun first, as both also look like Node. */
export function detectRuntime(): ProxyRuntime {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string } };
    navigator?: { userAgent?: string };
  };
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (g.process?.versions?.node) return "node";
  return "unknown";
}

/**
 * Returns `url` with any password in its user info replaced by `***`, for
 * messages. Works on strings that do not parse as URLs, too.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./proxy.ts";
 * console.log(redactUrl("http://me:hunter2@proxy:3128")); // http://me:***@proxy:3128
 * ```
 */
export function redactUrl(url: string): string {
  const parts = splitUserinfo(url);
  if (!parts) return url;
  const colon = parts.userinfo.indexOf(":");
  if (colon < 0) return url;
  return parts.head + parts.userinfo.slice(0, colon) + ":***@" + parts.tail;
}

/**
 * Finds the user info in raw text, before any parsing: everything between
 * `://` and the LAST `@`, since a password may hold an unencoded `/`, `?`,
 * `#` or `@` that a URL parser would take for the end of the authority.
 */
function splitUserinfo(
  url: string,
): { head: string; userinfo: string; tail: string } | undefined {
  const scheme = url.indexOf("://");
  const start = scheme >= 0 ? scheme + 3 : 0;
  const at = url.lastIndexOf("@");
  if (at < start) return undefined;
  return { head: url.slice(0, start), userinfo: url.slice(start, at), tail: url.slice(at + 1) };
}

/** Percent-encodes the characters of raw user info that would end it early for a URL parser. */
function encodeUserinfo(url: string): string {
  const parts = splitUserinfo(url);
  if (!parts) return url;
  const safe = parts.userinfo.replace(
    /[/?#@\[\]\s\\]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"),
  );
  return parts.head + safe + "@" + parts.tail;
}

/** Parses and checks a proxy URL: http: or https:, with a host; messages never show its password. */
function parseProxyUrl(proxyUrl: string): URL {
  const invalid = (why: string) => {
    const fix = suggestUrl(String(proxyUrl));
    return new TypeError(
      `Cannot use proxy URL "${redactUrl(String(proxyUrl))}": ${why}` +
        (fix ? `; did you mean ${redactUrl(fix)}?` : ""),
    );
  };
  let url: URL;
  try {
    url = new URL(encodeUserinfo(String(proxyUrl)));
  } catch {
    throw invalid("it is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(
      /^[a-z][a-z0-9+.-]*:\d/i.test(proxyUrl)
        ? "it has no scheme (http://)"
        : `its protocol must be http: or https:, current value is ${url.protocol}`,
    );
  }
  if (!url.hostname) throw invalid("it has no host");
  return url;
}

// A string, not a literal in import(): bundlers leave it alone, so Workers and
// browser bundles never include undici. It is an optional peer dependency.
const UNDICI = "undici";

interface UndiciModule {
  ProxyAgent: new (uri: string) => { close(): Promise<void> };
  fetch: (input: string | URL, init?: RequestInit & { dispatcher?: unknown }) => Promise<Response>;
}

/** undici's fetch accepts only its own Request class: pass a global Request as URL + init. */
async function splitRequest(
  input: Request | string | URL,
  init?: RequestInit,
): Promise<[string | URL, RequestInit | undefined]> {
  if (typeof input === "string" || input instanceof URL) return [input, init];
  const body = input.method === "GET" || input.method === "HEAD"
    ? undefined
    : await input.arrayBuffer();
  return [input.url, {
    method: input.method,
    headers: input.headers,
    body,
    signal: input.signal,
    redirect: input.redirect,
    ...init,
  }];
}

/**
 * Returns a `fetch` that sends every request through the proxy at
 * `proxyUrl` (`http://[user:password@]host:port`, or `https://…`).
 *
 * @example Deno, Bun or Node
 * ```ts ignore
 * import { proxyFetch } from "@kpl/kinesis-producer/aws";
 * const fetch = await proxyFetch("http://proxy.internal:3128");
 * const response = await fetch("https://example.com/");
 * await fetch.close();
 * ```
 * @throws {TypeError} for a URL that does not parse or is not http(s); the message hides its password.
 * @throws {ProxyUnsupportedError} in Workers or an unknown runtime, or in Node when `undici` cannot be loaded.
 */
export async function proxyFetch(
  proxyUrl: string,
  options: ProxyFetchOptions = {},
): Promise<ProxiedFetch> {
  const url = parseProxyUrl(proxyUrl);
  const { runtime = detectRuntime() } = options;
  switch (runtime) {
    case "deno": {
      const deno = (globalThis as {
        Deno?: {
          createHttpClient(options: {
            proxy: { url: string; basicAuth?: { username: string; password: string } };
          }): { close(): void };
        };
      }).Deno;
      if (!deno?.createHttpClient) {
        throw new ProxyUnsupportedError(
          runtime,
          "Cannot use an HTTP proxy: Deno.createHttpClient is missing",
        );
      }
      // Credentials go in basicAuth, not the URL, so Deno sends Proxy-Authorization.
      const basicAuth = url.username
        ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : undefined;
      const bare = new URL(url.href);
      bare.username = "";
      bare.password = "";
      const client = deno.createHttpClient({ proxy: { url: bare.href, basicAuth } });
      const fetch =
        ((input, init) =>
          globalThis.fetch(input, { ...init, client } as RequestInit)) as ProxiedFetch;
      fetch.close = () => Promise.resolve(client.close());
      fetch.proxyFor = () => hostPort(url);
      return fetch;
    }
    case "bun": {
      const href = url.href;
      const fetch =
        ((input, init) =>
          globalThis.fetch(input, { ...init, proxy: href } as RequestInit)) as ProxiedFetch;
      fetch.close = () => Promise.resolve();
      fetch.proxyFor = () => hostPort(url);
      return fetch;
    }
    case "node": {
      let undici: UndiciModule;
      try {
        undici = await import(UNDICI) as UndiciModule;
      } catch (cause) {
        throw new ProxyUnsupportedError(
          runtime,
          "Cannot use an HTTP proxy in Node: install the optional peer dependency undici",
          { cause },
        );
      }
      // undici reads user:password from the URL and sends Proxy-Authorization.
      const agent = new undici.ProxyAgent(url.href);
      // Bun resolves "undici" to a built-in stand-in whose fetch ignores the
      // dispatcher: requests would silently skip the proxy. Refuse instead.
      if (
        typeof (agent as { dispatch?: unknown }).dispatch !== "function" ||
        typeof agent.close !== "function"
      ) {
        throw new ProxyUnsupportedError(
          runtime,
          'Cannot use an HTTP proxy through this "undici": it is not the real package (in Bun, use runtime "bun")',
        );
      }
      const fetch = (async (input, init) => {
        const [target, rest] = await splitRequest(input, init);
        return undici.fetch(target, { ...rest, dispatcher: agent });
      }) as ProxiedFetch;
      fetch.close = () => agent.close();
      fetch.proxyFor = () => hostPort(url);
      return fetch;
    }
    default:
      throw new ProxyUnsupportedError(runtime);
  }
}
