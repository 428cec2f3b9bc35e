/**
 * Loopback HTTP pieces shared by the test servers and proxies: read a body,
 * listen on an ephemeral port, forward a buffered request upstream.
 *
 * Test code: it uses `node:http` and runs under Deno, Bun and Node.
 * @module
 */
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { concatBytes } from "../../src/runtime/bytes.ts";

/** Reads a whole request (or upstream response) body. */
export async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  return concatBytes(chunks);
}

/** A server from {@link listenLoopback}. */
export interface Loopback {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** `http://127.0.0.1:<port>`, without the trailing slash. */
  origin: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts `handler` on an ephemeral loopback port. A handler whose promise
 * rejects gets a 500 with the error as its body.
 */
export async function listenLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<Loopback> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    server,
    port,
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends `body` to `upstream` with `req`'s method and path, the given headers
 * and a `content-length` for `body`. Resolves the upstream response unread;
 * rejects on a connection error.
 */
export function forward(
  upstream: URL,
  req: IncomingMessage,
  headers: OutgoingHttpHeaders,
  body: Uint8Array,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const out = request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...headers, "content-length": String(body.length) },
    }, resolve);
    out.on("error", reject);
    out.end(body);
  });
}
