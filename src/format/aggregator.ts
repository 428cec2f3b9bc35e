/**
 * The reducer: user records in, finished aggregates out, flushed on size or
 * count. It never emits an aggregate over the record limit, never an empty one,
 * and keeps record order (per key, in keyed mode).
 * @module
 */
import { AggregateBuilder } from "./builder.ts";
import { BufferRecycler } from "./buffer_recycler.ts";
import { RecordError, RecordTooLargeError } from "./errors.ts";
import { KeyCache } from "./key_cache.ts";
import { KeyedAggregateBuilder } from "./keyed_builder.ts";
import { utf8, validatePartitionKey } from "./keys.ts";
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_TARGET_BYTES,
  MAX_RECORD_BYTES_CEILING,
} from "./limits.ts";
import type { AggregatedRecord, UserRecord } from "./record.ts";
import { ShardMap, type ShardMapInput } from "./shard_map.ts";

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
   * Default mode: called as each aggregate opens; the explicit hash key it
   * returns (a decimal string in 0..2^128-1) places the aggregate, as the
   * outer `ExplicitHashKey` and as every inner record's, so KCL's range check
   * passes on whichever shard stores it. `undefined`: placed by the random
   * partition key. Not with `keyed`.
   */
  placeAggregate?: () => string | undefined;
  /**
   * Keyed mode: every record carries its own `partitionKey` (and optionally
   * `explicitHashKey`), and aggregates never mix records that could land on
   * different shards. Without `shards`, records are grouped by key.
   * @default {false}
   */
  keyed?: boolean;
  /**
   * Keyed mode: the stream's open shards (a {@link ShardMap}, or what it
   * accepts: ranges, or ListShards output, whose closed shards are dropped).
   * Records are then grouped by shard and each aggregate's explicit hash key is
   * the shard's starting hash key, which packs far better than grouping by key.
   * Replace it after resharding ({@link Aggregator.setShardMap}): a stale map
   * can mix keys that now live on different shards.
   */
  shards?: readonly ShardMapInput[] | ShardMap;
  /**
   * Keyed mode without `shards`: how records without an explicit hash key are
   * grouped.
   * - `"hashRange"`: by their key's hash, into as many fixed, equal ranges of
   *   the hash key space as `maxOpenAggregates` allows (a power of two, at
   *   most 65,536). Every record in such an aggregate carries the range's
   *   starting hash key as its explicit hash key, and so does the aggregate:
   *   Kinesis stores it on the shard holding that key and KCL's range check
   *   passes whatever the shard boundaries are. All records of a key share one
   *   range, so they keep one shard and their order; but a range that a shard
   *   boundary cuts lands whole on one side, so a few keys (about
   *   (shards − 1) / (2 × ranges) of them) are stored on a neighbour of the
   *   shard their own hash names, and consumers see the range's explicit hash key.
   * - `"key"`: by key, each aggregate placed by its key as Kinesis would place
   *   the record alone. Packs well only while at most `maxOpenAggregates`
   *   keys are active: past that, nearly every record ships alone.
   * Records with an explicit hash key are grouped by it either way.
   * @default {"hashRange"}
   */
  withoutMap?: "hashRange" | "key";
  /**
   * Accept a `shards` list that leaves part of the hash key space uncovered;
   * records hashing into a gap are refused with a {@link RecordError}.
   * @default {false}
   */
  allowShardGaps?: boolean;
  /**
   * Keyed mode: how many aggregates may be open at once. Opening one more ships
   * the oldest.
   * @default {1024}
   */
  maxOpenAggregates?: number;
  /**
   * Keyed mode: how many distinct keys keep their hash, shard and bytes cached.
   * Past it the cache starts over. About 60 bytes per key plus the key.
   * @default {131072}
   */
  keyCacheSize?: number;
  /**
   * Default mode: most spare aggregate buffers kept for reuse, each
   * `targetBytes` less the outer key's bytes, taken back by
   * {@link Aggregator.release}. 0 turns reuse off. Keyed mode ignores it.
   * @default {4}
   */
  spareBuffers?: number;
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
  placeAggregate: (() => string | undefined) | undefined;
  keyed: boolean;
  shardMap: ShardMap | undefined;
  withoutMap: "hashRange" | "key";
  maxOpenAggregates: number;
  keyCacheSize: number;
  spareBuffers: number;
  now: () => number;
}

