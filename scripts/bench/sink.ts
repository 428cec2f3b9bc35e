/**
 * A loopback Kinesis PutRecord/PutRecords sink for the end-to-end benchmark.
 * It answers at once and checks the request shape: SigV4 header form, target,
 * content type, body fields (JSON or CBOR), base64, and for KPL aggregates the
 * protobuf framing, whose user records it counts. `--deep` also checks each
 * aggregate's MD5 (the smoke run uses it; a full run skips it to stay cheap).
 *
 * Run it in its own process, so its CPU is never charged to the client:
 * `deno run -A scripts/bench/sink.ts [--port 0] [--deep] [--shards N]`. It prints
 * `BENCH_SINK http://127.0.0.1:<port>` and serves until stdin closes.
 *
 * Control: `GET /__stats` returns the counters as JSON; `POST /__reset` zeroes them.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { decodeCbor, encodeCbor } from "../../src/aws/cbor.ts";
import { parseArgs } from "./common.ts";

/** What the sink has seen since the last reset. */
export interface SinkStats {
  requests: number;
  putRecordCalls: number;
  putRecordsCalls: number;
  /** Kinesis records received (one per PutRecord, one per PutRecords entry). */
  kinesisRecords: number;
  /** Of those, KPL aggregates. */
  aggregates: number;
  /** User records: inner records of aggregates, plus plain records. */
  userRecords: number;
  /** Bytes of `Data` after base64 decoding (what Kinesis stores). */
  dataBytes: number;
  /** Request bytes on the wire: bodies. */
  bodyBytes: number;
  /** Request bytes on the wire: request line and headers. */
  headerBytes: number;
  /** Requests refused as malformed. */
  errors: number;
  /** The first few error messages. */
  errorSamples: string[];
}

function emptyStats(): SinkStats {
  return {
    requests: 0,
    putRecordCalls: 0,
    putRecordsCalls: 0,
    kinesisRecords: 0,
    aggregates: 0,
    userRecords: 0,
    dataBytes: 0,
    bodyBytes: 0,
    headerBytes: 0,
    errors: 0,
    errorSamples: [],
  };
}

class ShapeError extends Error {}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/kinesis\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_RECORD_BYTES = 1_048_576;

function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end) throw new ShapeError("truncated varint in aggregate");
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
    if (shift > 49) throw new ShapeError("varint too long in aggregate");
  }
}

/** Number of user records in `data`: inner records for a KPL aggregate, else 1. */
function countUserRecords(data: Uint8Array, deep: boolean): { users: number; aggregated: boolean } {
  if (
    data.length <= 20 || data[0] !== 0xf3 || data[1] !== 0x89 || data[2] !== 0x9a ||
    data[3] !== 0xc2
  ) {
    return { users: 1, aggregated: false };
  }
  const end = data.length - 16;
  if (deep) {
    const digest = createHash("md5").update(data.subarray(4, end)).digest();
    for (let i = 0; i < 16; i++) {
      if (digest[i] !== data[end + i]) throw new ShapeError("aggregate MD5 does not match");
    }
  }
  let pos = 4;
  let records = 0;
  let keys = 0;
  while (pos < end) {
    let key: number;
    [key, pos] = readVarint(data, pos, end);
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      [, pos] = readVarint(data, pos, end);
      continue;
    }
    if (wire !== 2) throw new ShapeError(`unexpected wire type ${wire} in aggregate`);
    let len: number;
    [len, pos] = readVarint(data, pos, end);
    if (pos + len > end) throw new ShapeError("field overruns the aggregate");
    if (field === 1) keys++;
    if (field === 3) {
      // Record: partition_key_index (field 1) must be present, and data (field 3).
      if (data[pos] !== 0x08) throw new ShapeError("inner record lacks partition_key_index first");
      records++;
    }
    pos += len;
  }
  if (pos !== end) throw new ShapeError("aggregate framing does not end at the digest");
  if (keys === 0) throw new ShapeError("aggregate has an empty partition key table");
  if (records === 0) throw new ShapeError("aggregate holds no records");
  return { users: records, aggregated: true };
}

function checkKey(value: unknown): void {
  if (typeof value !== "string" || value.length < 1 || value.length > 256) {
    throw new ShapeError("PartitionKey must be a string of 1-256 characters");
  }
}

