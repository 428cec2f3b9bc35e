/**
 * Options, inputs and outputs of `KinesisClient`: the camelCase shapes
 * callers see. The PascalCase wire shapes live in `wire_codec.ts`.
 * @module
 */
import type { DebugSink } from "./debug.ts";
import type { HasherName } from "./sha256.ts";
import type { AwsCredentials, CredentialProvider, FetchLike } from "./types.ts";
import type { KinesisProtocol } from "./wire_codec.ts";

export type { KinesisProtocol };

/** Options for `KinesisClient`. */
export interface KinesisClientOptions {
  /**
   * AWS region. Without it and without the variables, the client reads the
   * shared config profile's `region` (`AWS_PROFILE`, `AWS_CONFIG_FILE`) on its
   * first call; when that has none either, every call fails with a fatal
   * `MissingRegion` `KinesisError` naming the sources tried.
   * @default {AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region in ~/.aws/config}
   */
  region?: string;
  /**
   * Endpoint URL (LocalStack, kinesis-mock, a VPC endpoint).
   * @default {AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL, then https://kinesis.{region}.amazonaws.com}
   */
  endpoint?: string | URL;
  /** Credentials, or a provider called before each request (providers cache). */
  credentials: CredentialProvider | AwsCredentials;
  /**
   * Wire protocol. CBOR sends `Data` as raw bytes (no base64: 25% smaller bodies,
   * less CPU); JSON, the default, is what the other AWS SDKs send. See
   * `KinesisProducerOptions.protocol` for the measurements behind the default.
   * @default {"json"}
   */
  protocol?: KinesisProtocol;
  /**
   * The `fetch` to call (proxies, tests).
   * @default {globalThis.fetch}
   */
  fetch?: FetchLike;
  /**
   * Per-attempt timeout in milliseconds, covering the response body too.
   * @default {defaultTimeoutMs(body size): 10 s plus 1 s per 64 KiB of request body}
   */
  timeoutMs?: number;
  /**
   * `true` logs one line per HTTP call to `console.error`; a function receives the events.
   * @default {false}
   */
  debug?: boolean | DebugSink;
  /**
   * SHA-256 backend for signing.
   * @default {"auto"}
   */
  hasher?: HasherName;
}

/** Options for one call. */
export interface RequestOptions {
  /** Aborts the call; the client then throws a fatal `AbortError` `KinesisError`. */
  signal?: AbortSignal;
  /**
   * The caller's retry number, added to the `retry` field of debug events (the
   * producer owns backoff; this only makes its retries visible).
   * @default {0}
   */
  retry?: number;
  /**
   * Per-attempt timeout for this call.
   * @default {the client's timeoutMs}
   */
  timeoutMs?: number;
}

/** Names a stream: by name, by ARN (preferred by AWS), or both. */
export interface StreamTarget {
  /** Stream name. */
  streamName?: string;
  /** Stream ARN. */
  streamARN?: string;
}

/** Input of `KinesisClient.putRecord`. */
export interface PutRecordInput extends StreamTarget {
  /** Record data (for this library: one KPL aggregate). */
  data: Uint8Array;
  /** Partition key, 1–256 characters. */
  partitionKey: string;
  /** Decimal hash key overriding the partition key's MD5 for shard selection. */
  explicitHashKey?: string;
  /** Orders records from one partition key strictly. */
  sequenceNumberForOrdering?: string;
}

/** Output of `KinesisClient.putRecord`. */
export interface PutRecordOutput {
  /** Shard the record went to. */
  shardId: string;
  /** Sequence number of the record. */
  sequenceNumber: string;
  /** `"NONE"` or `"KMS"`. */
  encryptionType?: string;
}

/** One entry of {@link PutRecordsInput}: one Kinesis record. */
export interface PutRecordsRequestEntry {
  /** Record data (one KPL aggregate, or one user record unaggregated). */
  data: Uint8Array;
  /** Partition key, 1–256 characters. */
  partitionKey: string;
  /** Decimal hash key overriding the partition key's MD5 for shard selection. */
  explicitHashKey?: string;
}

/** Input of `KinesisClient.putRecords`. */
export interface PutRecordsInput extends StreamTarget {
  /** 1–500 entries; data + partition keys at most 5 MiB (10 MiB per the current API reference). */
  records: readonly PutRecordsRequestEntry[];
}

/** An entry Kinesis stored. */
export interface PutRecordsResultOk {
  /** Shard the record went to. */
  shardId: string;
  /** Sequence number of the record. */
  sequenceNumber: string;
  /** Absent on success. */
  errorCode?: undefined;
  /** Absent on success. */
  errorMessage?: undefined;
}

/** An entry Kinesis refused: `ProvisionedThroughputExceededException`, `InternalFailure`, or another code. */
export interface PutRecordsResultError {
  /** The entry's error code. */
  errorCode: string;
  /** The entry's error message (may be empty). */
  errorMessage: string;
  /** Absent on failure. */
  shardId?: undefined;
  /** Absent on failure. */
  sequenceNumber?: undefined;
}

/** The outcome of one entry, in request order. */
export type PutRecordsResultEntry = PutRecordsResultOk | PutRecordsResultError;

