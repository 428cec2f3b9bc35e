/**
 * `--listen HOST:PORT`: an HTTP intake, so Fluent Bit's `http` output and
 * Fluentd's `out_http` can ship through this tool. A POST body of NDJSON (one
 * record per line, exact bytes) or a JSON array (each element re-serialized
 * with `JSON.stringify`) is shipped, and the answer comes after delivery:
 * - 200 `{"records": n, "failed": 0}`;
 * - 503 with the counts when some records could not be delivered (worth a retry);
 * - 422 with the counts when every failure is a refused record (too large);
 * - 400 for a body that is not JSON, 413 for a body over {@link MAX_BODY_BYTES},
 *   405 for anything but POST (GET answers 200, as a health check).
 * Failed records also go to the dead-letter file. `Content-Encoding: gzip` is
 * accepted (Fluent Bit's `compress gzip`).
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { KinesisProducer } from "../producer/producer.ts";
import { concatBytes } from "../runtime/bytes.ts";
import { EnvironmentError } from "./errors.ts";
import { LineSplitter } from "./lines.ts";
import type { ShipIO } from "./main.ts";
import type { Shipper } from "./shipper.ts";

/** Largest request body (after gzip): bounds memory per request; Fluent Bit chunks are ~2 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Options for {@link serveIntake}. */
export interface IntakeOptions {
  /** Address to bind. */
  host: string;
  /** Port; 0 picks a free one (the address is printed on stderr). */
  port: number;
  /** Where records go. */
  shipper: Shipper;
  /** The producer behind the shipper, to wait for delivery. */
  producer: KinesisProducer;
  /** Resolves when the run must stop. */
  stopped: Promise<unknown>;
  /** For the "listening on" line. */
  io: ShipIO;
}

interface RequestState {
  records: number;
  failed: number;
  refused: number;
}

class BodyTooLarge extends Error {}

const encoder = new TextEncoder();

/**
 * Serves until `stopped` resolves, then stops accepting, lets open requests
 * finish (they flush their records), and resolves. Throws an
 * {@link EnvironmentError} when the address cannot be bound.
 */
export async function serveIntake(options: IntakeOptions): Promise<void> {
  const { shipper, producer, io } = options;
  // Which request a record came from, to count its failures.
  const owners = new WeakMap<Uint8Array, RequestState>();
  shipper.onDeadLetter = (data) => {
    const state = owners.get(data);
    if (state) state.failed++;
  };
  const active = new Set<Promise<void>>();

  const server = createServer((req, res) => {
    const done = handle(req, res).catch((error) => {
      if (!res.headersSent) reply(res, 500, { error: String((error as Error)?.message ?? error) });
      else res.destroy();
    });
    active.add(done);
    done.finally(() => active.delete(done));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "GET" || req.method === "HEAD") return reply(res, 200, { ok: true });
    if (req.method !== "POST") return reply(res, 405, { error: "use POST" });
    const length = Number(req.headers["content-length"] ?? NaN);
    if (length > MAX_BODY_BYTES) {
      req.resume();
      return reply(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes`, records: 0, failed: 0 });
    }
    const encoding = String(req.headers["content-encoding"] ?? "identity").toLowerCase();
    let body: Readable = req;
    if (encoding === "gzip") body = req.pipe(createGunzip());
    else if (encoding !== "identity") {
      req.resume();
      return reply(res, 415, { error: `unsupported content-encoding ${encoding}` });
    }
    const state: RequestState = { records: 0, failed: 0, refused: 0 };
    const put = async (data: Uint8Array) => {
      state.records++;
      owners.set(data, state);
      // Refused at once (too large): permanent, unlike a delivery failure.
      if (!await shipper.put(data)) state.refused++;
    };
    let tooLarge = false;
    try {
      await readBody(body, put);
    } catch (error) {
      if (error instanceof BodyTooLarge) tooLarge = true;
      else if (error instanceof SyntaxError) {
        return reply(res, 400, {
          error: `body is neither NDJSON nor a JSON array: ${error.message}`,
        });
      } else throw error;
    }
    await producer.flush();
    const counts = { records: state.records, failed: state.failed };
    if (tooLarge) {
      return reply(res, 413, {
        ...counts,
        error: `body over ${MAX_BODY_BYTES} bytes: the first ${state.records} records were shipped`,
      });
    }
    if (state.failed === 0) return reply(res, 200, counts);
    return reply(res, state.failed === state.refused ? 422 : 503, counts);
  }

  /** Streams NDJSON line by line; a body starting with `[` is parsed as a JSON array. */
  async function readBody(
    body: Readable,
    put: (data: Uint8Array) => Promise<void>,
  ): Promise<void> {
    const splitter = new LineSplitter({ maxLineBytes: MAX_BODY_BYTES });
    let kind: "ndjson" | "array" | undefined;
    const held: Uint8Array[] = [];
    let total = 0;
    for await (const raw of body as AsyncIterable<Uint8Array>) {
      const chunk = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      total += chunk.length;
      shipper.counts.bytesRead += chunk.length;
      if (total > MAX_BODY_BYTES) throw new BodyTooLarge();
      if (kind === undefined) {
        const i = chunk.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
        if (i >= 0) kind = chunk[i] === 0x5b ? "array" : "ndjson";
      }
      if (kind === "array") {
        held.push(chunk);
        continue;
      }
      for (const e of splitter.feed(chunk)) {
        if (e.type === "line" && shipper.countLine(e.bytes)) await put(e.bytes);
      }
    }
    if (kind === "array") {
      const text = new TextDecoder().decode(concatBytes(held, total));
      const value = JSON.parse(text);
      if (!Array.isArray(value)) throw new SyntaxError("not an array");
      for (const element of value) {
        shipper.counts.recordsRead++;
        await put(encoder.encode(JSON.stringify(element)));
      }
      return;
    }
    for (const e of splitter.end()) {
      if (e.type === "line" && shipper.countLine(e.bytes)) await put(e.bytes);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        new EnvironmentError(
          `Cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`,
        ),
      ));
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  io.stderr(`listening on http://${host}:${address.port}\n`);

  await options.stopped;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    // Open keep-alive sockets must not hold the shutdown forever.
    setTimeout(resolve, 5000).unref?.();
  });
  await Promise.all([...active]);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": encoder.encode(text).length,
  });
  res.end(text);
}
