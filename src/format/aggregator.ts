/**
 * The reducer: user records in, finished aggregates out, flushed on size or
 * count. It never emits an aggregate over the record limit, never an empty one,
 * and keeps record order (per key, in keyed mode).
 * @module
 */
import { AggregateBuilder } from "./builder.ts";
import { RecordError, RecordTooLargeError } from "./errors.ts";
import { partitionKeyHash, validateExplicitHashKey, validatePartitionKey } from "./keys.ts";
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_TARGET_BYTES,
  MAX_RECORD_BYTES_CEILING,
} from "./limits.ts";
import type { AggregatedRecord, UserRecord } from "./record.ts";
import { type ShardHashRange, ShardMap } from "./shard_map.ts";

/** Options for {@link Aggregator} and {@link aggregate}. */
export interface AggregatorOptions {
  /**
   * The stream's record limit in bytes (data + partition key). Raise it only for
   * streams that opted in to larger records; at most 10 MiB.
   * @default {1048576}
   */
  maxRecordBytes?: number;
  /**
   * An aggregate is finished once the next record would take it past this size.
   * A single record larger than this still ships alone, up to `maxRecordBytes`.
   * @default {250000}
   */
  targetBytes?: number;
  /**
   * Most user records per aggregate.
   * @default {Infinity}
   */
  maxRecords?: number;
  /**
   * A fixed outer partition key for every aggregate (the seed's
   * `fixed_partition_key`). Unset: a random UUID per aggregate. Not with `keyed`.
   */
  partitionKey?: string;
  /**
   * Keyed mode: every record carries its own `partitionKey` (and optionally
   * `explicitHashKey`), and aggregates never mix records that could land on
   * different shards. Without `shards`, records are grouped by key.
   * @default {false}
   */
  keyed?: boolean;
  /**
   * Keyed mode: the stream's open shard hash ranges (from ListShards). Records
   * are then grouped by shard and each aggregate's explicit hash key is set
   * inside that shard, which packs far better than grouping by key. Refresh it
   * after resharding: a stale map can mix keys that now live on different shards.
   */
  shards?: readonly ShardHashRange[];
  /**
   * Keyed mode: how many aggregates may be open at once. Opening one more ships
   * the oldest.
   * @default {1024}
   */
  maxOpenAggregates?: number;
  /**
   * The clock that stamps when an aggregate got its first record, in ms.
   * @default {performance.now}
   */
  now?: () => number;
}

/** Resolved, validated aggregator settings. */
interface Settings {
  maxRecordBytes: number;
  targetBytes: number;
  maxRecords: number;
  partitionKey: string | undefined;
  keyed: boolean;
  shardMap: ShardMap | undefined;
  maxOpenAggregates: number;
  now: () => number;
}

function resolve(options: AggregatorOptions): Settings {
  const {
    maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
    maxRecords = Infinity,
    partitionKey,
    keyed = false,
    shards,
    maxOpenAggregates = 1024,
    now = () => performance.now(),
  } = options;
  const { targetBytes = Math.min(DEFAULT_TARGET_BYTES, maxRecordBytes) } = options;
  if (
    !Number.isInteger(maxRecordBytes) || maxRecordBytes < 1024 ||
    maxRecordBytes > MAX_RECORD_BYTES_CEILING
  ) {
    throw new RangeError(
      `Cannot set maxRecordBytes to ${maxRecordBytes}: it must be an integer in 1024..${MAX_RECORD_BYTES_CEILING}`,
    );
  }
  if (!Number.isInteger(targetBytes) || targetBytes < 1 || targetBytes > maxRecordBytes) {
    throw new RangeError(
      `Cannot set targetBytes to ${targetBytes}: it must be an integer in 1..maxRecordBytes (${maxRecordBytes})`,
    );
  }
  if (!(maxRecords >= 1)) {
    throw new RangeError(`Cannot set maxRecords to ${maxRecords}: it must be at least 1`);
  }
  if (!(maxOpenAggregates >= 1)) {
    throw new RangeError(
      `Cannot set maxOpenAggregates to ${maxOpenAggregates}: it must be at least 1`,
    );
  }
  if (partitionKey !== undefined) {
    if (keyed) throw new TypeError("Cannot combine a fixed partitionKey with keyed mode");
    validatePartitionKey(partitionKey);
  }
  if (shards && !keyed) throw new TypeError("Cannot use shards without keyed mode");
  return {
    maxRecordBytes,
    targetBytes,
    maxRecords,
    partitionKey,
    keyed,
    shardMap: shards ? new ShardMap(shards) : undefined,
    maxOpenAggregates,
    now,
  };
}

