/**
 * Live producer counters, for metrics.
 * @module
 */
import { emptyHistogram, type LatencyHistogram } from "./histogram.ts";
import type { StreamFacts } from "./stream_facts.ts";

/**
 * Bytes in one PUT payload unit, the provisioned-mode billing unit: 25 KB,
 * decimal (AWS's examples: 5 KB is 1 unit, 45 KB is 2, 1 MB is 40, which only
 * 25,000-byte units give).
 */
export const PUT_PAYLOAD_UNIT_BYTES = 25_000;

/** PUT payload units one record of `bytes` (data + partition key) costs in provisioned mode. */
export function putPayloadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PUT_PAYLOAD_UNIT_BYTES));
}

/** On-demand mode bills data ingested with each record rounded up to this many bytes (1 KiB). */
export const ON_DEMAND_RECORD_BYTES = 1024;

/** Bytes on-demand mode bills for one record of `bytes` (data + partition key): rounded up to 1 KiB. */
export function onDemandBilledBytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / ON_DEMAND_RECORD_BYTES)) * ON_DEMAND_RECORD_BYTES;
}

/** A snapshot of what a producer has done. */
export interface ProducerStats {
  /** Records accepted by `put`. */
  records: number;
  /** Records refused by `put` (invalid or too large). */
  recordsRejected: number;
  /** Records delivered. */
  recordsDelivered: number;
  /** Records reported to `onFailure`. */
  recordsFailed: number;
  /**
   * Records whose `onFailure` call threw: the caller may not have kept them,
   * so they count as lost (they are also in {@link recordsFailed}).
   */
  recordsLost: number;
  /** Calls of `onFailure` or `onDelivered` that threw. */
  callbackErrors: number;
  /** Kinesis records delivered: aggregates, or user records unaggregated. */
  chunks: number;
  /** Chunks reported failed. */
  chunksFailed: number;
  /** Bytes delivered: aggregate data plus partition keys, as Kinesis counts them. */
  bytes: number;
  /** Calls made (PutRecord and PutRecords), retries included. */
  calls: number;
  /** Calls by kind: `PutRecord`, `PutRecords`. */
  callsByKind: Record<string, number>;
  /** Entries sent (aggregates, or user records unaggregated), each attempt counted. */
  entriesSent: number;
  /** Entry attempts that failed, by error code (a whole-call failure counts for each entry in it). */
  entriesFailedByCode: Record<string, number>;
  /** Entries waiting out a retry backoff now (outside the in-flight slots). */
  waitingForRetry: number;
  /** Entries that reached their deadline before a single attempt. */
  expiredUnattempted: number;
  /** The stream-wide congestion window now (calls in flight allowed). */
  window: number;
  /** Per-shard windows now (entries in flight allowed), when a shard map is known. */
  shardWindows: Record<string, number>;
  /** Throttles per shard, when a shard map is known. */
  throttlesByShard: Record<string, number>;
  /** Retries made. */
  retries: number;
  /** Attempts answered with throttling. */
  throttles: number;
  /** PutRecord calls in flight now. */
  inFlight: number;
  /** Bytes held now: buffered, queued and in flight. */
  bufferedBytes: number;
  /** Provisioned-mode billing: PUT payload units (25 KiB each) of the delivered aggregates. */
  putUnits: number;
  /** Provisioned-mode billing: PUT payload units the same records would have cost as one PutRecord each. */
  putUnitsUnaggregated: number;
  /** On-demand-mode billing: bytes billed for the delivered aggregates, each rounded up to 1 KiB. */
  onDemandBilledBytes: number;
  /** On-demand-mode billing: bytes the same records would have been billed as one PutRecord each. */
  onDemandBilledBytesUnaggregated: number;
  /** With `compression`: record bytes before compression. */
  compressionBytesIn: number;
  /** With `compression`: record bytes after compression. */
  compressionBytesOut: number;
  /** Time of each PutRecord call, answered or failed, in ms. */
  callLatencyMs: LatencyHistogram;
  /**
   * Time from `put` to delivery of each delivered record, in ms. Put times are
   * interpolated between the chunk's first record and its cut, so `put` reads
   * no clock; the error is at most `lingerMs`.
   */
  recordLatencyMs: LatencyHistogram;
  /**
   * What the producer learned from the stream (DescribeStreamSummary,
   * ListShards) and did about it; see `StreamFacts`.
   */
  stream?: StreamFacts;
}

/** Fresh, zeroed counters. */
export function emptyStats(): ProducerStats {
  return {
    records: 0,
    recordsRejected: 0,
    recordsDelivered: 0,
    recordsFailed: 0,
    recordsLost: 0,
    callbackErrors: 0,
    chunks: 0,
    chunksFailed: 0,
    bytes: 0,
    calls: 0,
    callsByKind: {},
    entriesSent: 0,
    entriesFailedByCode: {},
    waitingForRetry: 0,
    expiredUnattempted: 0,
    window: 0,
    shardWindows: {},
    throttlesByShard: {},
    retries: 0,
    throttles: 0,
    inFlight: 0,
    bufferedBytes: 0,
    putUnits: 0,
    putUnitsUnaggregated: 0,
    onDemandBilledBytes: 0,
    onDemandBilledBytesUnaggregated: 0,
    compressionBytesIn: 0,
    compressionBytesOut: 0,
    callLatencyMs: emptyHistogram(),
    recordLatencyMs: emptyHistogram(),
  };
}
