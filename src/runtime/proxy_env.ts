/**
 * Proxies from the standard environment variables, as curl and most HTTP
 * tools read them: `https_proxy` / `HTTPS_PROXY` for https targets,
 * `http_proxy` / `HTTP_PROXY` for http targets, and `no_proxy` / `NO_PROXY`
 * (comma-separated hosts, `.domain` suffixes, `host:port`, `*`) for targets
 * that go direct. The lower-case form wins when both are set. The instance
 * metadata and container-credential agents (link-local addresses) always go
 * direct: no proxy can reach them.
 *
 * The caller reads the environment and hands a reader in, so this file
 * touches no `process`.
 * @module
 */
import type { FetchLike } from "../aws/types.ts";
import { type ProxiedFetch, proxyFetch, type ProxyFetchOptions } from "./proxy.ts";

/** Proxy settings read from the environment. */
export interface ProxyEnv {
  /** Proxy for https targets, and the variable it came from. */
  https?: { url: string; from: string };
  /** Proxy for http targets, and the variable it came from. */
  http?: { url: string; from: string };
  /** `NO_PROXY` entries, lower case. */
  noProxy: string[];
}

function first(
  env: (name: string) => string | undefined,
  names: string[],
): { url: string; from: string } | undefined {
  for (const name of names) {
    const value = env(name)?.trim();
    if (value) return { url: value, from: name };
  }
  return undefined;
}

/**
 * Reads the proxy variables through `env`.
 *
 * @example
 * ```ts
 * import { readProxyEnv } from "./proxy_env.ts";
 * const vars: Record<string, string> = { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: ".internal" };
 * console.log(readProxyEnv((n) => vars[n]).https?.from); // HTTPS_PROXY
 * ```
 */
export function readProxyEnv(env: (name: string) => string | undefined): ProxyEnv {
  const noProxy = (env("no_proxy") ?? env("NO_PROXY") ?? "")
    .split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  return {
    https: first(env, ["https_proxy", "HTTPS_PROXY"]),
    http: first(env, ["http_proxy", "HTTP_PROXY"]),
    noProxy,
  };
}

// IMDS (IPv4/IPv6) and the ECS / EKS container agents.
const LINK_LOCAL = /^(169\.254\.\d{1,3}\.\d{1,3}|\[fd00:ec2::[0-9a-f]*\])$/i;

/** True when `target` must go direct: a link-local agent, or a `NO_PROXY` match. */
export function bypassesProxy(target: URL, noProxy: readonly string[]): boolean {
  const host = target.hostname.toLowerCase();
  if (LINK_LOCAL.test(host)) return true;
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  const bare = host.replace(/^\[|\]$/g, "");
  for (const raw of noProxy) {
    if (raw === "*") return true;
    let entry = raw;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.includes("]") && entry.split(":").length === 2) {
      if (m[2] !== port) continue;
      entry = m[1];
    }
    entry = entry.replace(/^\[|\]$/g, "").replace(/^\*?\./, ".");
    if (entry.startsWith(".")) {
      if (bare.endsWith(entry) || bare === entry.slice(1)) return true;
    } else if (bare === entry || bare.endsWith("." + entry)) return true;
  }
  return false;
}

/**
 * A `fetch` that routes each request by its target: through the https or
 * http proxy of `settings`, or direct. Returns `undefined` when neither proxy
 * is set. Throws like {@link proxyFetch} for a proxy URL that cannot be used
 * (the message hides its password).
 */
export async function envProxyFetch(
  settings: ProxyEnv,
  options: ProxyFetchOptions & { direct?: FetchLike } = {},
): Promise<ProxiedFetch | undefined> {
  if (!settings.https && !settings.http) return undefined;
  const https = settings.https ? await proxyFetch(settings.https.url, options) : undefined;
  const http = settings.http ? await proxyFetch(settings.http.url, options) : undefined;
  const direct: FetchLike = options.direct ?? ((input, init) => globalThis.fetch(input, init));
  const route = (target: URL) =>
    bypassesProxy(target, settings.noProxy)
      ? undefined
      : target.protocol === "https:"
      ? https
      : http;
  const fetch = ((input: Request | string | URL, init?: RequestInit) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    return (route(target) ?? direct)(input, init);
  }) as ProxiedFetch;
  fetch.proxyFor = (url) => route(new URL(url))?.proxyFor(url);
  fetch.close = async () => {
    await https?.close();
    await http?.close();
  };
  return fetch;
}