function checkData(value: unknown, cbor: boolean): Uint8Array {
  let data: Uint8Array;
  if (cbor) {
    if (!(value instanceof Uint8Array)) throw new ShapeError("Data must be a CBOR byte string");
    data = value;
  } else {
    if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) {
      throw new ShapeError("Data must be padded base64");
    }
    data = Buffer.from(value, "base64");
  }
  return data;
}

/**
 * `n` shards splitting the hash key space evenly (the layout the collection
 * benchmark passes as its map), named as ListShards names them.
 */
export function evenShardRanges(
  n: number,
): { shardId: string; startingHashKey: string; endingHashKey: string }[] {
  const span = (1n << 128n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, "0")}`,
    startingHashKey: String(span * BigInt(i)),
    endingHashKey: String(i === n - 1 ? (1n << 128n) - 1n : span * BigInt(i + 1) - 1n),
  }));
}

/** Which of `n` even shards a record lands on, as Kinesis places it (explicit hash key, else MD5 of the key). */
function shardOf(n: number, partitionKey: string, explicitHashKey: unknown): number {
  const hash = typeof explicitHashKey === "string"
    ? BigInt(explicitHashKey)
    : BigInt(`0x${createHash("md5").update(partitionKey).digest("hex")}`);
  const index = Number(hash / ((1n << 128n) / BigInt(n)));
  return Math.min(index, n - 1);
}

/** Starts the sink; resolves with its URL and a stop function. */
export async function startBenchSink(
  options: {
    port?: number;
    deep?: boolean;
    /**
     * With a count, the sink is a stream of that many even shards: answers name
     * the shard each record lands on, and ListShards lists them. Without,
     * every answer names shard 0.
     */
    shards?: number;
  } = {},
): Promise<{
  url: string;
  stats(): SinkStats;
  reset(): void;
  stop(): Promise<void>;
}> {
  const deep = options.deep ?? false;
  let stats = emptyStats();
  const putRecordsJson = new Map<number, string | Uint8Array>();
  const putRecordsCbor = new Map<number, string | Uint8Array>();
  const OK_RECORD = {
    ShardId: "shardId-000000000000",
    SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
  };
  const okRecordJson = JSON.stringify(OK_RECORD);
  const shards = options.shards;
  const placedRecord = (index: number) => ({
    ShardId: `shardId-${String(index).padStart(12, "0")}`,
    SequenceNumber: OK_RECORD.SequenceNumber,
  });
  const okRecordCbor = encodeCbor(OK_RECORD);

  const fail = (res: http.ServerResponse, cbor: boolean, message: string) => {
    stats.errors++;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(message);
    const body = { __type: "ValidationException", message };
    res.writeHead(400, {
      "content-type": cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1",
    });
    res.end(cbor ? encodeCbor(body) : JSON.stringify(body));
  };

  const count = (data: Uint8Array) => {
    if (data.length > MAX_RECORD_BYTES) {
      throw new ShapeError(`Data of ${data.length} bytes exceeds 1 MiB`);
    }
    const { users, aggregated } = countUserRecords(data, deep);
    stats.kinesisRecords++;
    stats.userRecords += users;
    stats.dataBytes += data.length;
    if (aggregated) stats.aggregates++;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/__stats") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(stats));
        return;
      }
      if (req.url === "/__reset") {
        stats = emptyStats();
        res.writeHead(204);
        res.end();
        return;
      }
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const contentType = String(req.headers["content-type"] ?? "");
      const cbor = contentType === "application/x-amz-cbor-1.1";
      stats.requests++;
      stats.bodyBytes += body.length;
      // Request line + raw headers as sent (name: value\r\n) + blank line.
      let headerBytes = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length + 2;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headerBytes += req.rawHeaders[i].length + 2 + Buffer.byteLength(req.rawHeaders[i + 1]) + 2;
      }
      stats.headerBytes += headerBytes;
      try {
        if (req.method !== "POST" || req.url !== "/") {
          throw new ShapeError(`unexpected ${req.method} ${req.url}`);
        }
        if (!cbor && contentType !== "application/x-amz-json-1.1") {
          throw new ShapeError(`unexpected content-type ${contentType}`);
        }
        if (!AUTH.test(String(req.headers.authorization ?? ""))) {
          throw new ShapeError("malformed Authorization header");
        }
        if (!/^\d{8}T\d{6}Z$/.test(String(req.headers["x-amz-date"] ?? ""))) {
          throw new ShapeError("missing X-Amz-Date");
        }
        const target = String(req.headers["x-amz-target"] ?? "");
        const params = (cbor ? decodeCbor(body) : JSON.parse(body.toString("utf8"))) as Record<
          string,
          unknown
        >;
        if (typeof params.StreamName !== "string" && typeof params.StreamARN !== "string") {
          throw new ShapeError("StreamName or StreamARN is required");
        }
        if (target === "Kinesis_20131202.PutRecord") {
          checkKey(params.PartitionKey);
          count(checkData(params.Data, cbor));
          stats.putRecordCalls++;
          res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "bench" });
          if (shards) {
            const placed = placedRecord(
              shardOf(shards, params.PartitionKey as string, params.ExplicitHashKey),
            );
            res.end(cbor ? encodeCbor(placed) : JSON.stringify(placed));
            return;
          }
          res.end(cbor ? okRecordCbor : okRecordJson);
          return;
        }
        if (target === "Kinesis_20131202.PutRecords") {
          const records = params.Records;
          if (!Array.isArray(records) || records.length < 1 || records.length > 500) {
            throw new ShapeError("Records must hold 1-500 entries");
          }
          for (const r of records as Record<string, unknown>[]) {
            checkKey(r.PartitionKey);
            count(checkData(r.Data, cbor));
          }
          stats.putRecordsCalls++;
          if (shards) {
            const placed = {
              FailedRecordCount: 0,
              Records: (records as Record<string, unknown>[]).map((r) =>
                placedRecord(shardOf(shards, r.PartitionKey as string, r.ExplicitHashKey))
              ),
            };
            res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "bench" });
            res.end(cbor ? encodeCbor(placed) : JSON.stringify(placed));
            return;
          }
          const cache = cbor ? putRecordsCbor : putRecordsJson;
          let answer = cache.get(records.length);
          if (!answer) {
            answer = cbor
              ? encodeCbor({
                FailedRecordCount: 0,
                Records: Array.from({ length: records.length }, () => OK_RECORD),
              })
              : `{"FailedRecordCount":0,"Records":[${
                Array(records.length).fill(okRecordJson).join(",")
              }]}`;
            cache.set(records.length, answer);
          }
          res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "bench" });
          res.end(answer);
          return;
        }
        if (target === "Kinesis_20131202.DescribeStreamSummary") {
          // The producer asks once (aggregation "auto"): a plain provisioned stream.
          const summary = {
            StreamDescriptionSummary: {
              StreamName: "bench",
              StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
              StreamStatus: "ACTIVE",
              StreamModeDetails: { StreamMode: "PROVISIONED" },
              OpenShardCount: shards ?? 1,
            },
          };
          res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "bench" });
          res.end(cbor ? encodeCbor(summary) : JSON.stringify(summary));
          return;
        }
        if (target === "Kinesis_20131202.ListShards" && shards) {
          const listed = {
            Shards: evenShardRanges(shards).map((r) => ({
              ShardId: r.shardId,
              HashKeyRange: { StartingHashKey: r.startingHashKey, EndingHashKey: r.endingHashKey },
              SequenceNumberRange: { StartingSequenceNumber: "0" },
            })),
          };
          res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "bench" });
          res.end(cbor ? encodeCbor(listed) : JSON.stringify(listed));
          return;
        }
        throw new ShapeError(`unexpected X-Amz-Target ${target}`);
      } catch (error) {
        fail(res, cbor, error instanceof Error ? error.message : String(error));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => stats,
    reset: () => (stats = emptyStats()),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  const sink = await startBenchSink({
    port: args.port ? Number(args.port) : 0,
    deep: !!args.deep,
    shards: args.shards ? Number(args.shards) : undefined,
  });
  process.stdout.write(`BENCH_SINK ${sink.url}\n`);
  // Serve until the parent closes our stdin (or goes away).
  process.stdin.on("end", () => sink.stop().then(() => process.exit(0)));
  process.stdin.on("error", () => sink.stop().then(() => process.exit(0)));
  process.stdin.resume();
}
