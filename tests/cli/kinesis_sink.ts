/**
 * A loopback stand-in for Kinesis PutRecord and PutRecords that answers at once: for CLI
 * tests (scripted failures, records decoded and kept) and for the memory
 * benchmark (nothing kept, so it never becomes the bottleneck or the bound).
 * kinesis-mock is far too slow for either (about 14 PutRecord/s).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { decodeBase64 } from "../../src/aws/base64.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";

/** A scripted answer for one call (a PutRecords fault fails the whole call). */
export interface SinkFault {
  /** HTTP status. */
  status: number;
  /** AWS error code, e.g. `ProvisionedThroughputExceededException`. */
  type: string;
}

/** Options for {@link startSink}. */
export interface SinkOptions {
  /**
   * Keep every user record (deaggregated) in `records`.
   * @default {true}
   */
  keep?: boolean;
  /** Decides the answer for call number `n` (0-based); `undefined` means success. */
  fault?: (n: number) => SinkFault | undefined;
  /** Delay before each answer, in ms. @default {0} */
  delayMs?: number;
}

/** A running sink. */
export interface Sink {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** User records received in successful calls (when `keep`). */
  records: Uint8Array[];
  /** PutRecord and PutRecords calls, failed ones included. */
  calls: number;
  /** PutRecords calls among them. */
  putRecordsCalls: number;
  /** Request body bytes received. */
  bytes: number;
  /** Stops listening. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let total = 0;
    req.on("data", (c: Uint8Array) => {
      parts.push(c);
      total += c.length;
    });
    req.on("end", () => {
      const out = new Uint8Array(total);
      let pos = 0;
      for (const p of parts) {
        out.set(p, pos);
        pos += p.length;
      }
      resolve(out);
    });
    req.on("error", reject);
  });
}

/** Starts a sink on a free loopback port. */
export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const { keep = true, fault, delayMs = 0 } = options;
  const decoder = new TextDecoder();
  const sink: Sink = {
    endpoint: "",
    records: [],
    calls: 0,
    putRecordsCalls: 0,
    bytes: 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  let sequence = 0;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    sink.bytes += body.length;
    const target = String(req.headers["x-amz-target"] ?? "");
    const reply = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(text);
    };
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const batch = target.endsWith(".PutRecords");
    if (!batch && !target.endsWith(".PutRecord")) {
      return reply(400, { __type: "UnknownOperationException" });
    }
    const n = sink.calls++;
    if (batch) sink.putRecordsCalls++;
    const f = fault?.(n);
    if (f) return reply(f.status, { __type: f.type, message: "scripted fault" });
    type Wire = { Data: string; PartitionKey: string };
    const input = JSON.parse(decoder.decode(body)) as Wire & { Records?: Wire[] };
    const entries = batch ? input.Records ?? [] : [input];
    if (keep) {
      for (const e of entries) {
        for (const r of deaggregate(decodeBase64(e.Data), e.PartitionKey)) {
          sink.records.push(r.data.slice());
        }
      }
    }
    const stored = () => ({ ShardId: "shardId-000000000000", SequenceNumber: String(++sequence) });
    if (!batch) return reply(200, stored());
    reply(200, { FailedRecordCount: 0, Records: entries.map(stored) });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  sink.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return sink;
}
