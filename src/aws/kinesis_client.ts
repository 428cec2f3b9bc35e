/**
 * A small Kinesis Data Streams client on `fetch`: JSON 1.1 or CBOR 1.1 wire
 * protocol, SigV4, typed errors, per-request timeouts.
 *
 * It retries only what it can fix itself, once each: clock skew (from the
 * response `Date`) and an expired session token (after a forced refresh).
 * Everything else comes back as a {@link KinesisError} whose `kind`/`retryable`
 * tell the producer how to back off.
 * @module
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { decodeCbor, encodeCbor } from "./cbor.ts";
import { type DebugSink, debugSink } from "./debug.ts";
import { resolveEndpoint, resolveRegion } from "./endpoint.ts";
import { KinesisError, type KinesisErrorKind, redact } from "./errors.ts";
import type { HasherName } from "./sha256.ts";
import { Signer } from "./signer.ts";
import type { AwsCredentials, CredentialProvider, FetchLike } from "./types.ts";
import { concatBytes } from "../runtime/bytes.ts";

/** Wire protocol: `json` (`application/x-amz-json-1.1`) or `cbor` (`application/x-amz-cbor-1.1`). */
export type KinesisProtocol = "json" | "cbor";

/** Options for {@link KinesisClient}. */
export interface KinesisClientOptions {
  /**
   * AWS region.
   * @default {AWS_REGION, then AWS_DEFAULT_REGION}
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
   * Wire protocol. CBOR sends `Data` as raw bytes (no base64: 25% smaller bodies).
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
  /** Aborts the call; the client then throws a fatal `AbortError` {@link KinesisError}. */
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

/** Input of {@link KinesisClient.putRecord}. */
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

/** Output of {@link KinesisClient.putRecord}. */
export interface PutRecordOutput {
  /** Shard the record went to. */
  shardId: string;
  /** Sequence number of the record. */
  sequenceNumber: string;
  /** `"NONE"` or `"KMS"`. */
  encryptionType?: string;
}

/** A shard, as listed by {@link KinesisClient.listShards}. */
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

/** Input of {@link KinesisClient.listShards}. */
export interface ListShardsInput extends StreamTarget {
  /** Wire `ShardFilter`, for example `{ Type: "AT_LATEST" }`. */
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

/** Input of {@link KinesisClient.getShardIterator}. */
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

/** Input of {@link KinesisClient.getRecords}. */
export interface GetRecordsInput {
  /** Iterator from {@link KinesisClient.getShardIterator} or a previous page. */
  shardIterator: string;
  /** Most records to return (1–10000). */
  limit?: number;
  /** Stream ARN, recommended by AWS alongside the iterator. */
  streamARN?: string;
}

/** A record read by {@link KinesisClient.getRecords}. */
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

/** Output of {@link KinesisClient.getRecords}. */
export interface GetRecordsOutput {
  /** Records, possibly none. */
  records: KinesisRecord[];
  /** Iterator for the next page; absent once a closed shard is drained. */
  nextShardIterator?: string;
  /** How far behind the tip this page is. */
  millisBehindLatest?: number;
}

/** Output of {@link KinesisClient.describeStreamSummary}. */
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
}

/** Input of {@link KinesisClient.createStream}. */
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

/** Input of {@link KinesisClient.waitForStreamActive}. */
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

/** Wire-level input or output: PascalCase members. */
export type WireObject = Record<string, unknown>;

const TARGET_PREFIX = "Kinesis_20131202.";
const CONTENT_TYPE: Record<KinesisProtocol, string> = {
  json: "application/x-amz-json-1.1",
  cbor: "application/x-amz-cbor-1.1",
};
// Responses larger than this are refused before reading (GetRecords tops out at 10 MiB
// of data; base64 and framing add about 40%).
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The default per-attempt timeout for a request body of `bytes`: 10 s, plus 1 s
 * per started 64 KiB, so a 1 MiB PutRecord gets 26 s and still fits a slow
 * (≥ 64 KiB/s) uplink, while a stuck small call fails in about 10 s.
 */
export function defaultTimeoutMs(bytes: number): number {
  return 10_000 + Math.ceil(bytes / 65_536) * 1_000;
}

const textEncoder = new TextEncoder();
const DATA_HEAD = textEncoder.encode('{"Data":"');
const textDecoder = new TextDecoder();

// JSON.stringify replacer: bytes go as base64, dates as epoch seconds (awsJson).
// `this[key]` is the raw value: Date.toJSON has already run on `value`.
function jsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return encodeBase64(raw);
  if (raw instanceof Date) return raw.getTime() / 1000;
  return value;
}

