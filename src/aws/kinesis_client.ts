/**
 * A small Kinesis Data Streams client on `fetch`: JSON 1.1 or CBOR 1.1 wire
 * protocol, SigV4, typed errors, per-request timeouts.
 *
 * This file holds the operations: each maps its camelCase input to wire
 * params, sends them through the signed {@link RequestPath}
 * (`request_path.ts`), and reads the answer with `responses.ts`. Wire codecs
 * live in `wire_codec.ts`, option and input/output types in `kinesis_types.ts`.
 * @module
 */
import { type DebugSink, debugSink } from "./debug.ts";
import { regionFromEnv } from "./credentials/env.ts";
import {
  configuredEndpoint,
  regionalEndpoint,
  resolveProfileRegion,
  resolveRegion,
} from "./endpoint.ts";
import { KinesisError } from "./errors.ts";
import type {
  CreateStreamInput,
  GetRecordsInput,
  GetRecordsOutput,
  GetShardIteratorInput,
  KinesisClientOptions,
  ListShardsInput,
  PutRecordInput,
  PutRecordOutput,
  PutRecordsInput,
  PutRecordsOutput,
  RequestOptions,
  Shard,
  StreamSummary,
  StreamTarget,
  WaitForStreamActiveInput,
} from "./kinesis_types.ts";
import { PUT_RECORDS_MAX_ENTRIES } from "./request_limits.ts";
import { isStaticCredentials, RequestPath } from "./request_path.ts";
import {
  invalidPutRecords,
  readGetRecords,
  readPutRecord,
  readPutRecords,
  readShardsPage,
  readStreamSummary,
  shaped,
} from "./responses.ts";
import { nodeHttpFetch } from "../runtime/node_http_fetch.ts";
import { Signer } from "./signer.ts";
import type { KinesisProtocol, WireObject } from "./wire_codec.ts";
import { optString, reqString } from "./wire_shape.ts";

export * from "./kinesis_types.ts";
export { encodeBody, type KinesisProtocol, type WireObject } from "./wire_codec.ts";
export { defaultTimeoutMs } from "./request_path.ts";

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

