/**
 * Ship records into Amazon Kinesis Data Streams as KPL aggregates, and read
 * them back: the common path. A whole chunk of user records becomes one
 * Kinesis record, sent with one PutRecord.
 *
 * - Producing: {@link KinesisProducer} and its options, delivery reports and errors.
 * - The format: {@link aggregate} and {@link deaggregate}.
 * - Consuming: {@link deaggregateEvent} (Lambda), {@link deaggregateRecords}
 *   (GetRecords, SDK v3) and {@link DeaggregationStream}.
 *
 * - Metrics: {@link toEmf} / {@link startEmfEmitter} (CloudWatch EMF) and
 *   {@link instrumentProducer} (an OpenTelemetry meter you pass).
 *
 * More behind subpath exports: `/format` (the aggregator, keys, shard maps,
 * limits, gzip, billing units), `/aws` (the Kinesis client, credential
 * providers, error classification, proxies, retry policy), `/node`
 * (`toNodeWritable`) and `/testing` (`startKinesisMock`).
 *
 * @example Aggregate and read back
 * ```ts
 * import { aggregate, deaggregate } from "@kpl/kinesis-producer";
 * const enc = new TextEncoder();
 * const [agg] = aggregate([{ data: enc.encode("a") }, { data: enc.encode("b") }]);
 * const back = deaggregate(agg.data, agg.partitionKey);
 * if (back.length !== 2) throw new Error("unexpected");
 * ```
 * @module
 */

// Producing
export {
  type CloseOptions,
  type FlushOptions,
  KinesisProducer,
  type PutOptions,
  type RecordKeys,
} from "./src/producer/producer.ts";
export type { RecordDelivery } from "./src/producer/record_delivery.ts";
export type { WritableRecord } from "./src/producer/writable.ts";
export type { Logger } from "./src/producer/logger.ts";
export type {
  Aggregation,
  Delivery,
  DeliveryFailure,
  KinesisProducerOptions,
  PutRecordClient,
} from "./src/producer/options.ts";
export type { ProducerStats } from "./src/producer/stats.ts";
export type { StreamCheck, StreamFacts } from "./src/producer/stream_facts.ts";
export { LATENCY_BUCKETS_MS, type LatencyHistogram } from "./src/producer/histogram.ts";

// Metrics
export {
  type EmfEmitter,
  type EmfEmitterOptions,
  type EmfOptions,
  startEmfEmitter,
  toEmf,
} from "./src/metrics/emf.ts";
export {
  type HistogramLike,
  type Instrumentation,
  type InstrumentOptions,
  type InstrumentOptionsForProducer,
  instrumentProducer,
  MAX_RECORDS_PER_COLLECTION,
  type MeterLike,
  type MetricAttributes,
  type ObservableLike,
  type ObservableResultLike,
} from "./src/metrics/otel.ts";
export type { Clock, TimerHandle } from "./src/producer/clock.ts";
export type { GiveUpReason } from "./src/producer/retry.ts";

// Errors
export { ProducerClosedError } from "./src/producer/errors.ts";
export { StreamConfigurationError } from "./src/producer/stream_facts.ts";
export {
  AggregateFormatError,
  RecordError,
  type RecordErrorCode,
  RecordTooLargeError,
} from "./src/format/errors.ts";
export { KinesisError, type KinesisErrorKind, type ResponseMetadata } from "./src/aws/errors.ts";
export { DecompressionError } from "./src/format/compression.ts";

// The format
export type { AggregatedRecord, DeaggregatedRecord, UserRecord } from "./src/format/record.ts";
export { aggregate, type AggregateOptions } from "./src/format/aggregator.ts";
export { deaggregate, type DeaggregateOptions } from "./src/format/deaggregate.ts";

// Consuming
export {
  type ClientKinesisRecord,
  type ConsumedRecord,
  deaggregateEvent,
  deaggregateRecords,
  type DeaggregateRecordsOptions,
  type GetRecordsRecord,
  type KinesisRecordInput,
  type LambdaKinesisEvent,
  type LambdaKinesisRecord,
} from "./src/consumer/records.ts";
export { DeaggregationStream } from "./src/consumer/deaggregation_stream.ts";

// Types the options refer to
export type { AwsCredentials, CredentialProvider, FetchLike } from "./src/aws/types.ts";
export type { DebugEvent, DebugSink } from "./src/aws/debug.ts";
export type {
  KinesisProtocol,
  PutRecordInput,
  PutRecordOutput,
  RequestOptions,
  StreamTarget,
} from "./src/aws/kinesis_client.ts";
export type {
  ListedShard,
  ShardHashRange,
  ShardMap,
  ShardMapInput,
  WireShard,
} from "./src/format/shard_map.ts";
export type { RecordCompression } from "./src/format/compression.ts";
