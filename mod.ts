/**
 * Ship records into Amazon Kinesis Data Streams as KPL aggregates: a whole chunk
 * of user records becomes one Kinesis record, sent with one PutRecord.
 *
 * @example Aggregate and read back
 * ```ts
 * import { aggregate, deaggregate } from "./mod.ts";
 * const enc = new TextEncoder();
 * const [agg] = aggregate([{ data: enc.encode("a") }, { data: enc.encode("b") }]);
 * const back = deaggregate(agg.data, agg.partitionKey);
 * console.assert(back.length === 2);
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
export { deaggregate, type DeaggregateOptions } from "./src/format/deaggregate.ts";
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
export { type ShardHashRange, ShardMap } from "./src/format/shard_map.ts";

export { type CloseOptions, KinesisProducer, type RecordKeys } from "./src/producer/producer.ts";
export type {
  Delivery,
  DeliveryFailure,
  KinesisProducerOptions,
  PutRecordClient,
} from "./src/producer/options.ts";
export { ProducerClosedError } from "./src/producer/errors.ts";
export {
  type ProducerStats,
  PUT_PAYLOAD_UNIT_BYTES,
  putPayloadUnits,
} from "./src/producer/stats.ts";
export { type Clock, systemClock, type TimerHandle } from "./src/producer/clock.ts";
export { backoffMs, type GiveUpReason, nextRetry, type RetryPolicy } from "./src/producer/retry.ts";

export * from "./src/aws/kinesis_client.ts";
export { readStream, type ShardRecord } from "./src/aws/read_stream.ts";
export {
  type Classification,
  classifyError,
  KinesisError,
  type KinesisErrorKind,
} from "./src/aws/errors.ts";
export type { AwsCredentials, CredentialProvider, FetchLike } from "./src/aws/types.ts";
export type { DebugEvent, DebugSink } from "./src/aws/debug.ts";
export type { HasherName } from "./src/aws/sha256.ts";
export * from "./src/aws/credentials/mod.ts";
export {
  type ProxiedFetch,
  proxyFetch,
  type ProxyFetchOptions,
  type ProxyRuntime,
  ProxyUnsupportedError,
} from "./src/runtime/proxy.ts";
