/**
 * Benchmark 4: request bytes per user byte, JSON against CBOR, computed exactly
 * from the bodies `KinesisClient` would send (no network): aggregate N records
 * of each size with the producer's defaults (250,000-byte aggregates), encode each
 * PutRecord body with `encodeBody`, and divide by the user data bytes. For
 * comparison, the SDK-style unaggregated PutRecords JSON body (500 per call).
 *
 * HTTP headers (about 600 bytes per call) are measured separately by the sink
 * in the end-to-end benchmark.
 * @module
 */
import process from "node:process";
import { encodeBody } from "../../src/aws/kinesis_client.ts";
import { aggregate } from "../../src/format/aggregator.ts";
import { emitResult, makePayloads, parseArgs, totalBytes } from "./common.ts";

/** One record size's bytes per user byte. */
export interface WireRow {
  recordBytes: number;
  records: number;
  json: number;
  cbor: number;
  /** Unaggregated PutRecords JSON, 500 per call, 36-character keys. */
  putRecordsJson: number;
  /** json / cbor. */
  jsonOverCbor: number;
}

/** Computes the wire-bytes table. */
export function benchWireBytes(options: { smoke?: boolean } = {}): { rows: WireRow[] } {
  const sizes = [40, 200, 1024, 10240, 102400];
  const rows: WireRow[] = [];
  for (const size of sizes) {
    // Enough records for at least a few full aggregates.
    const n = options.smoke
      ? Math.max(10, Math.ceil(20000 / size))
      : Math.max(100, Math.ceil(8_000_000 / size));
    const payloads = makePayloads(n, () => size);
    const user = totalBytes(payloads);
    let json = 0;
    let cbor = 0;
    for (const a of aggregate(payloads.map((data) => ({ data })))) {
      const params = { StreamName: "my-stream", Data: a.data, PartitionKey: a.partitionKey };
      json += encodeBody("json", params).length;
      cbor += encodeBody("cbor", params).length;
    }
    let putRecords = 0;
    for (let i = 0; i < n; i += 500) {
      const Records = payloads.slice(i, i + 500).map((Data) => ({
        Data,
        PartitionKey: crypto.randomUUID(),
      }));
      putRecords += encodeBody("json", { StreamName: "my-stream", Records }).length;
    }
    rows.push({
      recordBytes: size,
      records: n,
      json: json / user,
      cbor: cbor / user,
      putRecordsJson: putRecords / user,
      jsonOverCbor: json / cbor,
    });
  }
  return { rows };
}

if (import.meta.main) {
  emitResult(benchWireBytes({ smoke: !!parseArgs(process.argv.slice(2)).smoke }));
}
