/**
 * A loopback HTTP forward proxy for tests: absolute-URI requests
 * (`GET http://host/path`) are forwarded with `node:http`, `CONNECT host:port`
 * is tunnelled with `node:net`. It records what went through it and can
 * require `Proxy-Authorization: Basic …`.
 *
 * Test code: it uses `node:` modules and runs under Deno, Bun and Node.
 * @module
 */
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { listenLoopback } from "./http.ts";

/** One request the proxy handled. */
export interface ProxiedRecord {
  /** `"forward"` for an absolute-URI request, `"connect"` for a tunnel. */
  kind: "forward" | "connect";
  /** The absolute URI, or `host:port` for CONNECT. */
  target: string;
  /** The method (`CONNECT` for tunnels). */
  method: string;
  /** The `Proxy-Authorization` header, if any. */
  proxyAuthorization?: string;
}

/** A running proxy. */
export interface ForwardProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What went through, in order. */
  records: ProxiedRecord[];
  /** Stops the proxy and drops open tunnels. */
  close(): Promise<void>;
}

/** Options for {@link startForwardProxy}. */
export interface ForwardProxyOptions {
  /** Required `user:password`; requests without it get 407. @default {undefined} */
  auth?: string;
}

/** Starts a forward proxy on an ephemeral loopback port. */
export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const records: ProxiedRecord[] = [];
  const sockets = new Set<Socket>();
  const expected = options.auth ? `Basic ${btoa(options.auth)}` : undefined;
  const loop = await listenLoopback((req, res) => {
    const proxyAuthorization = req.headers["proxy-authorization"] as string | undefined;
    records.push({
      kind: "forward",
      target: req.url ?? "",
      method: req.method ?? "",
      proxyAuthorization,
    });
    if (expected && proxyAuthorization !== expected) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="test"' });
      return res.end();
    }
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400);
      return res.end("absolute URI required");
    }
    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      "x-forwarded-by": "test-proxy",
    };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  loop.server.on("connect", (req, client: Socket, head: Uint8Array) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    const proxyAuthorization = req.headers["proxy-authorization"] as string | undefined;
    records.push({ kind: "connect", target: req.url ?? "", method: "CONNECT", proxyAuthorization });
    if (expected && proxyAuthorization !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.byteLength) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  return {
    url: loop.origin,
    records,
    close: () => {
      for (const s of sockets) s.destroy();
      return loop.close();
    },
  };
}