/** Output of `KinesisClient.putRecords`. */
export interface PutRecordsOutput {
  /** Entries that failed, counted from the entries themselves (see `KinesisClient.putRecords`). */
  failedRecordCount: number;
  /** One result per request entry, in order. */
  records: PutRecordsResultEntry[];
  /** `"NONE"` or `"KMS"`. */
  encryptionType?: string;
}

/** A shard, as listed by `KinesisClient.listShards`. */
export interface Shard {
  /** Shard id, for example `shardId-000000000000`. */
  shardId: string;
  /** Parent shard after a split or merge. */
  parentShardId?: string;
  /** Second parent after a merge. */
  adjacentParentShardId?: string;
  /** Hash key range owned by the shard (decimal strings, inclusive). */
  hashKeyRange: { startingHashKey: string; endingHashKey: string };
  /** Sequence numbers of the shard; no ending number while it is open. */
  sequenceNumberRange: { startingSequenceNumber: string; endingSequenceNumber?: string };
}

/** Input of `KinesisClient.listShards`. */
export interface ListShardsInput extends StreamTarget {
  /**
   * Wire `ShardFilter`; `{ Type: "AT_LATEST" }` lists the open shards only
   * (without a filter, closed parent shards come back too).
   */
  shardFilter?: Record<string, unknown>;
  /** Page size (1–10000); all pages are fetched either way. */
  maxResults?: number;
}

/** Shard iterator types. */
export type ShardIteratorType =
  | "AT_SEQUENCE_NUMBER"
  | "AFTER_SEQUENCE_NUMBER"
  | "TRIM_HORIZON"
  | "LATEST"
  | "AT_TIMESTAMP";

/** Input of `KinesisClient.getShardIterator`. */
export interface GetShardIteratorInput extends StreamTarget {
  /** Shard to read. */
  shardId: string;
  /** Where to start. */
  shardIteratorType: ShardIteratorType;
  /** For `AT_/AFTER_SEQUENCE_NUMBER`. */
  startingSequenceNumber?: string;
  /** For `AT_TIMESTAMP`. */
  timestamp?: Date;
}

/** Input of `KinesisClient.getRecords`. */
export interface GetRecordsInput {
  /** Iterator from `KinesisClient.getShardIterator` or a previous page. */
  shardIterator: string;
  /** Most records to return (1–10000). */
  limit?: number;
  /** Stream ARN, recommended by AWS alongside the iterator. */
  streamARN?: string;
}

/** A record read by `KinesisClient.getRecords`. */
export interface KinesisRecord {
  /** Sequence number. */
  sequenceNumber: string;
  /** When Kinesis accepted the record. */
  approximateArrivalTimestamp?: Date;
  /** Record data, decoded from base64 (JSON) or taken from the byte string (CBOR). */
  data: Uint8Array;
  /** Partition key. */
  partitionKey: string;
  /** `"NONE"` or `"KMS"`. */
  encryptionType?: string;
}

/** Output of `KinesisClient.getRecords`. */
export interface GetRecordsOutput {
  /** Records, possibly none. */
  records: KinesisRecord[];
  /** Iterator for the next page; absent once a closed shard is drained. */
  nextShardIterator?: string;
  /** How far behind the tip this page is. */
  millisBehindLatest?: number;
}

/** Output of `KinesisClient.describeStreamSummary`. */
export interface StreamSummary {
  /** Stream name. */
  streamName: string;
  /** Stream ARN. */
  streamARN: string;
  /** `CREATING`, `DELETING`, `ACTIVE` or `UPDATING`. */
  streamStatus: string;
  /** `PROVISIONED` or `ON_DEMAND`, when reported. */
  streamMode?: string;
  /** Retention in hours. */
  retentionPeriodHours?: number;
  /** Creation time. */
  streamCreationTimestamp?: Date;
  /** Open shards. */
  openShardCount?: number;
  /** Registered enhanced fan-out consumers. */
  consumerCount?: number;
  /** `"NONE"` or `"KMS"`. */
  encryptionType?: string;
  /** KMS key id when encrypted. */
  keyId?: string;
  /** Largest record the stream accepts, in KiB (1024 unless raised). */
  maxRecordSizeInKiB?: number;
  /**
   * On-demand streams: `"USER_PARTITION_KEY"` (records go where their key
   * hashes) or `"AUTO"` (the service places records itself and ignores
   * partition and explicit hash keys: KPL aggregation is then unsafe).
   */
  recordDistributionStrategy?: string;
}

/** Input of `KinesisClient.createStream`. */
export interface CreateStreamInput {
  /** Stream name. */
  streamName: string;
  /** Shards, for provisioned mode. */
  shardCount?: number;
  /**
   * Capacity mode.
   * @default {"PROVISIONED" when shardCount is given}
   */
  streamMode?: "PROVISIONED" | "ON_DEMAND";
  /** Largest record size in KiB (1024–10240). */
  maxRecordSizeInKiB?: number;
  /** Tags. */
  tags?: Record<string, string>;
}

/** Input of `KinesisClient.waitForStreamActive`. */
export interface WaitForStreamActiveInput extends StreamTarget {
  /**
   * Delay between polls in milliseconds.
   * @default {1000}
   */
  intervalMs?: number;
  /**
   * Total time to wait in milliseconds.
   * @default {120000}
   */
  timeoutMs?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}