/**
 * A Kinesis Data Streams client for Deno, Bun, Node ≥ 20 and Workers.
 *
 * Credentials live in a private field; `inspect`, `JSON.stringify` and
 * `toString` show only region, endpoint and protocol.
 *
 * @example Put one record
 * ```ts ignore
 * import { KinesisClient } from "@kpl/kinesis-producer/aws";
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
  /** Wire protocol. */
  readonly protocol: KinesisProtocol;
  #region: string | undefined;
  #endpoint: URL | undefined;
  #path: RequestPath | undefined;
  // The first call's profile lookup, shared by concurrent calls (and its failure by later ones).
  #resolving: Promise<RequestPath> | undefined;
  readonly #build: (region: string, endpoint: URL) => RequestPath;
  readonly #debug: DebugSink | undefined;

  /**
   * Resolves region and endpoint now from `region`, `AWS_REGION` or
   * `AWS_DEFAULT_REGION`; without them, from the shared config profile on the
   * first call. Throws a fatal `InvalidRegion` / `InvalidEndpoint`
   * {@link KinesisError} for a malformed explicit value, `TypeError` /
   * `RangeError` for bad options.
   */
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
    this.protocol = protocol;
    this.#debug = debugSink(debug);
    // Node: node:http (no body copy, no web streams; see node_http_fetch.ts). Elsewhere the
    // global fetch, wrapped so Workers never call it with a foreign `this`.
    const nodeHttp = fetch ? undefined : nodeHttpFetch();
    const fetchFn = fetch ?? nodeHttp ?? ((input, init) => globalThis.fetch(input, init));
    // Bodies are reused only where the transport is done with them when the call ends:
    // the node:http adapter, and Deno's fetch (it copies the body when called).
    const reuseBodies = !fetch &&
      (nodeHttp !== undefined || (globalThis as { Deno?: unknown }).Deno !== undefined);
    this.#build = (region, endpoint) =>
      new RequestPath({
        endpoint,
        protocol,
        credentials,
        fetch: fetchFn,
        timeoutMs,
        debug: this.#debug,
        signer: new Signer({ service: "kinesis", region, hasher }),
        reuseBodies,
      });
    this.#endpoint = configuredEndpoint(options);
    if (options.region !== undefined || regionFromEnv() !== undefined) {
      this.#region = resolveRegion(options);
      this.#endpoint ??= regionalEndpoint(this.#region);
      this.#path = this.#build(this.#region, this.#endpoint);
    }
  }

  /** Signing region; `undefined` until the first call when it comes from the shared config profile. */
  get region(): string | undefined {
    return this.#region;
  }

  /** Endpoint URL requests go to; `undefined` until the first call when the region comes from the profile and no endpoint is set. */
  get endpoint(): URL | undefined {
    return this.#endpoint;
  }

  /** Milliseconds added to the local clock when signing, learnt from clock-skew errors. */
  get clockOffsetMs(): number {
    return this.#path?.clockOffsetMs ?? 0;
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
    const path = this.#path ?? await (this.#resolving ??= this.#fromProfile());
    return path.call(action, params, options);
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
    return readPutRecord(out);
  }

  /**
   * Writes up to 500 records with one `PutRecords`. Kinesis answers per entry,
   * in request order: a `shardId`/`sequenceNumber`, or an `errorCode` and
   * `errorMessage` (`ProvisionedThroughputExceededException`, `InternalFailure`,
   * …) under HTTP 200; retry only the failed entries.
   *
   * A response whose `Records` does not match the request one to one, or that
   * cannot be read, throws a retryable `InvalidResponse` {@link KinesisError}
   * for the whole call: nothing is assumed stored. A `FailedRecordCount` that
   * disagrees with the entries is overruled by the entries, with a debug event
   * saying so. Throws `TypeError`/`RangeError` for an empty or over-long list.
   */
  async putRecords(input: PutRecordsInput, options?: RequestOptions): Promise<PutRecordsOutput> {
    const entries = input.records;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new TypeError("Cannot put records: records must be a non-empty array");
    }
    if (entries.length > PUT_RECORDS_MAX_ENTRIES) {
      throw new RangeError(
        `Cannot put ${entries.length} records in one PutRecords: at most ${PUT_RECORDS_MAX_ENTRIES}`,
      );
    }
    const wire = entries.map((e, i): WireObject => {
      if (!(e?.data instanceof Uint8Array)) {
        throw new TypeError(`Cannot put records: records[${i}].data must be a Uint8Array`);
      }
      if (typeof e.partitionKey !== "string" || e.partitionKey === "") {
        throw new TypeError(
          `Cannot put records: records[${i}].partitionKey must be a non-empty string`,
        );
      }
      return { Data: e.data, PartitionKey: e.partitionKey, ExplicitHashKey: e.explicitHashKey };
    });
    const params = { ...streamParams(input, "put records"), Records: wire };
    let out: WireObject;
    try {
      out = await this.request("PutRecords", params, options);
    } catch (e) {
      // An unreadable 2xx answer says nothing about what was stored: retry the call.
      if (e instanceof KinesisError && e.code === "InvalidResponse" && e.status < 300) {
        throw invalidPutRecords(e.message.replace(/^PutRecords: InvalidResponse: /, ""), e);
      }
      throw e;
    }
    const { output, reported } = readPutRecords(out, entries.length);
    if (reported !== output.failedRecordCount && this.#debug) {
      try {
        this.#debug({
          service: "kinesis",
          action: "PutRecords",
          status: 200,
          durationMs: 0,
          retry: options?.retry ?? 0,
          note: `FailedRecordCount ${reported} disagrees with ${output.failedRecordCount} ` +
            "failed entries; trusting the entries",
        });
      } catch {
        // A failing sink must not fail the call.
      }
    }
    return output;
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
    return readStreamSummary(out);
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
      const page = readShardsPage(out);
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
    return shaped("GetShardIterator", () => reqString(out, "ShardIterator"));
  }

  /** Reads one page of records with `GetRecords`. */
  async getRecords(input: GetRecordsInput, options?: RequestOptions): Promise<GetRecordsOutput> {
    const out = await this.request("GetRecords", {
      ShardIterator: input.shardIterator,
      Limit: input.limit,
      StreamARN: input.streamARN,
    }, options);
    return readGetRecords(out);
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
    return `KinesisClient { region: ${this.#region ?? "(from profile)"}, endpoint: ${
      this.#endpoint?.href ?? "(regional)"
    }, protocol: ${this.protocol} }`;
  }

  /** A summary without secrets. */
  toJSON(): { region?: string; endpoint?: string; protocol: KinesisProtocol } {
    return { region: this.#region, endpoint: this.#endpoint?.href, protocol: this.protocol };
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

  async #fromProfile(): Promise<RequestPath> {
    const region = await resolveProfileRegion();
    this.#region = region;
    this.#endpoint ??= regionalEndpoint(region);
    return this.#path = this.#build(region, this.#endpoint);
  }
}