/** Encodes wire params as a request body for `protocol`. */
export function encodeBody(protocol: KinesisProtocol, params: WireObject): Uint8Array<ArrayBuffer> {
  if (protocol === "cbor") return encodeCbor(params);
  const { Data, ...rest } = params;
  if (!(Data instanceof Uint8Array)) {
    return textEncoder.encode(JSON.stringify(params, jsonReplacer));
  }
  // PutRecord: base64 needs no JSON escaping, so it goes straight into the body
  // instead of through JSON.stringify and a second UTF-8 copy. A 256 KiB
  // aggregate encodes in about half the time (≈500 → ≈260 µs here).
  const base64 = encodeBase64(Data);
  const others = JSON.stringify(rest, jsonReplacer);
  const tail = textEncoder.encode(others === "{}" ? '"}' : `",${others.slice(1)}`);
  const body = new Uint8Array(DATA_HEAD.length + base64.length + tail.length);
  body.set(DATA_HEAD, 0);
  textEncoder.encodeInto(base64, body.subarray(DATA_HEAD.length));
  body.set(tail, body.length - tail.length);
  return body;
}

/**
 * Reads a response body, or returns `undefined` (and cancels it) once it passes
 * `max` bytes, whether or not it declared its length.
 */
async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  if (Number(res.headers.get("content-length") ?? "0") > max) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(parts, total);
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    parts.push(value);
  }
}

function isStaticCredentials(c: unknown): c is AwsCredentials {
  return typeof c === "object" && c !== null &&
    typeof (c as AwsCredentials).accessKeyId === "string";
}

// Error codes arrive as "ResourceNotFoundException",
// "com.amazonaws.kinesis.v20131202#ResourceNotFoundException" or "Code:http://…".
function sanitizeCode(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw === "") return undefined;
  let code = raw;
  const hash = code.lastIndexOf("#");
  if (hash >= 0) code = code.slice(hash + 1);
  const colon = code.indexOf(":");
  if (colon >= 0) code = code.slice(0, colon);
  code = code.trim();
  return /^[A-Za-z0-9_.]{1,100}$/.test(code) ? code : undefined;
}

// Server time quoted in Kinesis' skew messages: "(20260101T003000Z - 15 min.)".
function serverTimeFromMessage(message: string): number | undefined {
  const m = /\((\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z [+-] 15 min\.\)/.exec(message);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isFinite(t) ? t : undefined;
}

// Numbers above 1e11 can only be epoch milliseconds (1e11 s is the year 5138):
// kinesis-mock's CBOR sends untagged milliseconds, JSON sends float seconds.
function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === "number" && Number.isFinite(v)) {
    return new Date(Math.abs(v) > 1e11 ? v : v * 1000);
  }
  return undefined;
}

