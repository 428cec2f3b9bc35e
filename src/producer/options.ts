/**
 * Every producer option in one place: documented, defaulted and validated up
 * front. The README maps each to the seed plugin's option.
 * @module
 */
import type { DebugSink } from "../aws/debug.ts";
import type {
  KinesisProtocol,
  PutRecordInput,
  PutRecordOutput,
  PutRecordsInput,
  PutRecordsOutput,
  RequestOptions,
} from "../aws/kinesis_client.ts";
import {
  DEFAULT_PUT_RECORDS_LIMITS,
  PUT_RECORDS_MAX_BYTES_CEILING,
  type PutRecordsLimits,
} from "../aws/request_limits.ts";
import type { AwsCredentials, CredentialProvider, FetchLike } from "../aws/types.ts";
import { ShardMap, type ShardMapInput } from "../format/shard_map.ts";
import type { UserRecord } from "../format/record.ts";
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_TARGET_BYTES } from "../format/limits.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { GiveUpReason, RetryPolicy } from "./retry.ts";
import { defaultLogger, type Logger } from "./logger.ts";
import type { RecordCompression } from "../format/compression.ts";

/**
 * The calls the producer makes. `KinesisClient` implements them; tests inject
 * fakes. Without `putRecords`, every entry goes as its own `PutRecord`.
 */
export interface PutRecordClient {
  /** Sends one record (one aggregate, or one user record unaggregated). */
  putRecord(input: PutRecordInput, options?: RequestOptions): Promise<PutRecordOutput>;
  /** Sends up to 500 records; answers per entry. */
  putRecords?(input: PutRecordsInput, options?: RequestOptions): Promise<PutRecordsOutput>;
}

/**
 * How user records become Kinesis records: `"on"` packs them into KPL
 * aggregates; `"off"` sends each as its own Kinesis record (for consumers
 * without a deaggregator), batched by PutRecords; `"auto"` aggregates unless
 * the stream places records itself (`RecordDistributionStrategy` `AUTO`).
 */
export type Aggregation = "auto" | "on" | "off";

/** The aggregation modes {@link resolveAggregation} accepts. */
export const AGGREGATION_MODES: readonly Aggregation[] = ["auto", "on", "off"];

/**
 * Resolves the `aggregation` option: the one place a mode is chosen, so new
 * modes (one that asks the stream) are added here. Throws `RangeError`.
 */
export function resolveAggregation(value: unknown = "auto"): Aggregation {
  if ((AGGREGATION_MODES as readonly unknown[]).includes(value)) return value as Aggregation;
  throw new RangeError(
    `Cannot set aggregation to ${JSON.stringify(value)}: it must be one of ${
      AGGREGATION_MODES.map((m) => `"${m}"`).join(", ")
    }`,
  );
}

/** A chunk that could not be delivered, with the user records inside it. */
export interface DeliveryFailure {
  /** The original user records, in order. */
  records: UserRecord[];
  /** The last error. */
  error: Error;
  /** PutRecord attempts made. */
  attempts: number;
  /** Why the producer stopped trying. */
  reason: GiveUpReason;
  /** The aggregate's partition key. */
  partitionKey: string;
}

/** A delivered chunk. */
export interface Delivery {
  /** Number of user records delivered. */
  records: number;
  /** Shard that stored the chunk. */
  shardId: string;
  /** Sequence number of the aggregate; user records share it with sub-sequence numbers 0.. */
  sequenceNumber: string;
  /** PutRecord attempts it took. */
  attempts: number;
  /**
   * The user records delivered, in order: the same objects `put` made (their
   * `data` is the caller's array), so a caller can settle each one.
   */
  userRecords: readonly UserRecord[];
}

