/**
 * A loopback HTTP proxy that checks every request's SigV4 signature (with
 * `aws4`, see {@link verifySigV4}) before forwarding it to an upstream that
 * checks none (kinesis-mock, LocalStack). Bad signatures get a 403 with an AWS
 * JSON error; every request is recorded, minus its `authorization` header.
 *
 * Test code: `node:http`, runs under Deno, Bun and Node.
 * @module
 */
import { Buffer } from "node:buffer";
import type http from "node:http";
import { forward, listenLoopback, readBody } from "./http.ts";
import { type CredentialTable, verifySigV4 } from "./sigv4_verifier.ts";

/** Options for {@link startSigV4Proxy}. */
export interface SigV4ProxyOptions {
  /** Where verified requests go, for example `http://127.0.0.1:4568`. */
  upstream: string | URL;
  /** The credentials the proxy knows. */
  credentials: CredentialTable;
  /** Required signing region; any when unset. */
  region?: string;
  /** Required signing service. @default {"kinesis"} */
  service?: string;
  /** The proxy's clock (tests skew it). @default {() => new Date()} */
  now?: () => Date;
}

/** One request the proxy saw. */
export interface RecordedRequest {
  /** API action from `x-amz-target` (`PutRecord`), or `""`. */
  action: string;
  /** HTTP method. */
  method: string;
  /** Raw path and query. */
  path: string;
  /** Request headers without `authorization`. */
  headers: Record<string, string>;
  /** Body size in bytes. */
  bodyBytes: number;
  /** Whether the signature verified. */
  verified: boolean;
  /** The access key id the request claimed. */
  accessKeyId?: string;
  /** The rejection code, when rejected. */
  rejection?: string;
  /** Upstream status (or the proxy's 403/502). */
  status: number;
}

/** A running proxy. */
export interface SigV4Proxy {
  /** Base URL, for example `http://127.0.0.1:40123`. */
  url: string;
  /** Every request seen so far, in order. */
  requests: RecordedRequest[];
  /** Closes the server and its connections. */
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
]);

function forwardHeaders(h: http.IncomingHttpHeaders, host: string): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  out.host = host;
  return out;
}

/** Starts the proxy on an ephemeral loopback port. */
export async function startSigV4Proxy(options: SigV4ProxyOptions): Promise<SigV4Proxy> {
  const upstream = new URL(String(options.upstream));
  const service = options.service ?? "kinesis";
  const now = options.now ?? (() => new Date());
  const requests: RecordedRequest[] = [];

  const server = await listenLoopback(async (req, res) => {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k !== "authorization" && v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
    }
    const target = headers["x-amz-target"] ?? "";
    const record: RecordedRequest = {
      action: target.includes(".") ? target.slice(target.indexOf(".") + 1) : "",
      method: req.method ?? "",
      path: req.url ?? "/",
      headers,
      bodyBytes: body.length,
      verified: false,
      status: 0,
    };
    requests.push(record);
    const clock = now();
    const result = verifySigV4(
      { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body },
      options.credentials,
      { region: options.region, service, now: clock },
    );
    record.accessKeyId = result.accessKeyId;
    if (!result.ok) {
      record.rejection = result.code;
      record.status = 403;
      const payload = JSON.stringify({ __type: result.code, message: result.message });
      res.writeHead(403, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": crypto.randomUUID(),
        date: clock.toUTCString(),
        "content-length": Buffer.byteLength(payload),
      });
      res.end(payload);
      return;
    }
    record.verified = true;
    let up: http.IncomingMessage;
    try {
      up = await forward(upstream, req, forwardHeaders(req.headers, upstream.host), body);
    } catch (e) {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`upstream error: ${(e as Error).message}`);
      return;
    }
    record.status = up.statusCode ?? 502;
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) {
      if (!HOP_BY_HOP.has(k) && v !== undefined) outHeaders[k] = v;
    }
    res.writeHead(record.status, outHeaders);
    up.pipe(res);
  });
  return { url: server.origin, requests, stop: server.close };
}
