/**
 * The KPL aggregation format beyond {@link aggregate}/{@link deaggregate}: the
 * incremental aggregator, partition and explicit hash keys, shard maps, size
 * limits, per-record gzip and Kinesis billing units. Pure: no network.
 *
 * @example Pack records per shard with an Aggregator
 * ```ts
 * import { Aggregator } from "@kpl/kinesis-producer/format";
 * const aggregator = new Aggregator({ targetBytes: 64 * 1024 });
 * const done = aggregator.add({ data: new TextEncoder().encode("hello") });
 * const aggregates = [...(done ? [done] : []), ...aggregator.flush()];
 * if (aggregates.length !== 1) throw new Error("unexpected");
 * ```
 * @module
 */

export type { AggregatedRecord, DeaggregatedRecord, UserRecord } from "./src/format/record.ts";
export {
  aggregate,
  type AggregateOptions,
  Aggregator,
  type AggregatorOptions,
} from "./src/format/aggregator.ts";
export { deaggregate, type DeaggregateOptions, hasMagic } from "./src/format/deaggregate.ts";
export {
  AggregateFormatError,
  RecordError,
  type RecordErrorCode,
  RecordTooLargeError,
} from "./src/format/errors.ts";
export {
  MAX_HASH_KEY,
  partitionKeyHash,
  recordHashKey,
  validateExplicitHashKey,
  validatePartitionKey,
} from "./src/format/keys.ts";
export {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_TARGET_BYTES,
  MAX_RECORD_BYTES_CEILING,
} from "./src/format/limits.ts";
export {
  type ListedShard,
  type ShardHashRange,
  ShardMap,
  type ShardMapInput,
  type ShardMapOptions,
  type WireShard,
} from "./src/format/shard_map.ts";
export {
  DecompressionError,
  gunzip,
  gzip,
  isGzip,
  type RecordCompression,
} from "./src/format/compression.ts";
export {
  ON_DEMAND_RECORD_BYTES,
  onDemandBilledBytes,
  PUT_PAYLOAD_UNIT_BYTES,
  putPayloadUnits,
} from "./src/producer/stats.ts";