/** Options for {@link KinesisProducer}. Seed option names are in brackets. */
export interface KinesisProducerOptions {
  /** Stream name [`stream_name`]. One of `streamName` or `streamARN` is required. */
  streamName?: string;
  /** Stream ARN, preferred by AWS for cross-account access. */
  streamARN?: string;
  /**
   * AWS region [`region`]. The profile's region is read on the first send;
   * when no source has one, each batch goes to `onFailure` with a fatal
   * `MissingRegion` error naming the sources tried.
   * @default {env AWS_REGION, then AWS_DEFAULT_REGION, then the AWS_PROFILE profile's region in ~/.aws/config}
   */
  region?: string;
  /**
   * Kinesis endpoint URL (LocalStack, kinesis-mock, VPC endpoints).
   * @default {env AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL, then the regional endpoint}
   */
  endpoint?: string;
  /**
   * Credentials or a provider [`aws_key_id`, `aws_sec_key`].
   * @default {the default chain: env, shared files, web identity, container, instance metadata}
   */
  credentials?: AwsCredentials | CredentialProvider;
  /** Role to assume with STS AssumeRole, using `credentials` as the source [`role_arn`]. */
  roleArn?: string;
  /** External id for AssumeRole [`external_id`]. */
  externalId?: string;
  /**
   * Session name for AssumeRole.
   * @default {"kinesis-kpl-producer-<time>"}
   */
  roleSessionName?: string;
  /**
   * STS endpoint URL for AssumeRole.
   * @default {env AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the regional STS endpoint}
   */
  stsEndpoint?: string;
  /** HTTP(S) proxy URL for Kinesis and STS alike [`http_proxy`]. Not available in Workers. */
  httpProxy?: string;
  /**
   * A fixed partition key for every chunk [`fixed_partition_key`]. Unset: a
   * random key per chunk, which spreads chunks over all shards.
   */
  partitionKey?: string;
  /**
   * Keyed mode: `put` takes a partition key (and optional explicit hash key)
   * per record, and chunks never mix records bound for different shards.
   * @default {false}
   */
  keyed?: boolean;
  /**
   * Keyed mode: the stream's open shards, to pack chunks per shard instead of
   * per key: a `ShardMap`, or what it accepts (hash ranges, or ListShards
   * output, whose closed shards are dropped). Validated at once. In any mode,
   * they also let the producer track throttling per shard (a window and a
   * pause per shard). `"auto"` (the default in keyed mode) lists the open
   * shards before the first put call (`ListShards`, needs `kinesis:ListShards`)
   * and again when a put answer shows the map is stale.
   */
  shards?: readonly ShardMapInput[] | ShardMap | "auto";
  /**
   * Default mode (no `partitionKey`, not keyed): place each chunk on a shard
   * of the stream's map by an explicit hash key (the chunk's and every inner
   * record's, so KCL's range check passes), taking open shards in turn and
   * passing over ones whose rate dropped after a recent throttle, instead of
   * a random partition key. Uses `shards`, or lists them (`ListShards`, needs
   * `kinesis:ListShards`) when unset. See the README's stream-awareness
   * section for the measurement.
   * @default {false}
   */
  spreadOverShards?: boolean;
  /**
   * `"on"`: user records go in KPL aggregates. `"off"`: each user record is
   * its own Kinesis record, batched by PutRecords (up to 500 per call), for
   * consumers that cannot deaggregate. `put` validates keys and sizes either way.
   * `"auto"` asks the stream first (`DescribeStreamSummary`) and aggregates
   * unless it places records itself (`RecordDistributionStrategy` `AUTO`).
   * @default {"auto"}
   */
  aggregation?: Aggregation;
  /**
   * When the producer describes the stream at all (`aggregation: "auto"`,
   * strict order, keyed or spreading with listed shards, a record limit above
   * 1 MiB), it describes it again at most this often while records flow, in
   * ms: a stream that turned service-managed (`AUTO`), resharded or changed
   * its record limit is followed within this time even when no put answer
   * shows it. `DescribeStreamSummary` allows 20 calls per second per account:
   * 1,200 producers at the default. 0: only on the answers that show a change.
   * @default {60000}
   */
  describeIntervalMs?: number;
  /**
   * Collection: when several aggregates are ready at once (the in-flight
   * window is full, or a linger cut many), send them in one PutRecords, up to
   * 500 entries and `maxRequestBytes`. Each stays atomic: only failed entries
   * are retried. `false` sends one PutRecord per aggregate. Unaggregated mode
   * always batches. Strict ordering (`concurrency: 1` with `partitionKey`)
   * always uses PutRecord: only it takes `SequenceNumberForOrdering`.
   * @default {true}
   */
  collect?: boolean;
  /**
   * Most bytes (data + partition keys) in one PutRecords. The long-documented
   * cap is 5 MiB; the current API reference allows 10 MiB.
   * @default {5242880}
   */
  maxRequestBytes?: number;
  /**
   * The stream's record limit in bytes; raise only for streams that opted in (≤ 10 MiB).
   * @default {1048576}
   */
  maxRecordBytes?: number;
  /**
   * Target chunk size in bytes [`buffer_chunk_limit`].
   * @default {250000}
   */
  targetBytes?: number;
  /**
   * Most user records per chunk.
   * @default {Infinity}
   */
  maxRecords?: number;
  /**
   * The longest a record waits for its chunk to fill before the chunk is sent, in ms.
   * @default {500}
   */
  lingerMs?: number;
  /**
   * Most PutRecord calls in flight [`num_threads`]. The producer halves its
   * window on throttling and grows it back on success, so one setting suits a
   * one-shard stream and a fifty-shard stream alike.
   * @default {8}
   */
  concurrency?: number;
  /**
   * Most bytes held in memory (buffered, queued, in flight). `put` waits while full.
   * @default {16777216}
   */
  maxBufferedBytes?: number;
  /**
   * Most PutRecord attempts per chunk.
   * @default {10}
   */
  maxAttempts?: number;
  /**
   * Backoff base for transient faults, in ms.
   * @default {100}
   */
  baseDelayMs?: number;
  /**
   * Backoff base for throttling, in ms.
   * @default {500}
   */
  throttleBaseDelayMs?: number;
  /**
   * Cap on one backoff, in ms.
   * @default {20000}
   */
  maxDelayMs?: number;
  /**
   * A chunk not delivered within this many ms of being cut is reported failed.
   * @default {120000}
   */
  deadlineMs?: number;
  /**
   * Per-request timeout in ms.
   * @default {10 s + 1 s per 64 KiB of body}
   */
  timeoutMs?: number;
  /**
   * Wire protocol: `"json"` (`application/x-amz-json-1.1`, data as base64) or
   * `"cbor"` (`application/x-amz-cbor-1.1`, data as raw bytes: bodies 25% smaller).
   * CBOR also costs less CPU (end to end, 200 B records: 8-18% less in Deno and
   * Node), decodes to exactly what the AWS SDK for Java v2 sends
   * (tests/interop/cbor_java_sdk_test.ts), and Kinesis, LocalStack 4.14 and
   * kinesis-mock accept it. JSON stays the default because it is what the other
   * AWS SDKs send, so gateways, proxies and Kinesis look-alikes are known to read
   * it, and this project's own test sinks read only JSON.
   * @default {"json"}
   */
  protocol?: KinesisProtocol;
  /**
   * Log every API call (`true`: to `console.error`), or receive the events [`debug`].
   * @default {false}
   */
  debug?: boolean | DebugSink;
  /**
   * The `fetch` to use.
   * @default {globalThis.fetch, or a proxied fetch with httpProxy}
   */
  fetch?: FetchLike;
  /**
   * Receives every chunk that finally failed, with its records. Without it,
   * failures are logged to `console.error` (counts and error, never data).
   */
  onFailure?: (failure: DeliveryFailure) => void;
  /** Receives every delivered chunk. */
  onDelivered?: (delivery: Delivery) => void;
  /**
   * Receives the error of an `onFailure` or `onDelivered` call that threw,
   * with the number of records counted as lost (`stats.recordsLost`; 0 for
   * `onDelivered`, whose records were delivered). The producer goes on.
   * @default {one line through `logger.error`: callback, records, error name and message}
   */
  onCallbackError?: (
    error: unknown,
    callback: "onFailure" | "onDelivered",
    records: number,
  ) => void;
  /**
   * A ready transport; replaces endpoint, credentials, proxy and protocol
   * settings. The `data` it is given stays unchanged after the call: with a
   * client of your own, aggregate buffers are not reused.
   */
  client?: PutRecordClient;
  /**
   * Where the producer says things, in the AWS SDK v3's logger shape
   * (`{ debug, info, warn, error }`): records that failed without an
   * `onFailure`, and callbacks that threw, go to `error`; with `debug: true`,
   * the API call log goes to `debug`. Never record data or secrets.
   * @default {silent except warnings and errors, on console.warn / console.error}
   */
  logger?: Logger;
  /**
   * Compress each record's data before aggregation, as the Fluent Bit and
   * Fluentd Kinesis plugins do (`"gzip"`, web `CompressionStream`). Consumers
   * undo it with `deaggregateRecords(records, { decompress: "gzip" })`. Size
   * limits apply to the compressed bytes; records keep their order.
   * @default {undefined (no compression)}
   */
  compression?: RecordCompression;
  /**
   * Time source for linger and backoff.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Receives each stream-awareness warning once (an AUTO stream, a denied
   * describe or listing).
   * @default {one line through `logger.warn`}
   */
  onWarning?: (message: string) => void;
  /**
   * Random source for backoff jitter, in [0, 1).
   * @default {Math.random}
   */
  random?: () => number;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  target: { streamName?: string; streamARN?: string };
  /** What is done now: set from `aggregationWish` once the stream is described. */
  aggregation: "on" | "off";
  /** What the caller asked for. */
  aggregationWish: Aggregation;
  /** Keyed mode (or spreading) lists the shards itself. */
  autoShards: boolean;
  /** Default mode places each chunk on a chosen shard ({@link KinesisProducerOptions.spreadOverShards}). */
  spread: boolean;
  /** The caller's maxRecordBytes, when set (else the stream's limit applies). */
  maxRecordBytesWish: number | undefined;
  /** Describe the stream again at most this often while records flow (ms); 0: never on a timer. */
  describeIntervalMs: number;
  /** Said once each: stream facts that change what the producer does. */
  onWarning: (message: string) => void;
  collect: boolean;
  requestLimits: PutRecordsLimits;
  /** Strict order: one call at a time, PutRecord with SequenceNumberForOrdering. */
  ordered: boolean;
  partitionKey: string | undefined;
  keyed: boolean;
  shards: ShardMap | undefined;
  maxRecordBytes: number;
  targetBytes: number;
  maxRecords: number;
  lingerMs: number;
  concurrency: number;
  maxBufferedBytes: number;
  retry: RetryPolicy;
  onFailure: (failure: DeliveryFailure) => void;
  onDelivered: ((delivery: Delivery) => void) | undefined;
  onCallbackError: (error: unknown, callback: "onFailure" | "onDelivered", records: number) => void;
  logger: Logger;
  compression: RecordCompression | undefined;
  clock: Clock;
  random: () => number;
}

