/**
 * What the producer learns from the stream before its first put call
 * (`DescribeStreamSummary`, and `ListShards` for keyed mode's shard map), and
 * the decisions it takes from that: aggregate or not, the record limit, the
 * map. One describe at a time (single flight); refreshes are rate-limited.
 * @module
 */
import type {
  ListShardsInput,
  RequestOptions,
  Shard,
  StreamSummary,
  StreamTarget,
} from "../aws/kinesis_types.ts";
import { ShardMap } from "../format/shard_map.ts";

function isAccessDenied(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "AccessDeniedException";
}

/** The calls stream awareness needs; a client without them skips the check. */
export interface StreamFactsClient {
  /** `DescribeStreamSummary`. */
  describeStreamSummary?(input: StreamTarget, options?: RequestOptions): Promise<StreamSummary>;
  /** `ListShards`, following `NextToken`. */
  listShards?(input: ListShardsInput, options?: RequestOptions): Promise<Shard[]>;
}

/** How the describe call went. */
export type StreamCheck =
  /** Not made yet. */
  | "pending"
  /** The stream answered. */
  | "checked"
  /** `AccessDeniedException`: the caller lacks `kinesis:DescribeStreamSummary`. */
  | "denied"
  /** Another error (network, unknown action on a stand-in): nothing learned. */
  | "failed"
  /** The client has no `describeStreamSummary` (a custom client). */
  | "unsupported"
  /** Not needed: aggregation given as on/off, no strict order, no shard listing. */
  | "skipped";

/** What the producer knows about its stream; exposed in stats as `stream`. */
export interface StreamFacts {
  /** How the describe call went. */
  check: StreamCheck;
  /** `StreamStatus`, when described. */
  status?: string;
  /** `PROVISIONED` or `ON_DEMAND`, when described. */
  mode?: string;
  /** `OpenShardCount`, when described. */
  openShardCount?: number;
  /** `RecordDistributionStrategy`: `AUTO` means the service places records itself. */
  recordDistributionStrategy?: string;
  /** `MaxRecordSizeInKiB`, when described. */
  maxRecordSizeInKiB?: number;
  /** Whether records are aggregated now. */
  aggregating: boolean;
  /** Keyed mode: open shards in the map in use (0: none, grouping by hash range). */
  mapShards: number;
  /** How the last shard listing went: `"listed"`, `"denied"`, `"failed"` or `"none"`. */
  listing: "listed" | "denied" | "failed" | "none";
  /** Describes and listings made. */
  refreshes: number;
  /** Put answers that named a shard other than the predicted one. */
  wrongShard: number;
  /** User records sent again because KCL would drop the aggregate that held them. */
  recordsResent: number;
}

/** The facts before anything is known. */
export function initialFacts(aggregating: boolean): StreamFacts {
  return {
    check: "pending",
    aggregating,
    mapShards: 0,
    listing: "none",
    refreshes: 0,
    wrongShard: 0,
    recordsResent: 0,
  };
}

/** A setting that contradicts the stream: thrown to `put`, and reported. */
export class StreamConfigurationError extends Error {
  /** Machine-readable reason. */
  readonly code: "OrderingOnAutoStream" | "MaxRecordBytesAboveStream";
  /** Fixing the configuration is the only cure. */
  readonly retryable = false;

  /** `message` names both the setting and what the stream says. */
  constructor(code: StreamConfigurationError["code"], message: string) {
    super(message);
    this.name = "StreamConfigurationError";
    this.code = code;
  }
}

/** What the caller asked for, for {@link decide}. */
export interface StreamWishes {
  /** `"auto"`, `"on"` or `"off"`. */
  aggregation: "auto" | "on" | "off";
  /** Strict ordering (SequenceNumberForOrdering). */
  ordered: boolean;
  /** The caller's `maxRecordBytes`, if set. */
  maxRecordBytes: number | undefined;
}

/** The settings to apply once the stream is described. */
export interface StreamDecision {
  /** Aggregate user records (else send each on its own). */
  aggregate: boolean;
  /** The record limit to use, in bytes (data + partition key). */
  maxRecordBytes: number | undefined;
  /** A configuration error: every record is refused with it. */
  error?: StreamConfigurationError;
  /** Said once through the warning sink. */
  warnings: string[];
}

const KIB = 1024;

/**
 * Decides from `summary` (or its absence) how to send. Pure: the rules of
 * issue 12 in one place.
 */
export function decide(
  wishes: StreamWishes,
  check: StreamCheck,
  summary: StreamSummary | undefined,
): StreamDecision {
  const warnings: string[] = [];
  const auto = summary?.recordDistributionStrategy === "AUTO";
  let aggregate = wishes.aggregation !== "off";
  let error: StreamConfigurationError | undefined;
  if (auto && wishes.aggregation === "auto") {
    aggregate = false;
    warnings.push(
      "stream places records itself (RecordDistributionStrategy AUTO): sending records unaggregated, since KCL drops aggregates whose records hash outside the storing shard",
    );
  }
  if (auto && wishes.ordered) {
    error = new StreamConfigurationError(
      "OrderingOnAutoStream",
      "Cannot keep strict order (concurrency 1 with a fixed partitionKey) on a stream with RecordDistributionStrategy AUTO: it rejects SequenceNumberForOrdering; raise concurrency or drop partitionKey",
    );
  }
  if (check === "denied" && wishes.aggregation === "auto") {
    warnings.push(
      "could not check how the stream places records (kinesis:DescribeStreamSummary denied): aggregating anyway; if the stream uses RecordDistributionStrategy AUTO, consumers drop the aggregates: grant the permission or set aggregation",
    );
  } else if (check === "failed" && wishes.aggregation === "auto") {
    warnings.push(
      "could not describe the stream: aggregating anyway; the stats say stream.check = failed",
    );
  }
  let maxRecordBytes = wishes.maxRecordBytes;
  const streamMax = summary?.maxRecordSizeInKiB !== undefined
    ? summary.maxRecordSizeInKiB * KIB
    : undefined;
  if (streamMax !== undefined) {
    if (maxRecordBytes === undefined) maxRecordBytes = streamMax;
    else if (maxRecordBytes > streamMax && !error) {
      error = new StreamConfigurationError(
        "MaxRecordBytesAboveStream",
        `Cannot use maxRecordBytes ${maxRecordBytes}: the stream's MaxRecordSizeInKiB is ${
          summary!.maxRecordSizeInKiB
        } (${streamMax} bytes)`,
      );
    }
  }
  return { aggregate, maxRecordBytes, error, warnings };
}

