/**
 * `--listen HOST:PORT`: an HTTP intake, so Fluent Bit's `http` output and
 * Fluentd's `out_http` can ship through this tool. A POST body of NDJSON (one
 * JSON record per line, shipped as its exact bytes) or a JSON array (each
 * element re-serialized with `JSON.stringify`) is shipped, and the answer
 * comes after delivery:
 * - 200 `{"records": n, "failed": 0}`;
 * - 503 with the counts when some records could not be delivered (worth a retry);
 * - 422 with the counts when every failure is a refused record (too large);
 * - 400 for a body that is not NDJSON of JSON or a JSON array, invalid UTF-8 or
 *   invalid gzip; 413 for a body over a limit ({@link IntakeLimits}); 415 for
 *   an unknown `Content-Encoding`; 401 without the bearer token; 405 for
 *   anything but POST (GET answers 200, as a health check); 503 `busy` when
 *   more requests wait for a slot than {@link WAITING_PER_SLOT} per slot. A
 *   refused body ships nothing.
 *
 * Memory: at most {@link IntakeOptions.maxPending} requests are read and held
 * at once (each up to the limits), until their records are handed to the
 * producer, whose buffer is bounded; the others wait with their bodies unread,
 * so TCP holds their senders back.
 *
 * Without a host (`:PORT`) it binds loopback. Any other address than loopback
 * needs a bearer token ({@link IntakeOptions.token}), compared in constant time.
 *
 * On stop it closes the listener, answers the requests whose bodies are
 * complete (after delivery), and drops the connections still sending after
 * {@link IntakeOptions.graceMs}.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { KinesisProducer } from "../producer/producer.ts";
import { EnvironmentError } from "./errors.ts";
import {
  DEFAULT_INTAKE_LIMITS,
  type IntakeLimits,
  IntakeRejection,
  readIntakeBody,
} from "./intake_body.ts";
import type { ShipIO } from "./main.ts";
import type { Shipper } from "./shipper.ts";
import type { Spool } from "../runtime/spool.ts";

/** Largest request body as received, by default (see {@link DEFAULT_INTAKE_LIMITS}). */
export const MAX_BODY_BYTES: number = DEFAULT_INTAKE_LIMITS.maxBodyBytes;

/** How long connections still sending may go on after a stop, by default (ms). */
export const DEFAULT_GRACE_MS = 5000;

/** Requests that may wait for a slot, per slot, before more are answered 503 `busy`. */
export const WAITING_PER_SLOT = 8;

/** Options for {@link serveIntake}. */
export interface IntakeOptions {
  /** Address to bind. */
  host: string;
  /** Port; 0 picks a free one (the address is printed on stderr). */
  port: number;
  /** Bearer token every request must carry; required for a non-loopback host. */
  token?: string;
  /** Per-request limits. @default {DEFAULT_INTAKE_LIMITS} */
  limits?: IntakeLimits;
  /** Grace for requests still sending their body at stop, in ms. @default {5000} */
  graceMs?: number;
  /** Requests read and held in memory at once; more wait unread. @default {4} */
  maxPending?: number;
  /** Where records go. */
  shipper: Shipper;
  /** The producer behind the shipper, to wait for delivery. */
  producer: KinesisProducer;
  /** Resolves when the run must stop. */
  stopped: Promise<unknown>;
  /** For the "listening on" line. */
  io: ShipIO;
  /** When given, each body's records are written here (one append) before they are put. */
  spool?: Spool;
  /** Answer 200 once the body is spooled, before delivery (needs `spool`). */
  ackOnSpool?: boolean;
}

interface RequestState {
  records: number;
  failed: number;
  refused: number;
}

const encoder = new TextEncoder();

/** True for an address that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Compares the `Authorization` header with the token in constant time (both hashed first). */
function authorized(header: string | undefined, expected: Uint8Array): boolean {
  const m = /^Bearer[ \t]+(.+)$/i.exec(header ?? "");
  return timingSafeEqual(digest(m ? m[1].trim() : ""), expected) && m !== null;
}

/**
 * Serves until `stopped` resolves, then stops accepting, answers the requests
 * whose bodies are complete (they flush their records), drops those still
 * sending after the grace period, and resolves. Throws an
 * {@link EnvironmentError} when the address cannot be bound.
 */