function positive(name: string, value: number, integer = true): number {
  if (!(value > 0) || (integer && !Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(
      `Cannot set ${name} to ${value}: it must be a positive ${integer ? "integer" : "number"}`,
    );
  }
  return value;
}

function logFailure(logger: Logger, failure: DeliveryFailure): void {
  logger.error(
    `[kinesis-kpl] ${failure.records.length} records failed after ${failure.attempts} attempts (${failure.reason}): ${failure.error.message}`,
  );
}

function logCallbackError(
  logger: Logger,
  error: unknown,
  callback: string,
  records: number,
): void {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  logger.error(
    `[kinesis-kpl] ${callback} threw${
      records > 0 ? `; ${records} records counted as lost` : ""
    }: ${what}`,
  );
}

/** Applies defaults and validates; throws `TypeError`/`RangeError` with the offending value. */
export function resolveOptions(options: KinesisProducerOptions): ResolvedOptions {
  const {
    streamName,
    streamARN,
    partitionKey,
    keyed = false,
    shards,
    maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
    maxRecords = Infinity,
    lingerMs = 500,
    concurrency = 8,
    maxBufferedBytes = 16 * 1024 * 1024,
    maxAttempts = 10,
    baseDelayMs = 100,
    throttleBaseDelayMs = 500,
    maxDelayMs = 20_000,
    deadlineMs = 120_000,
    logger = defaultLogger,
    onFailure = (failure: DeliveryFailure) => logFailure(logger, failure),
    onDelivered,
    onCallbackError = (error: unknown, callback: string, records: number) =>
      logCallbackError(logger, error, callback, records),
    compression,
    clock = systemClock,
    random = Math.random,
    collect = true,
    maxRequestBytes = DEFAULT_PUT_RECORDS_LIMITS.maxBytes,
    describeIntervalMs = 60_000,
  } = options;
  if (!(describeIntervalMs >= 0)) {
    throw new RangeError(
      `Cannot set describeIntervalMs to ${describeIntervalMs}: it must be 0 or more`,
    );
  }
  const aggregationWish = resolveAggregation(options.aggregation);
  const spread = options.spreadOverShards ?? false;
  if (typeof spread !== "boolean") {
    throw new TypeError(
      `Cannot set spreadOverShards to ${JSON.stringify(spread)}: it must be a boolean`,
    );
  }
  if (spread && (keyed || partitionKey !== undefined)) {
    throw new TypeError(
      "Cannot use spreadOverShards with keyed mode or a fixed partitionKey: those place records themselves",
    );
  }
  const autoShards = (keyed || spread) && (shards === undefined || shards === "auto");
  if (shards === "auto" && !keyed && !spread) {
    throw new TypeError('Cannot use shards: "auto" without keyed mode or spreadOverShards');
  }
  const { targetBytes = Math.min(DEFAULT_TARGET_BYTES, maxRecordBytes) } = options;
  if (!streamName && !streamARN) {
    throw new TypeError("Cannot create a producer without streamName or streamARN");
  }
  if (compression !== undefined && compression !== "gzip") {
    throw new RangeError(`Cannot set compression to ${compression}: it must be "gzip" or unset`);
  }
  if (!(lingerMs >= 0)) {
    throw new RangeError(`Cannot set lingerMs to ${lingerMs}: it must be 0 or more`);
  }
  positive("concurrency", concurrency);
  if (typeof collect !== "boolean") {
    throw new TypeError(`Cannot set collect to ${JSON.stringify(collect)}: it must be a boolean`);
  }
  if (
    !Number.isInteger(maxRequestBytes) || maxRequestBytes < maxRecordBytes ||
    maxRequestBytes > PUT_RECORDS_MAX_BYTES_CEILING
  ) {
    throw new RangeError(
      `Cannot set maxRequestBytes to ${maxRequestBytes}: it must be an integer from maxRecordBytes (${maxRecordBytes}) to ${PUT_RECORDS_MAX_BYTES_CEILING}`,
    );
  }
  positive("maxAttempts", maxAttempts);
  positive("maxDelayMs", maxDelayMs, false);
  positive("deadlineMs", deadlineMs, false);
  if (!(baseDelayMs >= 0) || !(throttleBaseDelayMs >= 0)) {
    throw new RangeError(
      `Cannot set backoff bases to ${baseDelayMs}/${throttleBaseDelayMs}: they must be 0 or more`,
    );
  }
  if (!(maxBufferedBytes >= maxRecordBytes)) {
    throw new RangeError(
      `Cannot set maxBufferedBytes to ${maxBufferedBytes}: it must be at least maxRecordBytes (${maxRecordBytes})`,
    );
  }
  return {
    target: streamARN ? { streamARN } : { streamName },
    aggregation: aggregationWish === "off" ? "off" : "on",
    aggregationWish,
    autoShards,
    spread,
    maxRecordBytesWish: options.maxRecordBytes,
    describeIntervalMs,
    onWarning: options.onWarning ?? ((message) => logger.warn(`[kinesis-kpl] ${message}`)),
    collect,
    requestLimits: { maxEntries: DEFAULT_PUT_RECORDS_LIMITS.maxEntries, maxBytes: maxRequestBytes },
    ordered: concurrency === 1 && partitionKey !== undefined,
    partitionKey,
    keyed,
    shards: shards === undefined || shards === "auto" || shards instanceof ShardMap
      ? (shards === "auto" ? undefined : shards)
      : new ShardMap(shards),
    maxRecordBytes,
    targetBytes,
    maxRecords,
    lingerMs,
    concurrency,
    maxBufferedBytes,
    retry: { maxAttempts, baseDelayMs, throttleBaseDelayMs, maxDelayMs, deadlineMs },
    onFailure,
    onDelivered,
    onCallbackError,
    logger,
    compression,
    clock,
    random,
  };
}