function optString(o: WireObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

function optNumber(o: WireObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}

function optObject(o: WireObject, key: string): WireObject | undefined {
  const v = o[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? v as WireObject
    : undefined;
}

class ShapeError extends Error {}

function reqString(o: WireObject, key: string): string {
  const v = optString(o, key);
  if (v === undefined) throw new ShapeError(`missing string ${key}`);
  return v;
}

function reqObject(o: WireObject, key: string): WireObject {
  const v = optObject(o, key);
  if (v === undefined) throw new ShapeError(`missing object ${key}`);
  return v;
}

function streamParams(t: StreamTarget, what: string): WireObject {
  if (!t.streamName && !t.streamARN) {
    throw new TypeError(`Cannot ${what} without a stream: pass streamName or streamARN`);
  }
  return { StreamName: t.streamName, StreamARN: t.streamARN };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface Attempt {
  ok: boolean;
  value?: WireObject;
  error?: KinesisError;
  /** Server clock in epoch ms, from `Date` or the skew message. */
  serverTime?: number;
}

/**
 * A Kinesis Data Streams client for Deno, Bun, Node ≥ 20 and Workers.
 *
 * Credentials live in a private field; `inspect`, `JSON.stringify` and
 * `toString` show only region, endpoint and protocol.
 *
 * @example Put one record
 * ```ts ignore
 * import { KinesisClient } from "./kinesis_client.ts";
 * const client = new KinesisClient({
 *   region: "eu-west-1",
 *   credentials: { accessKeyId: "AKID…", secretAccessKey: "…" },
 * });
 * const { shardId } = await client.putRecord({
 *   streamName: "events",
 *   partitionKey: "a",
 *   data: new TextEncoder().encode("hello"),
 * });
 * ```
 */
export class KinesisClient {
  /** Signing region. */
  readonly region: string;
  /** Endpoint URL requests go to. */
  readonly endpoint: URL;
  /** Wire protocol. */
  readonly protocol: KinesisProtocol;
  readonly #credentials: CredentialProvider | AwsCredentials;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number | undefined;
  readonly #debug: DebugSink | undefined;
  readonly #signer: Signer;
  #clockOffsetMs = 0;

  /** Resolves region and endpoint now; throws a fatal `MissingRegion` {@link KinesisError} when there is no region. */
  constructor(options: KinesisClientOptions) {
    const { credentials, protocol = "json", fetch, timeoutMs, debug, hasher = "auto" } = options;
    if (typeof credentials !== "function" && !isStaticCredentials(credentials)) {
      throw new TypeError(
        "Cannot create KinesisClient without credentials: pass an object or a provider",
      );
    }
    if (protocol !== "json" && protocol !== "cbor") {
      throw new RangeError(
        `Cannot use protocol ${JSON.stringify(protocol)}: expected "json" or "cbor"`,
      );
    }
    if (timeoutMs !== undefined && !(timeoutMs > 0)) {
      throw new RangeError(`Cannot use timeoutMs as a timeout: current value is ${timeoutMs}`);
    }
    this.region = resolveRegion(options);
    this.endpoint = resolveEndpoint(this.region, options);
    this.protocol = protocol;
    this.#credentials = credentials;
    // Wrapped so Workers never call fetch with a foreign `this`.
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = timeoutMs;
    this.#debug = debugSink(debug);
    this.#signer = new Signer({ service: "kinesis", region: this.region, hasher });
  }

  /** Milliseconds added to the local clock when signing, learnt from clock-skew errors. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /**
   * Calls `action` with PascalCase wire `params` and returns the decoded
   * PascalCase response (`{}` for an empty body). Byte values (`Uint8Array`) are
   * sent as base64 (JSON) or byte strings (CBOR). Throws {@link KinesisError}.
   */
  async request(
    action: string,
    params: WireObject,
    options: RequestOptions = {},
  ): Promise<WireObject> {
    if (!/^[A-Za-z]+$/.test(action)) {
      throw new TypeError(`Cannot call action ${JSON.stringify(action)}: not an action name`);
    }
    const body = encodeBody(this.protocol, params);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs ?? defaultTimeoutMs(body.length);
    let credentials = await this.#resolveCredentials(action, false, options.signal);
    let skewRetried = false;
    let refreshed = false;
    for (let attempt = 0;; attempt++) {
      const result = await this.#attempt(action, body, credentials, options, attempt, timeoutMs);
      if (result.ok) return result.value!;
      const error = result.error!;
      if (error.kind === "clock-skew" && !skewRetried && result.serverTime !== undefined) {
        skewRetried = true;
        this.#clockOffsetMs = result.serverTime - Date.now();
        continue;
      }
      if (
        error.kind === "expired-credentials" && !refreshed &&
        typeof this.#credentials === "function"
      ) {
        refreshed = true;
        credentials = await this.#resolveCredentials(action, true, options.signal);
        continue;
      }
      throw error;
    }
  }

  /** Writes one record (one KPL aggregate) with `PutRecord`. */
  async putRecord(input: PutRecordInput, options?: RequestOptions): Promise<PutRecordOutput> {
    if (!(input.data instanceof Uint8Array)) {
      throw new TypeError("Cannot put a record: data must be a Uint8Array");
    }
    if (typeof input.partitionKey !== "string" || input.partitionKey === "") {
      throw new TypeError("Cannot put a record: partitionKey must be a non-empty string");
    }
    const out = await this.request("PutRecord", {
      ...streamParams(input, "put a record"),
      Data: input.data,
      PartitionKey: input.partitionKey,
      ExplicitHashKey: input.explicitHashKey,
      SequenceNumberForOrdering: input.sequenceNumberForOrdering,
    }, options);
    return this.#shape("PutRecord", () => ({
      shardId: reqString(out, "ShardId"),
      sequenceNumber: reqString(out, "SequenceNumber"),
      encryptionType: optString(out, "EncryptionType"),
    }));
  }

  /** Describes a stream with `DescribeStreamSummary`. */
  async describeStreamSummary(
    input: StreamTarget,
    options?: RequestOptions,
  ): Promise<StreamSummary> {
    const out = await this.request(
      "DescribeStreamSummary",
      streamParams(input, "describe a stream"),
      options,
    );
    return this.#shape("DescribeStreamSummary", () => {
      const s = reqObject(out, "StreamDescriptionSummary");
      return {
        streamName: reqString(s, "StreamName"),
        streamARN: reqString(s, "StreamARN"),
        streamStatus: reqString(s, "StreamStatus"),
        streamMode: optString(optObject(s, "StreamModeDetails") ?? {}, "StreamMode"),
        retentionPeriodHours: optNumber(s, "RetentionPeriodHours"),
        streamCreationTimestamp: toDate(s.StreamCreationTimestamp),
        openShardCount: optNumber(s, "OpenShardCount"),
        consumerCount: optNumber(s, "ConsumerCount"),
        encryptionType: optString(s, "EncryptionType"),
        keyId: optString(s, "KeyId"),
        maxRecordSizeInKiB: optNumber(s, "MaxRecordSizeInKiB"),
      };
    });
  }

  /** Lists every shard of a stream with `ListShards`, following `NextToken`. */
  async listShards(input: ListShardsInput, options?: RequestOptions): Promise<Shard[]> {
    const shards: Shard[] = [];
    const first: WireObject = {
      ...streamParams(input, "list shards"),
      ShardFilter: input.shardFilter,
      MaxResults: input.maxResults,
    };
    let params = first;
    const seen = new Set<string>();
    for (;;) {
      const out = await this.request("ListShards", params, options);
      const page = this.#shape("ListShards", () => {
        const list = out.Shards ?? [];
        if (!Array.isArray(list)) throw new ShapeError("Shards is not a list");
        return list.map((raw): Shard => {
          if (typeof raw !== "object" || raw === null) {
            throw new ShapeError("shard is not an object");
          }
          const s = raw as WireObject;
          const h = reqObject(s, "HashKeyRange");
          const q = reqObject(s, "SequenceNumberRange");
          return {
            shardId: reqString(s, "ShardId"),
            parentShardId: optString(s, "ParentShardId"),
            adjacentParentShardId: optString(s, "AdjacentParentShardId"),
            hashKeyRange: {
              startingHashKey: reqString(h, "StartingHashKey"),
              endingHashKey: reqString(h, "EndingHashKey"),
            },
            sequenceNumberRange: {
              startingSequenceNumber: reqString(q, "StartingSequenceNumber"),
              endingSequenceNumber: optString(q, "EndingSequenceNumber"),
            },
          };
        });
      });
      shards.push(...page);
      const next = optString(out, "NextToken");
      if (!next) return shards;
      // A token seen twice would loop forever: treat it as a broken server.
      if (seen.has(next)) {
        throw new KinesisError({
          code: "InvalidResponse",
          message: "ListShards repeated a NextToken",
          action: "ListShards",
          kind: "fatal",
        });
      }
      seen.add(next);
      // With NextToken, Kinesis rejects StreamName/StreamARN.
      params = { NextToken: next, MaxResults: input.maxResults };
    }
  }

  /** Gets a shard iterator with `GetShardIterator`. */
  async getShardIterator(input: GetShardIteratorInput, options?: RequestOptions): Promise<string> {
    const out = await this.request("GetShardIterator", {
      ...streamParams(input, "get a shard iterator"),
      ShardId: input.shardId,
      ShardIteratorType: input.shardIteratorType,
      StartingSequenceNumber: input.startingSequenceNumber,
      Timestamp: input.timestamp,
    }, options);
    return this.#shape("GetShardIterator", () => reqString(out, "ShardIterator"));
  }

  /** Reads one page of records with `GetRecords`. */
  async getRecords(input: GetRecordsInput, options?: RequestOptions): Promise<GetRecordsOutput> {
    const out = await this.request("GetRecords", {
      ShardIterator: input.shardIterator,
      Limit: input.limit,
      StreamARN: input.streamARN,
    }, options);
    return this.#shape("GetRecords", () => {
      const list = out.Records ?? [];
      if (!Array.isArray(list)) throw new ShapeError("Records is not a list");
      const records = list.map((raw): KinesisRecord => {
        if (typeof raw !== "object" || raw === null) {
          throw new ShapeError("record is not an object");
        }
        const r = raw as WireObject;
        // CBOR sends a byte string; JSON (and kinesis-mock's CBOR) base64 text.
        const d = r.Data;
        let data: Uint8Array;
        if (d instanceof Uint8Array) data = d;
        else if (typeof d === "string") {
          try {
            data = decodeBase64(d);
          } catch {
            throw new ShapeError("Data is not base64");
          }
        } else throw new ShapeError("missing Data");
        return {
          sequenceNumber: reqString(r, "SequenceNumber"),
          approximateArrivalTimestamp: toDate(r.ApproximateArrivalTimestamp),
          data,
          partitionKey: reqString(r, "PartitionKey"),
          encryptionType: optString(r, "EncryptionType"),
        };
      });
      return {
        records,
        nextShardIterator: optString(out, "NextShardIterator"),
        millisBehindLatest: optNumber(out, "MillisBehindLatest"),
      };
    });
  }

  /** Creates a stream with `CreateStream`; see {@link KinesisClient.waitForStreamActive}. */
  async createStream(input: CreateStreamInput, options?: RequestOptions): Promise<void> {
    if (!input.streamName) throw new TypeError("Cannot create a stream without streamName");
    const mode = input.streamMode ?? (input.shardCount === undefined ? undefined : "PROVISIONED");
    await this.request("CreateStream", {
      StreamName: input.streamName,
      ShardCount: input.shardCount,
      StreamModeDetails: mode ? { StreamMode: mode } : undefined,
      MaxRecordSizeInKiB: input.maxRecordSizeInKiB,
      Tags: input.tags,
    }, options);
  }

  /**
   * Polls `DescribeStreamSummary` until the stream is `ACTIVE` and returns its
   * summary. `ResourceNotFoundException` right after `CreateStream` counts as
   * "not yet". Throws a fatal `TimeoutError` {@link KinesisError} after `timeoutMs`.
   */
  async waitForStreamActive(input: WaitForStreamActiveInput): Promise<StreamSummary> {
    const { intervalMs = 1000, timeoutMs = 120_000, signal } = input;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const summary = await this.describeStreamSummary(input, { signal });
        if (summary.streamStatus === "ACTIVE") return summary;
      } catch (e) {
        if (
          !(e instanceof KinesisError) || (e.code !== "ResourceNotFoundException" && !e.retryable)
        ) throw e;
      }
      if (Date.now() + intervalMs > deadline) {
        throw new KinesisError({
          code: "TimeoutError",
          message: `stream did not become ACTIVE within ${timeoutMs} ms`,
          action: "DescribeStreamSummary",
          kind: "fatal",
        });
      }
      try {
        await sleep(intervalMs, signal);
      } catch (cause) {
        throw new KinesisError({
          code: "AbortError",
          message: "wait aborted",
          action: "DescribeStreamSummary",
          kind: "fatal",
          cause,
        });
      }
    }
  }

  /** A summary without secrets. */
  toString(): string {
    return `KinesisClient { region: ${this.region}, endpoint: ${this.endpoint.href}, protocol: ${this.protocol} }`;
  }

  /** A summary without secrets. */
  toJSON(): { region: string; endpoint: string; protocol: KinesisProtocol } {
    return { region: this.region, endpoint: this.endpoint.href, protocol: this.protocol };
  }

  /** Deno's `inspect`: a summary without secrets. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's and Bun's `util.inspect`: a summary without secrets. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // --- internals -------------------------------------------------------------

  #shape<T>(action: string, build: () => T): T {
    try {
      return build();
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      throw new KinesisError({
        code: "InvalidResponse",
        message: `unexpected response shape: ${e.message}`,
        action,
        kind: "fatal",
      });
    }
  }

  async #resolveCredentials(
    action: string,
    forceRefresh: boolean,
    signal?: AbortSignal,
  ): Promise<AwsCredentials> {
    const source = this.#credentials;
    let creds: AwsCredentials;
    try {
      if (signal?.aborted) throw signal.reason;
      creds = typeof source === "function"
        ? await source(forceRefresh ? { forceRefresh } : undefined)
        : source;
    } catch (cause) {
      if (signal?.aborted) {
        throw new KinesisError({
          code: "AbortError",
          message: "request aborted",
          action,
          kind: "fatal",
          cause: signal.reason,
        });
      }
      // Providers may say whether their failure is worth retrying (IMDS timeouts are).
      const retryable = (cause as { retryable?: unknown })?.retryable === true;
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new KinesisError({
        code: "CredentialsError",
        message: `cannot resolve credentials: ${message}`,
        action,
        kind: retryable ? "transient" : "fatal",
        cause,
      });
    }
    if (
      !isStaticCredentials(creds) || !creds.accessKeyId ||
      typeof creds.secretAccessKey !== "string" || !creds.secretAccessKey
    ) {
      throw new KinesisError({
        code: "CredentialsError",
        message: "credentials lack accessKeyId or secretAccessKey",
        action,
        kind: "fatal",
      });
    }
    return creds;
  }

  async #attempt(
    action: string,
    body: Uint8Array<ArrayBuffer>,
    credentials: AwsCredentials,
    options: RequestOptions,
    attempt: number,
    timeoutMs: number,
  ): Promise<Attempt> {
    const secrets = [credentials.secretAccessKey, credentials.sessionToken ?? ""];
    const started = performance.now();
    const event = (status: number, requestId?: string, error?: string) => {
      if (!this.#debug) return;
      try {
        this.#debug({
          service: "kinesis",
          action,
          status,
          durationMs: performance.now() - started,
          requestId,
          retry: (options.retry ?? 0) + attempt,
          error,
          bytes: body.length,
        });
      } catch {
        // A failing sink must not fail the call.
      }
    };
    const fail = (
      init: {
        code: string;
        message: string;
        status?: number;
        requestId?: string;
        kind?: KinesisErrorKind;
        cause?: unknown;
      },
      serverTime?: number,
    ): Attempt => {
      const error = new KinesisError({ ...init, action, secrets });
      event(init.status ?? 0, init.requestId, init.code);
      return { ok: false, error, serverTime };
    };

    let headers: Record<string, string>;
    try {
      headers = await this.#signer.sign(
        {
          method: "POST",
          url: this.endpoint,
          headers: {
            "content-type": CONTENT_TYPE[this.protocol],
            "x-amz-target": TARGET_PREFIX + action,
          },
          body,
        },
        credentials,
        new Date(Date.now() + this.#clockOffsetMs),
      );
    } catch (cause) {
      return fail({
        code: "SigningError",
        message: "cannot sign the request",
        kind: "fatal",
        cause: redactCause(cause, secrets),
      });
    }
    const signature = /Signature=([0-9a-f]+)/.exec(
      headers.authorization ?? headers.Authorization ?? "",
    )?.[1];
    if (signature) secrets.push(signature);

    // One controller per attempt: aborted by our timer or the caller's signal.
    const controller = new AbortController();
    const outer = options.signal;
    let timedOut = false;
    // setTimeout fires at once for delays past 2^31-1 ms: Infinity means no timer.
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, Math.min(timeoutMs, 2 ** 31 - 1))
      : undefined;
    const onAbort = () => controller.abort();
    if (outer?.aborted) controller.abort();
    else outer?.addEventListener("abort", onAbort, { once: true });

    const aborted = (cause: unknown): Attempt =>
      timedOut
        ? fail({
          code: "TimeoutError",
          message: `no complete response within ${timeoutMs} ms`,
          kind: "transient",
        })
        : outer?.aborted
        ? fail({
          code: "AbortError",
          message: "request aborted",
          kind: "fatal",
          cause: outer.reason,
        })
        : fail({
          code: "NetworkError",
          message: `request failed: ${describe(cause)}`,
          kind: "transient",
          cause: redactCause(cause, secrets),
        });

    try {
      let res: Response;
      try {
        res = await this.#fetch(this.endpoint.href, {
          method: "POST",
          headers,
          body,
          signal: controller.signal,
        });
      } catch (cause) {
        return aborted(cause);
      }
      const status = res.status;
      const requestId = res.headers.get("x-amzn-requestid") ?? undefined;
      const dateHeader = res.headers.get("date");
      const contentType = (res.headers.get("content-type") ?? "").toLowerCase();
      let bytes: Uint8Array | undefined;
      try {
        bytes = await readCapped(res, MAX_RESPONSE_BYTES);
      } catch (cause) {
        return aborted(cause);
      }
      if (!bytes) {
        return fail({
          code: "InvalidResponse",
          message: `response over ${MAX_RESPONSE_BYTES} bytes`,
          status,
          requestId,
          kind: "fatal",
        });
      }
      const parsed = parseBody(bytes, contentType);
      const ok = status >= 200 && status < 300;
      if (ok) {
        if (parsed.kind === "object" || parsed.kind === "empty") {
          event(status, requestId);
          return { ok: true, value: parsed.value ?? {} };
        }
        return fail({
          code: "InvalidResponse",
          message: `HTTP ${status} with ${describeBody(contentType, bytes.length)}`,
          status,
          requestId,
          kind: "fatal",
        });
      }
      const wire = parsed.value ?? {};
      const code = sanitizeCode(wire.__type) ?? sanitizeCode(wire.code) ??
        sanitizeCode(wire.Code) ??
        sanitizeCode(res.headers.get("x-amzn-errortype")) ?? `Http${status}`;
      const rawMessage = typeof wire.message === "string"
        ? wire.message
        : typeof wire.Message === "string"
        ? wire.Message
        : `HTTP ${status} with ${describeBody(contentType, bytes.length)}`;
      const dateMs = dateHeader ? Date.parse(dateHeader) : Number.NaN;
      const serverTime = Number.isFinite(dateMs) ? dateMs : serverTimeFromMessage(rawMessage);
      return fail({ code, message: rawMessage, status, requestId }, serverTime);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    }
  }
}

type Parsed = { kind: "object" | "empty" | "other"; value?: WireObject };

// Decodes by content type, sniffing JSON when the type is missing or wrong
// (kinesis-mock and gateways send text/plain or HTML); never throws.
function parseBody(bytes: Uint8Array, contentType: string): Parsed {
  if (bytes.length === 0) return { kind: "empty" };
  let value: unknown;
  try {
    if (contentType.includes("cbor")) {
      value = decodeCbor(bytes);
    } else {
      let i = 0;
      while (
        i < bytes.length &&
        (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
      ) i++;
      if (bytes[i] !== 0x7b /* { */) return { kind: "other" };
      value = JSON.parse(textDecoder.decode(bytes));
    }
  } catch {
    return { kind: "other" };
  }
  if (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Date)
  ) {
    return { kind: "object", value: value as WireObject };
  }
  return { kind: "other" };
}

function describeBody(contentType: string, length: number): string {
  return length === 0
    ? "an empty body"
    : `an unreadable ${contentType || "untyped"} body of ${length} bytes`;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

// Causes are kept for debugging, but their messages pass through redaction too.
function redactCause(cause: unknown, secrets: readonly string[]): unknown {
  if (!(cause instanceof Error)) return redact(String(cause), secrets);
  const clean = redact(cause.message, secrets);
  if (clean === cause.message) return cause;
  const copy = new Error(clean);
  copy.name = cause.name;
  return copy;
}