/**
 * Turns user records into KPL aggregates incrementally.
 *
 * @example Ship aggregates as they fill
 * ```ts
 * import { Aggregator } from "@kpl/kinesis-producer/format";
 * const agg = new Aggregator({ targetBytes: 64 * 1024 });
 * const ready = [];
 * for (let i = 0; i < 1000; i++) {
 *   const done = agg.add({ data: new TextEncoder().encode(`event ${i}`) });
 *   if (done) ready.push(done);
 * }
 * ready.push(...agg.flush());
 * ```
 */
export class Aggregator {
  readonly #s: Settings;
  // Default mode: one open aggregate. Keyed mode: one per key or shard, oldest first.
  #current: AggregateBuilder | undefined;
  readonly #open = new Map<string | number, AggregateBuilder>();
  // Shard of recent partition keys: keys repeat, and MD5 plus bisection per
  // record was the largest cost of keyed packing with a shard map (profiled,
  // 64 shards, 10,000 keys).
  readonly #shardOfKey = new Map<string, number>();
  #pendingRecords = 0;

  /** Validates `options` up front: a bad setting throws `RangeError` or `TypeError` here. */
  constructor(options: AggregatorOptions = {}) {
    this.#s = resolve(options);
  }

  /** The record limit in bytes this aggregator enforces. */
  get maxRecordBytes(): number {
    return this.#s.maxRecordBytes;
  }

