/**
 * A loopback proxy that injects faults between the client and Kinesis:
 * connection resets, 500/503, throttling answers, latency, and hung requests.
 *
 * It counts the ambiguous outcomes: requests it forwarded (so the emulator may
 * have stored them) whose answer it then withheld. Only those may duplicate.
 * @module
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { forward, listenLoopback, readBody } from "./http.ts";

/** What to do with one request. */
export type Fault =
  | "pass"
  | "reset" // drop the connection before forwarding
  | "500"
  | "503"
  | "throttle" // a ProvisionedThroughputExceededException answer
  | "latency" // forward after a delay
  | "hang" // never forward, never answer: the client's timeout fires
  | "hang-after" // forward, then never answer: ambiguous
  | "reset-after"; // forward, then drop the connection: ambiguous

/** A running fault proxy. */
export interface FaultProxy {
  /** Base URL. */
  url: string;
  /** Requests per fault. */
  counts: Record<Fault, number>;
  /** Forwarded requests whose answer was withheld. */
  ambiguous: number;
  /** Stops the proxy and drops hung connections. */
  stop(): Promise<void>;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where passing requests go. */
  upstream: string;
  /** Picks the fault for each request (by arrival index and action). */
  fault: (index: number, action: string) => Fault;
  /** Delay for `latency`, in ms. @default {200} */
  latencyMs?: number;
}

/** Forwards the request and reads the whole answer. */
async function pass(upstream: URL, req: IncomingMessage, body: Uint8Array) {
  // The Host header stays as the client signed it: the next hop verifies SigV4.
  const up = await forward(upstream, req, req.headers, body);
  return { status: up.statusCode ?? 502, headers: up.headers, body: await readBody(up) };
}

function answer(res: ServerResponse, status: number, type: string, message: string): void {
  const payload = JSON.stringify({ __type: type, message });
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-requestid": crypto.randomUUID(),
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** Starts a fault-injecting proxy in front of `upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const latencyMs = options.latencyMs ?? 200;
  const counts = Object.fromEntries(
    ["pass", "reset", "500", "503", "throttle", "latency", "hang", "hang-after", "reset-after"].map(
      (f) => [f, 0],
    ),
  ) as Record<Fault, number>;
  const state = { index: 0, ambiguous: 0 };
  const hung = new Set<ServerResponse>();

  const relay = async (req: IncomingMessage, res: ServerResponse, body: Uint8Array) => {
    const up = await pass(upstream, req, body);
    res.writeHead(up.status, { ...up.headers, "content-length": String(up.body.length) });
    res.end(up.body);
  };

  const server = await listenLoopback(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const action = target.slice(target.indexOf(".") + 1);
    const fault = options.fault(state.index++, action);
    counts[fault]++;
    switch (fault) {
      case "pass":
        return relay(req, res, body);
      case "latency":
        await new Promise((r) => setTimeout(r, latencyMs));
        return relay(req, res, body);
      case "reset":
        return req.socket.destroy();
      case "500":
        return answer(res, 500, "InternalFailure", "injected fault");
      case "503":
        return answer(res, 503, "ServiceUnavailable", "injected fault");
      case "throttle":
        return answer(
          res,
          400,
          "ProvisionedThroughputExceededException",
          "Rate exceeded for shard (injected)",
        );
      case "hang":
        hung.add(res);
        return;
      case "hang-after":
        await pass(upstream, req, body);
        state.ambiguous++;
        hung.add(res);
        return;
      case "reset-after":
        await pass(upstream, req, body);
        state.ambiguous++;
        return req.socket.destroy();
    }
  });
  return {
    url: server.url,
    counts,
    get ambiguous() {
      return state.ambiguous;
    },
    stop: async () => {
      for (const res of hung) res.socket?.destroy();
      await server.close();
    },
  };
}
