/**
 * A Kinesis whose throttling depends on load, as a `PutRecordClient`: each
 * shard has two token buckets, bytes (data + partition key, default 1 MiB/s)
 * and records (default 1,000/s), each holding at most one second's worth.
 * An entry that finds too few tokens is refused with
 * `ProvisionedThroughputExceededException` and takes none; a PutRecord is
 * refused whole. Calls answer after `latencyMs`. Time is the given clock's.
 */
import { KinesisError } from "../../src/aws/errors.ts";
import type {
  PutRecordInput,
  PutRecordOutput,
  PutRecordsInput,
  PutRecordsOutput,
  PutRecordsRequestEntry,
  PutRecordsResultEntry,
  RequestOptions,
} from "../../src/aws/kinesis_client.ts";
import { entryBytes } from "../../src/aws/request_limits.ts";
import { partitionKeyHash } from "../../src/format/keys.ts";
import type { ShardHashRange } from "../../src/format/shard_map.ts";
import { ShardMap } from "../../src/format/shard_map.ts";
import type { PutRecordClient } from "../../src/producer/options.ts";

/** One shard's limits and counters. */
export interface FakeShard {
  /** Shard id. */
  shardId: string;
  /** Bytes per second. */
  bytesPerSecond: number;
  /** Records per second. */
  recordsPerSecond: number;
  /** Bytes stored. */
  bytes: number;
  /** Kinesis records stored. */
  records: number;
  /** Entries refused. */
  throttled: number;
  /** Stored entries' data, in order. */
  stored: Uint8Array[];
  byteTokens: number;
  recordTokens: number;
  refilledAt: number;
}

/** Options for {@link ThrottlingKinesis}. */
export interface ThrottlingKinesisOptions {
  /** Number of shards, splitting the hash space evenly. @default {4} */
  shards?: number;
  /** Per-shard byte rate. @default {1048576} */
  bytesPerSecond?: number;
  /** Per-shard record rate. @default {1000} */
  recordsPerSecond?: number;
  /** Answer delay in ms. @default {2} */
  latencyMs?: number;
  /** Time source in ms. @default {performance.now} */
  now?: () => number;
  /** Keep stored data (for checks). @default {false} */
  keep?: boolean;
  /** Per-shard overrides by index, for a hot shard (one others also write to). */
  perShard?: Record<number, { bytesPerSecond?: number; recordsPerSecond?: number }>;
}

/** Even hash ranges for `n` shards. */
export function evenShards(n: number): (ShardHashRange & { shardId: string })[] {
  const span = (1n << 128n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, "0")}`,
    startingHashKey: String(span * BigInt(i)),
    endingHashKey: String(i === n - 1 ? (1n << 128n) - 1n : span * BigInt(i + 1) - 1n),
  }));
}

/** The fake. */
export class ThrottlingKinesis implements PutRecordClient {
  readonly ranges: (ShardHashRange & { shardId: string })[];
  readonly shards: FakeShard[];
  readonly #map: ShardMap;
  readonly #latencyMs: number;
  readonly #now: () => number;
  readonly #keep: boolean;
  #seq = 0;
  /** Calls answered. */
  calls = 0;

  constructor(options: ThrottlingKinesisOptions = {}) {
    const n = options.shards ?? 4;
    this.ranges = evenShards(n);
    this.#map = new ShardMap(this.ranges);
    this.#latencyMs = options.latencyMs ?? 2;
    this.#now = options.now ?? (() => performance.now());
    this.#keep = options.keep ?? false;
    const t = this.#now();
    this.shards = this.ranges.map((r, i) => {
      const bytesPerSecond = options.perShard?.[i]?.bytesPerSecond ?? options.bytesPerSecond ??
        1_048_576;
      const recordsPerSecond = options.perShard?.[i]?.recordsPerSecond ??
        options.recordsPerSecond ?? 1000;
      return {
        shardId: r.shardId,
        bytesPerSecond,
        recordsPerSecond,
        bytes: 0,
        records: 0,
        throttled: 0,
        stored: [],
        byteTokens: bytesPerSecond,
        recordTokens: recordsPerSecond,
        refilledAt: t,
      };
    });
  }

  /** The shard an entry lands on. */
  shardOf(e: { partitionKey: string; explicitHashKey?: string }): FakeShard {
    const hash = e.explicitHashKey !== undefined
      ? BigInt(e.explicitHashKey)
      : partitionKeyHash(e.partitionKey);
    return this.shards[this.#map.indexOf(hash)];
  }

  /** Stores `e` if its shard has the tokens; returns the result entry. */
  #admit(e: PutRecordsRequestEntry): PutRecordsResultEntry {
    const shard = this.shardOf(e);
    const now = this.#now();
    const dt = Math.max(0, now - shard.refilledAt) / 1000;
    shard.refilledAt = now;
    shard.byteTokens = Math.min(shard.bytesPerSecond, shard.byteTokens + dt * shard.bytesPerSecond);
    shard.recordTokens = Math.min(
      shard.recordsPerSecond,
      shard.recordTokens + dt * shard.recordsPerSecond,
    );
    const bytes = entryBytes(e.data.length, e.partitionKey);
    if (bytes > shard.byteTokens || shard.recordTokens < 1) {
      shard.throttled++;
      return {
        errorCode: "ProvisionedThroughputExceededException",
        errorMessage: `Rate exceeded for shard ${shard.shardId}`,
      };
    }
    shard.byteTokens -= bytes;
    shard.recordTokens -= 1;
    shard.bytes += bytes;
    shard.records++;
    if (this.#keep) shard.stored.push(e.data);
    return { shardId: shard.shardId, sequenceNumber: String(++this.#seq) };
  }

  #later<T>(fn: () => T, options?: RequestOptions): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        options?.signal?.removeEventListener("abort", abort);
        this.calls++;
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      }, this.#latencyMs);
      const abort = () => {
        clearTimeout(timer);
        reject(new KinesisError({ code: "AbortError", message: "aborted", kind: "fatal" }));
      };
      options?.signal?.addEventListener("abort", abort, { once: true });
    });
  }

  putRecord(input: PutRecordInput, options?: RequestOptions): Promise<PutRecordOutput> {
    return this.#later(() => {
      const r = this.#admit(input);
      if (r.errorCode !== undefined) {
        throw new KinesisError({ code: r.errorCode, message: r.errorMessage, status: 400 });
      }
      return { shardId: r.shardId, sequenceNumber: r.sequenceNumber };
    }, options);
  }

  putRecords(input: PutRecordsInput, options?: RequestOptions): Promise<PutRecordsOutput> {
    return this.#later(() => {
      const records = input.records.map((e) => this.#admit(e));
      return {
        failedRecordCount: records.filter((r) => r.errorCode !== undefined).length,
        records,
      };
    }, options);
  }
}