  /** User records waiting in open aggregates. */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /** When (on the `now` clock) the oldest waiting record went in, or `undefined` if none waits. */
  get oldestPendingAt(): number | undefined {
    if (this.#pendingRecords === 0) return undefined;
    if (!this.#s.keyed) return this.#current!.startedAt;
    let oldest = Infinity;
    for (const b of this.#open.values()) {
      if (b.count > 0 && b.startedAt < oldest) oldest = b.startedAt;
    }
    return oldest;
  }

  /**
   * Adds a record. Returns an aggregate that this record completed, if any
   * (at most one per call). Throws a {@link RecordError} for a record that is
   * invalid or cannot fit even alone; the aggregator is then unchanged.
   */
  add(record: UserRecord): AggregatedRecord | undefined {
    this.#validate(record);
    const s = this.#s;
    let group: string | number = 0;
    let builder: AggregateBuilder | undefined;
    if (s.keyed) {
      group = this.#groupOf(record);
      builder = this.#open.get(group);
    } else {
      builder = this.#current;
    }

    let done: AggregatedRecord | undefined;
    // A full builder is closed only below, after the record alone is known to fit:
    // closing it first and then throwing would drop the closed aggregate.
    const full = builder !== undefined && builder.count > 0 && builder.count >= s.maxRecords;
    if (builder && !full && builder.tryAdd(record, s.targetBytes) === 0) {
      this.#pendingRecords++;
      return undefined;
    }
    // Start a fresh aggregate; check the record alone first so nothing ships early for nothing.
    const fresh = this.#newBuilder(record);
    const alone = fresh.tryAdd(record, s.maxRecordBytes);
    if (alone !== 0) throw new RecordTooLargeError(alone, s.maxRecordBytes);
    fresh.startedAt = s.now();
    if (builder && builder.count > 0) done = this.#close(group, builder);
    if (s.keyed) {
      this.#open.delete(group);
      this.#open.set(group, fresh);
      if (!done && this.#open.size > s.maxOpenAggregates) {
        const [oldestGroup, oldest] = this.#open.entries().next().value!;
        done = this.#close(oldestGroup, oldest);
      }
    } else {
      this.#current = fresh;
    }
    this.#pendingRecords++;
    return done;
  }

  /**
   * Throws the {@link RecordError} that {@link add} would throw for `record`,
   * without adding it: for callers that must refuse bad input before waiting.
   */
  check(record: UserRecord): void {
    this.#validate(record);
    // Placement can refuse a record too (no open shard in the map covers it).
    if (this.#s.keyed) this.#groupOf(record);
    const alone = this.#newBuilder(record).tryAdd(record, this.#s.maxRecordBytes);
    if (alone !== 0) throw new RecordTooLargeError(alone, this.#s.maxRecordBytes);
  }

  /** Finishes every open aggregate and returns them (never empty ones). */
  flush(): AggregatedRecord[] {
    const out: AggregatedRecord[] = [];
    if (this.#current && this.#current.count > 0) out.push(this.#current.build());
    this.#current = undefined;
    for (const b of this.#open.values()) if (b.count > 0) out.push(b.build());
    this.#open.clear();
    this.#pendingRecords = 0;
    return out;
  }

  #close(group: string | number, builder: AggregateBuilder): AggregatedRecord {
    if (this.#s.keyed) this.#open.delete(group);
    else if (this.#current === builder) this.#current = undefined;
    this.#pendingRecords -= builder.count;
    return builder.build();
  }

  #validate(record: UserRecord): void {
    if (record === null || typeof record !== "object" || !(record.data instanceof Uint8Array)) {
      throw new RecordError("InvalidData", "Cannot aggregate record: data must be a Uint8Array");
    }
    if (this.#s.keyed) {
      validatePartitionKey(record.partitionKey);
      if (record.explicitHashKey !== undefined) validateExplicitHashKey(record.explicitHashKey);
    } else if (record.partitionKey !== undefined || record.explicitHashKey !== undefined) {
      throw new RecordError(
        "InvalidPartitionKey",
        "Cannot use a per-record partitionKey or explicitHashKey unless keyed mode is on",
      );
    }
  }

  #groupOf(record: UserRecord): string | number {
    const map = this.#s.shardMap;
    if (map) {
      const cached = record.explicitHashKey === undefined
        ? this.#shardOfKey.get(record.partitionKey!)
        : undefined;
      if (cached !== undefined) return cached;
      const hash = record.explicitHashKey !== undefined
        ? BigInt(record.explicitHashKey)
        : partitionKeyHash(record.partitionKey!);
      const shard = map.indexOf(hash);
      if (shard >= 0 && record.explicitHashKey === undefined) {
        if (this.#shardOfKey.size >= 16_384) this.#shardOfKey.clear();
        this.#shardOfKey.set(record.partitionKey!, shard);
      }
      if (shard < 0) {
        throw new RecordError(
          "InvalidExplicitHashKey",
          "Cannot place record: no open shard in the shard map covers its hash key",
        );
      }
      return shard;
    }
    // Explicit hash keys route on their own, apart from partition keys.
    return record.explicitHashKey !== undefined
      ? `#${record.explicitHashKey}`
      : `k${record.partitionKey}`;
  }

  #newBuilder(record: UserRecord): AggregateBuilder {
    const s = this.#s;
    if (!s.keyed) {
      return new AggregateBuilder(s.partitionKey ?? crypto.randomUUID(), undefined, false);
    }
    if (s.shardMap) {
      const hash = record.explicitHashKey ?? partitionKeyHash(record.partitionKey!).toString();
      return new AggregateBuilder(record.partitionKey!, hash, true);
    }
    return new AggregateBuilder(record.partitionKey!, record.explicitHashKey, true);
  }
}

/** Options for {@link aggregate}. */
export interface AggregateOptions extends AggregatorOptions {
  /**
   * Called for each record that cannot be aggregated; the rest go on. Without
   * it, the first such record throws before anything is returned.
   */
  onRejected?: (record: UserRecord, error: RecordError, index: number) => void;
}

/**
 * Packs `records` into as few KPL aggregates as the limits allow, in order.
 * Each result is the body of one PutRecord.
 *
 * @example
 * ```ts
 * import { aggregate, deaggregate } from "@kpl/kinesis-producer";
 * const enc = new TextEncoder();
 * const [agg] = aggregate([{ data: enc.encode("a") }, { data: enc.encode("b") }]);
 * const back = deaggregate(agg.data, agg.partitionKey);
 * if (back.length !== 2) throw new Error("unexpected");
 * ```
 */
export function aggregate(
  records: readonly UserRecord[],
  options: AggregateOptions = {},
): AggregatedRecord[] {
  const { onRejected, ...rest } = options;
  const aggregator = new Aggregator(rest);
  const out: AggregatedRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    let done: AggregatedRecord | undefined;
    try {
      done = aggregator.add(records[i]);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      error.index = i;
      error.message = `Record #${i}: ${error.message}`;
      if (!onRejected) throw error;
      onRejected(records[i], error, i);
      continue;
    }
    if (done) out.push(done);
  }
  for (const done of aggregator.flush()) out.push(done);
  return out;
}
