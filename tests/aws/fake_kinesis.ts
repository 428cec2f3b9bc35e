/**
 * A scripted loopback Kinesis for client tests (node:http): each request goes
 * to a handler that returns status, headers and body, or hangs.
 */
import type http from "node:http";
import { decodeCbor } from "../../src/aws/cbor.ts";
import { listenLoopback, readBody } from "../support/http.ts";

/** A request the fake saw. */
export interface FakeRequest {
  action: string;
  headers: http.IncomingHttpHeaders;
  path: string;
  method: string;
  body: Uint8Array;
  /** The body decoded as JSON or CBOR by its content type. */
  params: Record<string, unknown>;
}

/** What the handler answers; `hang: true` never answers. */
export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  hang?: boolean;
}

/** A running fake. */
export interface Fake {
  url: string;
  requests: FakeRequest[];
  stop(): Promise<void>;
}

/** JSON response helper. */
export function json(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): FakeResponse {
  return {
    status,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-requestid": `req-${status}`,
      ...headers,
    },
    body: JSON.stringify(value),
  };
}

/** Starts a fake whose answers come from `handler`. */
export async function startFake(
  handler: (req: FakeRequest, index: number) => FakeResponse | Promise<FakeResponse>,
): Promise<Fake> {
  const requests: FakeRequest[] = [];
  const server = await listenLoopback(async (req, res) => {
    const body = await readBody(req);
    const ct = String(req.headers["content-type"] ?? "");
    let params: Record<string, unknown> = {};
    try {
      params = (ct.includes("cbor")
        ? decodeCbor(body)
        : JSON.parse(new TextDecoder().decode(body))) as Record<string, unknown>;
    } catch { /* keep {} */ }
    const target = String(req.headers["x-amz-target"] ?? "");
    const fr: FakeRequest = {
      action: target.slice(target.indexOf(".") + 1),
      headers: req.headers,
      path: req.url ?? "/",
      method: req.method ?? "",
      body,
      params,
    };
    requests.push(fr);
    const out = await handler(fr, requests.length - 1);
    if (out.hang) return;
    res.writeHead(out.status ?? 200, out.headers ?? {});
    res.end(out.body ?? "");
  });
  return { url: server.origin, requests, stop: server.close };
}