function resolve(options: AggregatorOptions): Settings {
  const {
    maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
    maxRecords = Infinity,
    partitionKey,
    placeAggregate,
    keyed = false,
    shards,
    allowShardGaps = false,
    withoutMap = "hashRange",
    maxOpenAggregates = 1024,
    keyCacheSize = 131_072,
    spareBuffers = 4,
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
  if (withoutMap !== "hashRange" && withoutMap !== "key") {
    throw new RangeError(
      `Cannot set withoutMap to ${JSON.stringify(withoutMap)}: it must be "hashRange" or "key"`,
    );
  }
  if (!Number.isInteger(keyCacheSize) || keyCacheSize < 1) {
    throw new RangeError(
      `Cannot set keyCacheSize to ${keyCacheSize}: it must be a positive integer`,
    );
  }
  if (!Number.isInteger(spareBuffers) || spareBuffers < 0 || spareBuffers > 64) {
    throw new RangeError(
      `Cannot set spareBuffers to ${spareBuffers}: it must be an integer in 0..64`,
    );
  }
  if (partitionKey !== undefined) {
    if (keyed) throw new TypeError("Cannot combine a fixed partitionKey with keyed mode");
    validatePartitionKey(partitionKey);
  }
  if (shards && !keyed) throw new TypeError("Cannot use shards without keyed mode");
  if (placeAggregate && keyed) {
    throw new TypeError("Cannot combine placeAggregate with keyed mode: records place themselves");
  }
  return {
    maxRecordBytes,
    targetBytes,
    maxRecords,
    partitionKey,
    placeAggregate,
    keyed,
    shardMap: shards instanceof ShardMap
      ? shards
      : shards
      ? new ShardMap(shards, { allowGaps: allowShardGaps })
      : undefined,
    withoutMap,
    maxOpenAggregates,
    keyCacheSize,
    spareBuffers,
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
  readonly #openedAt = new WeakMap<AggregatedRecord, number>();
  // Default mode: one open aggregate. Keyed mode: one per key or shard, oldest first.
  #current: AggregateBuilder | undefined;
  readonly #open = new Map<string | number, KeyedAggregateBuilder>();
  // The open aggregate of each shard (with a map) or hash range (without), by
  // index: an array lookup instead of a Map lookup per record. Mirrors #open.
  #byShard: (KeyedAggregateBuilder | undefined)[] = [];
  // Keyed mode without a map: log2 of the number of hash ranges, and each
  // range's starting hash key (decimal), made as first needed.
  readonly #rangeBits: number;
  readonly #rangeStarts: string[] = [];
  #pendingRecords = 0;
  // Keyed mode: per-key facts (bytes, hash, shard), computed once per key.
  readonly #keys: KeyCache;
  readonly #hashKeys: KeyCache;
  #shardMap: ShardMap | undefined;
  // Starts at 1: a key cache entry with version 0 has never been placed.
  #mapVersion = 1;
  // Default mode: target-sized buffers taken back by release(), for later aggregates.
  readonly #recycler: BufferRecycler | undefined;

  /** Validates `options` up front: a bad setting throws `RangeError` or `TypeError` here. */
  constructor(options: AggregatorOptions = {}) {
    this.#s = resolve(options);
    this.#shardMap = this.#s.shardMap;
    this.#keys = new KeyCache(false, this.#s.keyCacheSize);
    this.#hashKeys = new KeyCache(true, this.#s.keyCacheSize);
    this.#rangeBits = Math.min(16, Math.floor(Math.log2(this.#s.maxOpenAggregates)));
    const s = this.#s;
    if (!s.keyed && s.spareBuffers > 0) {
      // A builder's first buffer at the target: the target less the outer key
      // (a random UUID is 36 bytes); aggregates sized otherwise are not kept.
      const keyBytes = s.partitionKey === undefined ? 36 : utf8(s.partitionKey).length;
      this.#recycler = new BufferRecycler(s.targetBytes - keyBytes, s.spareBuffers);
    }
  }

  /** The record limit in bytes this aggregator enforces. */
  get maxRecordBytes(): number {
    return this.#s.maxRecordBytes;
  }

  /** The shard map keyed mode groups by, if any. */
  get shardMap(): ShardMap | undefined {
    return this.#shardMap;
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
   * Keyed mode: groups later records by `map` (or by key, with `undefined`),
   * after finishing the aggregates open under the old map, which it returns:
   * ship them first. Keys are not hashed again.
   */
  setShardMap(map: ShardMap | undefined): AggregatedRecord[] {
    if (!this.#s.keyed) throw new TypeError("Cannot use a shard map without keyed mode");
    const out = this.flush();
    this.#shardMap = map;
    this.#mapVersion++;
    return out;
  }

  /**
   * Adds a record. Returns an aggregate that this record completed, if any
   * (at most one per call). Throws a {@link RecordError} for a record that is
   * invalid or cannot fit even alone; the aggregator is then unchanged.
   */
  add(record: UserRecord): AggregatedRecord | undefined {
    checkData(record);
    const s = this.#s;
    if (s.keyed) return this.#addKeyed(record);
    checkUnkeyed(record);
    const builder = this.#current;
    // A full builder is closed only below, after the record alone is known to fit:
    // closing it first and then throwing would drop the closed aggregate.
    if (
      builder !== undefined && builder.count < s.maxRecords &&
      builder.tryAdd(record, s.targetBytes) === 0
    ) {
      this.#pendingRecords++;
      return undefined;
    }
    // Start a fresh aggregate; check the record alone first so nothing ships early for nothing.
    const fresh = this.#newBuilder();
    const alone = fresh.tryAdd(record, s.maxRecordBytes);
    if (alone !== 0) throw new RecordTooLargeError(alone, s.maxRecordBytes);
    fresh.startedAt = s.now();
    const done = builder && builder.count > 0 ? this.#close(builder) : undefined;
    this.#current = fresh;
    this.#pendingRecords++;
    return done;
  }

  /** {@link add} in keyed mode, after the data check. */
  #addKeyed(record: UserRecord): AggregatedRecord | undefined {
    const s = this.#s;
    const keys = this.#keys;
    const hashKeys = this.#hashKeys;
    const keyId = keys.id(record.partitionKey);
    let hashKeyId = record.explicitHashKey === undefined ? -1 : hashKeys.id(record.explicitHashKey);
    const group = this.#groupOf(keyId, hashKeyId);
    if (typeof group === "number" && !this.#shardMap) hashKeyId = this.#rangeHashKey(group);
    const builder = typeof group === "number" ? this.#byShard[group] : this.#open.get(group);
    const full = s.maxRecords !== Infinity && builder !== undefined && builder.count > 0 &&
      builder.count >= s.maxRecords;
    if (
      builder && !full &&
      builder.tryAdd(record, s.targetBytes, keys, keyId, hashKeys, hashKeyId) === 0
    ) {
      this.#pendingRecords++;
      return undefined;
    }
    const fresh = this.#newKeyedBuilder(group, keyId, hashKeyId);
    const alone = fresh.tryAdd(record, s.maxRecordBytes, keys, keyId, hashKeys, hashKeyId);
    if (alone !== 0) throw new RecordTooLargeError(alone, s.maxRecordBytes);
    fresh.startedAt = s.now();
    let done = builder && builder.count > 0 ? this.#closeKeyed(group, builder) : undefined;
    this.#open.delete(group);
    this.#open.set(group, fresh);
    if (typeof group === "number") this.#byShard[group] = fresh;
    if (!done && this.#open.size > s.maxOpenAggregates) {
      const [oldestGroup, oldest] = this.#open.entries().next().value!;
      done = this.#closeKeyed(oldestGroup, oldest);
    }
    this.#pendingRecords++;
    return done;
  }

  /**
   * Throws the {@link RecordError} that {@link add} would throw for `record`,
   * without adding it: for callers that must refuse bad input before waiting.
   */
  check(record: UserRecord): void {
    checkData(record);
    let alone: number;
    if (this.#s.keyed) {
      const keyId = this.#keys.id(record.partitionKey);
      let hashKeyId = record.explicitHashKey === undefined
        ? -1
        : this.#hashKeys.id(record.explicitHashKey);
      // Placement can refuse a record too (no open shard in the map covers it).
      const group = this.#groupOf(keyId, hashKeyId);
      if (typeof group === "number" && !this.#shardMap) hashKeyId = this.#rangeHashKey(group);
      // sizeWith leaves the keys unmarked, so open aggregates keep their table indexes.
      alone = this.#newKeyedBuilder(group, keyId, hashKeyId)
        .sizeWith(record, this.#keys, keyId, this.#hashKeys, hashKeyId);
    } else {
      checkUnkeyed(record);
      alone = this.#newBuilder(true).sizeWith(record);
    }
    if (alone > this.#s.maxRecordBytes) {
      throw new RecordTooLargeError(alone, this.#s.maxRecordBytes);
    }
  }

  /** Finishes every open aggregate and returns them (never empty ones). */
  flush(): AggregatedRecord[] {
    const out: AggregatedRecord[] = [];
    if (this.#current && this.#current.count > 0) out.push(this.#build(this.#current));
    this.#current = undefined;
    for (const b of this.#open.values()) if (b.count > 0) out.push(this.#build(b));
    this.#open.clear();
    this.#byShard = [];
    this.#pendingRecords = 0;
    return out;
  }

  #close(builder: AggregateBuilder): AggregatedRecord {
    if (this.#current === builder) this.#current = undefined;
    this.#pendingRecords -= builder.count;
    return this.#build(builder);
  }

  #closeKeyed(group: string | number, builder: KeyedAggregateBuilder): AggregatedRecord {
    this.#open.delete(group);
    if (typeof group === "number") this.#byShard[group] = undefined;
    this.#pendingRecords -= builder.count;
    return this.#build(builder);
  }

  #build(builder: AggregateBuilder | KeyedAggregateBuilder): AggregatedRecord {
    const aggregate = builder.build();
    this.#openedAt.set(aggregate, builder.startedAt);
    return aggregate;
  }

  /**
   * Hands an aggregate's buffer back for a later aggregate to write into: call
   * it once nothing will read `aggregate.data` any more (it is delivered, and
   * no request, retry or report can still use it). Default mode only; up to
   * `spareBuffers` (default 4) target-sized buffers are kept, the rest left to
   * the garbage collector.
   *
   * Hazard: after this call `aggregate.data`, and every view of its bytes, may
   * change under you as later records are added. Never send, read or keep it.
   *
   * Only an aggregate this aggregator returned as a view of a buffer it
   * allocated counts. A second release of the same aggregate, an aggregate
   * from another aggregator or from keyed mode, a right-sized copy (small
   * aggregates are), or any other value is ignored: returns `false` and
   * changes nothing. `aggregate` is matched by its `data` object, so an
   * object holding the same `data` (such as a producer's entry) releases it.
   *
   * @param aggregate an aggregate from {@link add} or {@link flush} (`{ data }` suffices)
   * @returns whether the buffer was taken back
   */
  release(aggregate: Pick<AggregatedRecord, "data">): boolean {
    if (this.#recycler === undefined || aggregate === null || typeof aggregate !== "object") {
      return false;
    }
    return this.#recycler.release(aggregate.data);
  }

  /** Default mode: spare buffers held for reuse now (0 in keyed mode). */
  get spareBuffers(): number {
    return this.#recycler?.spare ?? 0;
  }

  /**
   * When (on the `now` clock) the first record of an aggregate this aggregator
   * returned went in: for latency metrics, without a clock read per record.
   */
  openedAt(aggregate: AggregatedRecord): number | undefined {
    return this.#openedAt.get(aggregate);
  }

  /**
   * The group a keyed record joins: its shard under the map (a number); else
   * its explicit hash key (a string), or its hash range (a number), or with
   * `withoutMap: "key"` its key (a string).
   */
  #groupOf(keyId: number, hashKeyId: number): string | number {
    const map = this.#shardMap;
    if (!map) {
      // Explicit hash keys route on their own, apart from partition keys.
      if (hashKeyId >= 0) return `#${this.#hashKeys.keys[hashKeyId]}`;
      if (this.#s.withoutMap === "key") return `k${this.#keys.keys[keyId]}`;
    }
    const cache = hashKeyId >= 0 ? this.#hashKeys : this.#keys;
    const id = hashKeyId >= 0 ? hashKeyId : keyId;
    // shard[id] holds the shard under a map, or the hash range without one.
    if (cache.mapVersion[id] === this.#mapVersion) return cache.shard[id];
    cache.hashOf(id);
    const h = cache.hash;
    const at = id * 4;
    let group: number;
    if (map) {
      group = map.indexOfWords(h[at], h[at + 1], h[at + 2], h[at + 3]);
      if (group < 0) {
        throw new RecordError(
          "InvalidExplicitHashKey",
          "Cannot place record: no open shard in the shard map covers its hash key",
        );
      }
    } else group = this.#rangeBits === 0 ? 0 : h[at] >>> (32 - this.#rangeBits);
    cache.shard[id] = group;
    cache.mapVersion[id] = this.#mapVersion;
    return group;
  }

  /** Id in the explicit hash key cache of hash range `range`'s starting hash key. */
  #rangeHashKey(range: number): number {
    const start = this.#rangeStarts[range] ??= (BigInt(range) << BigInt(128 - this.#rangeBits))
      .toString();
    return this.#hashKeys.id(start);
  }

  /** Default mode's next aggregate; a `probe` only sizes a record. */
  #newBuilder(probe = false): AggregateBuilder {
    const s = this.#s;
    // A probe takes the longest hash key, and spends no placement.
    const hashKey = s.placeAggregate && probe ? LONGEST_HASH_KEY : s.placeAggregate?.();
    return new AggregateBuilder(
      s.partitionKey ?? crypto.randomUUID(),
      hashKey,
      s.targetBytes,
      s.maxRecords,
      probe ? undefined : this.#recycler,
    );
  }

  #newKeyedBuilder(
    group: string | number,
    keyId: number,
    hashKeyId: number,
  ): KeyedAggregateBuilder {
    const map = this.#shardMap;
    // Any hash key inside the shard routes the aggregate there; its start is at hand.
    const outerHashKey = map && typeof group === "number"
      ? map.ranges[group].startingHashKey
      : hashKeyId >= 0
      ? this.#hashKeys.keys[hashKeyId]
      : undefined;
    const keys = this.#keys;
    return new KeyedAggregateBuilder(keys.keys[keyId], keys.byteLength[keyId], outerHashKey);
  }
}

/** 2^128 - 1: the longest explicit hash key. */
const LONGEST_HASH_KEY = "340282366920938463463374607431768211455";

function checkData(record: UserRecord): void {
  if (record === null || typeof record !== "object" || !(record.data instanceof Uint8Array)) {
    throw new RecordError("InvalidData", "Cannot aggregate record: data must be a Uint8Array");
  }
}

function checkUnkeyed(record: UserRecord): void {
  if (record.partitionKey !== undefined || record.explicitHashKey !== undefined) {
    throw new RecordError(
      "InvalidPartitionKey",
      "Cannot use a per-record partitionKey or explicitHashKey unless keyed mode is on",
    );
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