export async function serveIntake(options: IntakeOptions): Promise<void> {
  const { shipper, producer, io } = options;
  const limits = options.limits ?? DEFAULT_INTAKE_LIMITS;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (options.token === undefined && !isLoopback(options.host)) {
    throw new EnvironmentError(
      `Cannot listen on ${options.host} without a bearer token: give --listen-token-file FILE or set SHIP_LISTEN_TOKEN`,
    );
  }
  const expected = options.token === undefined ? undefined : digest(options.token);
  // Which request a record came from, to count its failures.
  const owners = new WeakMap<Uint8Array, RequestState>();
  shipper.onDeadLetter = (data) => {
    const state = owners.get(data);
    if (state) state.failed++;
  };
  const slots = new Slots(options.maxPending ?? 4);
  const active = new Set<Promise<void>>();
  // Requests whose body is still arriving: dropped after the grace period of a stop.
  const receiving = new Set<IncomingMessage>();
  let stopping = false;

  const server = createServer((req, res) => {
    const done = handle(req, res).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        reply(res, 500, { error: String((error as Error)?.message ?? error) });
      } else res.destroy();
    });
    active.add(done);
    done.finally(() => active.delete(done));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (expected && !authorized(req.headers.authorization, expected)) {
      req.resume();
      res.setHeader("www-authenticate", "Bearer");
      return reply(res, 401, { error: "missing or wrong bearer token" });
    }
    if (req.method === "GET" || req.method === "HEAD") return reply(res, 200, { ok: true });
    if (req.method !== "POST") return reply(res, 405, { error: "use POST" });
    if (stopping) return reply(res, 503, { error: "shutting down", records: 0, failed: 0 });
    const length = Number(req.headers["content-length"] ?? NaN);
    if (length > limits.maxBodyBytes) {
      req.resume();
      return reply(res, 413, {
        error: `body over ${limits.maxBodyBytes} bytes`,
        records: 0,
        failed: 0,
      });
    }
    const slot = slots.take();
    if (!slot) {
      req.resume();
      res.setHeader("retry-after", "1");
      return reply(res, 503, { error: "busy: too many requests waiting", records: 0, failed: 0 });
    }
    let held = true;
    // Given back once the records are with the producer (its buffer is bounded), not after delivery.
    const release = () => {
      if (held) slots.release();
      held = false;
    };
    try {
      await slot;
      // A request that waited through the start of a stop ships nothing.
      if (stopping) {
        req.resume();
        return reply(res, 503, { error: "shutting down", records: 0, failed: 0 });
      }
      await receive(req, res, release);
    } finally {
      release();
    }
  }

  // Reads, decodes and puts one body, inside a slot; answers after delivery (or spooling).
  async function receive(
    req: IncomingMessage,
    res: ServerResponse,
    release: () => void,
  ): Promise<void> {
    const encoding = String(req.headers["content-encoding"] ?? "identity").toLowerCase();
    let records: Uint8Array[];
    receiving.add(req);
    try {
      const body = await readIntakeBody(
        req as AsyncIterable<Uint8Array>,
        encoding,
        limits,
      );
      shipper.counts.bytesRead += body.received;
      shipper.counts.recordsRead += body.records.length + body.empty;
      shipper.counts.emptySkipped += body.empty;
      records = body.records;
    } catch (error) {
      if (!(error instanceof IntakeRejection)) throw error;
      req.resume();
      return reply(res, error.status, { error: error.message, records: 0, failed: 0 });
    } finally {
      receiving.delete(req);
    }
    const state: RequestState = { records: 0, failed: 0, refused: 0 };
    // Spooled before it is accepted; waits while the spool is full.
    const settles = options.spool ? await options.spool.append(records) : undefined;
    if (settles && options.ackOnSpool) {
      // On disk is durable: answer now; delivery failures go to the dead-letter file.
      reply(res, 200, { records: records.length, failed: 0, spooled: true });
      for (let i = 0; i < records.length; i++) await shipper.put(records[i], settles[i]);
      return;
    }
    for (let i = 0; i < records.length; i++) {
      const data = records[i];
      state.records++;
      owners.set(data, state);
      // Refused at once (too large): permanent, unlike a delivery failure.
      if (!await shipper.put(data, settles?.[i])) state.refused++;
    }
    release();
    await producer.flush();
    const counts = { records: state.records, failed: state.failed };
    if (state.failed === 0) return reply(res, 200, counts);
    return reply(res, state.failed === state.refused ? 422 : 503, counts);
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
  stopping = true;
  server.close();
  server.closeIdleConnections?.();
  const all = () => Promise.all([...active]).then(() => true);
  const graceOver = new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs));
  if (!await Promise.race([all(), graceOver])) {
    // Still sending after the grace: dropped (nothing of theirs was shipped).
    const delivering = active.size - receiving.size;
    for (const req of receiving) req.socket.destroy();
    if (delivering > 0) {
      io.stderr(`waiting for delivery of the records of ${delivering} accepted requests\n`);
    }
  }
  await Promise.all([...active]);
  server.closeAllConnections?.();
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": encoder.encode(text).length,
  });
  res.end(text);
}

/**
 * Requests read and held at once: `take` gives a promise of a slot (at once,
 * or when one is released), or `undefined` when the line is full.
 */
class Slots {
  #free: number;
  readonly #line: (() => void)[] = [];
  readonly #maxWaiting: number;

  constructor(slots: number) {
    this.#free = slots;
    this.#maxWaiting = slots * WAITING_PER_SLOT;
  }

  take(): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    if (this.#line.length >= this.#maxWaiting) return undefined;
    return new Promise((resolve) => this.#line.push(resolve));
  }

  release(): void {
    const next = this.#line.shift();
    if (next) next();
    else this.#free++;
  }
}
