/**
 * A `fetch` on `node:http`/`node:https`, for Node only.
 *
 * Node's `fetch` (undici) clones every request body and runs it through web
 * streams: per 250 KB POST to a loopback sink it costs 1.7-1.9 ms of CPU
 * against 0.42-0.44 ms for `node:http` (scripts/bench/http_client.ts, Node 20),
 * a quarter of the producer's end-to-end CPU. This adapter sends the body as
 * it is (no copy) on a keep-alive agent and answers with a web `Response`, so
 * the request path above it is unchanged:
 *
 * - redirects are never followed (a 3xx comes back as it is, like `redirect: "manual"`);
 * - `signal` aborts the request, before or after the headers, with its reason;
 * - a failure rejects like Node's `fetch`: `TypeError("fetch failed")` whose
 *   `cause` is the socket error with its `code` (`ECONNREFUSED`, …).
 *
 * {@link nodeHttpFetch} returns `undefined` outside Node (Deno, Bun and
 * Workers keep their own `fetch`) and when a proxy variable is set, since
 * `fetch` may honour those and `node:http` does not.
 * @module
 */
import { builtin } from "./builtin.ts";
import { getEnv } from "./env.ts";

type Fetch = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

interface NodeSocketError extends Error {
  code?: string;
}

interface IncomingMessage {
  statusCode?: number;
  statusMessage?: string;
  rawHeaders: string[];
  on(event: "data", fn: (chunk: Uint8Array) => void): IncomingMessage;
  on(event: "end" | "close", fn: () => void): IncomingMessage;
  on(event: "error", fn: (e: Error) => void): IncomingMessage;
  pause(): void;
  resume(): void;
  destroy(error?: Error): void;
  complete: boolean;
}

interface ClientRequest {
  writableFinished: boolean;
  on(event: "response", fn: (res: IncomingMessage) => void): ClientRequest;
  on(event: "error", fn: (e: NodeSocketError) => void): ClientRequest;
  end(body?: Uint8Array | string): void;
  destroy(error?: Error): void;
}

interface HttpModule {
  Agent: new (options: { keepAlive: boolean }) => unknown;
  request(
    url: URL,
    options: { method: string; headers: Record<string, string>; agent: unknown },
  ): ClientRequest;
}

const PROXY_VARS = [
  "http_proxy",
  "HTTP_PROXY",
  "https_proxy",
  "HTTPS_PROXY",
  "all_proxy",
  "ALL_PROXY",
  "NODE_USE_ENV_PROXY",
];

/**
 * Whether this is Node itself: Deno and Bun also answer to `process.versions.node`,
 * and so may Workers with `nodejs_compat`, whose `node:http` runs on `fetch` anyway.
 */
function isNode(): boolean {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string }; release?: { name?: string } };
    navigator?: { userAgent?: string };
  };
  return !g.Deno && !g.Bun && typeof g.process?.versions?.node === "string" &&
    g.process?.release?.name === "node" && g.navigator?.userAgent !== "Cloudflare-Workers";
}

/**
 * Returns a `fetch` on `node:http`, or `undefined` where it must not replace
 * the runtime's `fetch`: outside Node, without `node:http`, or with a proxy
 * variable set. `force` skips the runtime and proxy checks (benchmarks, tests).
 *
 * @example Choose the transport
 * ```ts
 * import { nodeHttpFetch } from "./node_http_fetch.ts";
 * const fetchFn = nodeHttpFetch() ?? globalThis.fetch;
 * if (typeof fetchFn !== "function") throw new Error("no fetch");
 * ```
 */
export function nodeHttpFetch(options: { force?: boolean } = {}): Fetch | undefined {
  if (!options.force && (!isNode() || PROXY_VARS.some((name) => getEnv(name) !== undefined))) {
    return undefined;
  }
  const http = builtin<HttpModule>("node:http");
  const https = builtin<HttpModule>("node:https");
  if (!http?.request || !https?.request) return undefined;
  const agents = {
    "http:": new http.Agent({ keepAlive: true }),
    "https:": new https.Agent({ keepAlive: true }),
  };
  return (input, init) => {
    const url = typeof input === "string"
      ? new URL(input)
      : input instanceof URL
      ? input
      : undefined;
    const body = init?.body;
    if (
      !url || (url.protocol !== "http:" && url.protocol !== "https:") ||
      (body != null && typeof body !== "string" && !(body instanceof Uint8Array)) ||
      (init?.redirect !== undefined && init.redirect !== "manual")
    ) {
      // Anything this adapter does not model goes to the runtime's own fetch.
      return globalThis.fetch(input, init);
    }
    return send(url.protocol === "https:" ? https : http, agents[url.protocol], url, init!, body);
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function headerRecord(init: RequestInit): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (out[name] = value));
  return out;
}

function send(
  module: HttpModule,
  agent: unknown,
  url: URL,
  init: RequestInit,
  body: Uint8Array | string | null | undefined,
): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<Response>((resolve, reject) => {
    const headers = headerRecord(init);
    if (body != null) {
      headers["content-length"] = String(
        typeof body === "string" ? new TextEncoder().encode(body).length : body.length,
      );
    }
    let settled = false;
    let bodyError: ((e: unknown) => void) | undefined;
    const req = module.request(url, { method: init.method ?? "GET", headers, agent });
    const onAbort = () => {
      const reason = abortReason(signal!);
      req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      if (!settled) {
        settled = true;
        reject(reason);
      } else bodyError?.(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);
    req.on("error", (e) => {
      done();
      if (settled) return bodyError?.(e);
      settled = true;
      reject(new TypeError("fetch failed", { cause: e }));
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const responseHeaders = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      }
      let controller: ReadableStreamDefaultController<Uint8Array>;
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        // Pull-paced: node pauses the socket while the reader is behind.
        pull: () => res.resume(),
        cancel: () => {
          done();
          res.destroy();
        },
      }, { highWaterMark: 0 });
      bodyError = (e) => {
        try {
          controller.error(e);
        } catch { /* already closed */ }
      };
      res.on("data", (chunk) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) res.pause();
      });
      res.on("end", () => {
        done();
        // Answered before the whole body went out (an early 4xx): send no more of it,
        // since the caller may reuse the body once the call ends.
        if (!req.writableFinished) req.destroy();
        try {
          controller.close();
        } catch { /* cancelled */ }
      });
      res.on("error", (e) => bodyError?.(new TypeError("terminated", { cause: e })));
      res.on("close", () => {
        if (!res.complete) bodyError?.(new TypeError("terminated"));
      });
      settled = true;
      // Statuses a Response cannot carry (1xx other than switching, > 599) are malformed answers.
      if (status < 200 || status > 599) {
        res.destroy();
        done();
        reject(new TypeError("fetch failed", { cause: new Error(`HTTP status ${status}`) }));
        return;
      }
      const nullBody = status === 204 || status === 205 || status === 304;
      resolve(
        new Response(nullBody ? null : stream, {
          status,
          statusText: res.statusMessage ?? "",
          headers: responseHeaders,
        }),
      );
      if (nullBody) res.resume();
    });
    req.end(body ?? undefined);
  });
}