/**
 * Whether a put call's error says the facts may be stale: a
 * `ValidationException` on size (the stream's `MaxRecordSizeInKiB` may have
 * been lowered since it was described), or an `InvalidArgumentException`
 * on `SequenceNumberForOrdering` (the stream may have become `AUTO`; only
 * strict-ordering mode sends it, so there any such error counts).
 */
export function staleFactsHint(error: unknown, ordered: boolean): "size" | "ordering" | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : "";
  if (code === "ValidationException" && /size|length|large/i.test(text)) return "size";
  if (code === "InvalidArgumentException" && (ordered || /SequenceNumberForOrdering/i.test(text))) {
    return "ordering";
  }
  return undefined;
}

/** Settings of {@link StreamDescriber}. */
export interface StreamDescriberOptions {
  /** Whether to list the open shards too (keyed mode with `shards: "auto"`). */
  listShards: boolean;
  /** The clock, for the refresh rate limit. */
  now: () => number;
  /**
   * Least time between two refreshes after the first describe.
   * @default {5000}
   */
  minRefreshMs?: number;
  /** Cancels calls on close. */
  signal?: AbortSignal;
}

/** One description of the stream: the summary and the map, each possibly missing. */
export interface StreamSnapshot {
  /** How the describe went. */
  check: StreamCheck;
  /** The summary, when described. */
  summary?: StreamSummary;
  /** The open shards, when listed. */
  map?: ShardMap;
  /** How listing went. */
  listing: StreamFacts["listing"];
}

/**
 * Describes (and lists) the stream. {@link describe} runs once and is shared;
 * {@link refresh} describes again unless the last one is recent, and shares a
 * refresh under way.
 */
export class StreamDescriber {
  readonly #client: StreamFactsClient;
  readonly #target: StreamTarget;
  readonly #o: Required<Omit<StreamDescriberOptions, "signal">> & { signal?: AbortSignal };
  #inFlight: Promise<StreamSnapshot> | undefined;
  #first: Promise<StreamSnapshot> | undefined;
  #lastAt = -Infinity;
  /** Calls made (describe + list). */
  calls = 0;

  /** Makes no call until {@link describe}. */
  constructor(client: StreamFactsClient, target: StreamTarget, options: StreamDescriberOptions) {
    this.#client = client;
    this.#target = target;
    this.#o = { minRefreshMs: 5000, ...options };
  }

  /** Lists the open shards too from the next description on (a caller's map proved stale). */
  listShardsFromNowOn(): void {
    this.#o.listShards = true;
  }

  /** The first description, made once. */
  describe(): Promise<StreamSnapshot> {
    this.#first ??= this.#run();
    return this.#first;
  }

  /**
   * A fresh description, or `undefined` when the last one is younger than
   * `minRefreshMs` (the answer would be the same) and not `force`d (a shard
   * the map does not know proves it stale). Concurrent callers share one.
   */
  refresh(force = false): Promise<StreamSnapshot> | undefined {
    if (this.#inFlight) return this.#inFlight;
    if (!force && this.#o.now() - this.#lastAt < this.#o.minRefreshMs) return undefined;
    return this.#run();
  }

  #run(): Promise<StreamSnapshot> {
    const run = this.#snapshot().finally(() => {
      this.#lastAt = this.#o.now();
      if (this.#inFlight === run) this.#inFlight = undefined;
    });
    this.#inFlight = run;
    return run;
  }

  async #snapshot(): Promise<StreamSnapshot> {
    const client = this.#client;
    const request = { signal: this.#o.signal };
    const out: StreamSnapshot = { check: "unsupported", listing: "none" };
    if (client.describeStreamSummary) {
      try {
        this.calls++;
        out.summary = await client.describeStreamSummary(this.#target, request);
        out.check = "checked";
      } catch (error) {
        out.check = isAccessDenied(error) ? "denied" : "failed";
      }
    }
    // An AUTO stream ignores keys: a map would only mislead.
    const auto = out.summary?.recordDistributionStrategy === "AUTO";
    if (this.#o.listShards && client.listShards && !auto) {
      try {
        this.calls++;
        const shards = await client.listShards(
          { ...this.#target, shardFilter: { Type: "AT_LATEST" } },
          request,
        );
        out.map = new ShardMap(shards);
        out.listing = "listed";
      } catch (error) {
        out.listing = isAccessDenied(error) ? "denied" : "failed";
      }
    }
    return out;
  }
}
