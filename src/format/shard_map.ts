/**
 * Which shard a hash key lands on, from the stream's shard hash ranges.
 *
 * The hot path works on numbers only: a 128-bit hash key is held as four
 * big-endian 32-bit words (the MD5 digest's two 64-bit halves, each split so a
 * JS number holds it exactly), and every range bound is stored the same way in
 * one `Uint32Array`. A lookup is a bisection over those words, with no strings
 * and no `BigInt`.
 * @module
 */
import { MAX_HASH_KEY } from "./keys.ts";

/** A shard's hash key range, as ListShards reports it (decimal strings). */
export interface ShardHashRange {
  /** The shard's id, for reporting. */
  shardId?: string;
  /** Lowest hash key of the shard, inclusive. */
  startingHashKey: string;
  /** Highest hash key of the shard, inclusive. */
  endingHashKey: string;
}

/** A shard as this library's `KinesisClient.listShards` returns it. */
export interface ListedShard {
  /** The shard's id. */
  shardId: string;
  /** Its hash key range. */
  hashKeyRange: { startingHashKey: string; endingHashKey: string };
  /** Present on listed shards; `endingSequenceNumber` marks a closed shard. */
  sequenceNumberRange?: { startingSequenceNumber?: string; endingSequenceNumber?: string };
}

/** A shard as the wire and the AWS SDK v3 (`ListShardsCommand` output `Shards`) spell it. */
export interface WireShard {
  /** The shard's id. */
  ShardId?: string;
  /** Its hash key range. */
  HashKeyRange?: { StartingHashKey?: string; EndingHashKey?: string };
  /** `EndingSequenceNumber` marks a closed shard. */
  SequenceNumberRange?: { StartingSequenceNumber?: string; EndingSequenceNumber?: string };
}

/** Anything {@link ShardMap} accepts as one shard. */
export type ShardMapInput = ShardHashRange | ListedShard | WireShard;

/** Options for {@link ShardMap}. */
export interface ShardMapOptions {
  /**
   * Accept ranges that leave part of the hash key space uncovered (a map of
   * some shards only). Records that hash into a gap are then refused. Without
   * it, the ranges must cover 0..2^128−1 exactly, as a stream's open shards do.
   * @default {false}
   */
  allowGaps?: boolean;
}

/** Four big-endian 32-bit words of a 128-bit value, most significant first. */
export type HashWords = [number, number, number, number];

const MASK32 = 0xffffffffn;

/** The four 32-bit words of a 128-bit `value`. */
export function bigintToWords(value: bigint): HashWords {
  return [
    Number((value >> 96n) & MASK32),
    Number((value >> 64n) & MASK32),
    Number((value >> 32n) & MASK32),
    Number(value & MASK32),
  ];
}

/** The 128-bit value of four big-endian 32-bit words. */
export function wordsToBigint(w: readonly number[]): bigint {
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

const DECIMAL = /^(0|[1-9]\d{0,38})$/;

interface Parsed {
  shardId: string | undefined;
  start: bigint;
  end: bigint;
  closed: boolean;
  label: string;
}

function parseOne(shard: ShardMapInput, i: number): Parsed {
  if (shard === null || typeof shard !== "object") {
    throw new TypeError(`Cannot build a shard map: shard #${i} is not an object`);
  }
  let shardId: string | undefined;
  let start: unknown;
  let end: unknown;
  let closed = false;
  if ("hashKeyRange" in shard && shard.hashKeyRange) {
    shardId = shard.shardId;
    start = shard.hashKeyRange.startingHashKey;
    end = shard.hashKeyRange.endingHashKey;
    closed = shard.sequenceNumberRange?.endingSequenceNumber != null;
  } else if ("HashKeyRange" in shard && shard.HashKeyRange) {
    shardId = shard.ShardId;
    start = shard.HashKeyRange.StartingHashKey;
    end = shard.HashKeyRange.EndingHashKey;
    closed = shard.SequenceNumberRange?.EndingSequenceNumber != null;
  } else {
    const r = shard as ShardHashRange;
    shardId = r.shardId;
    start = r.startingHashKey;
    end = r.endingHashKey;
  }
  const label = shardId !== undefined ? `shard ${shardId}` : `shard #${i}`;
  const parse = (value: unknown, name: string): bigint => {
    if (typeof value !== "string" || !DECIMAL.test(value) || BigInt(value) > MAX_HASH_KEY) {
      throw new RangeError(
        `Cannot build a shard map: ${label} has ${name} ${
          JSON.stringify(value)
        }, expected a decimal in 0..2^128-1`,
      );
    }
    return BigInt(value);
  };
  const s = parse(start, "startingHashKey");
  const e = parse(end, "endingHashKey");
  if (s > e) {
    throw new RangeError(
      `Cannot build a shard map: ${label} starts at ${s}, after its end ${e}`,
    );
  }
  return { shardId, start: s, end: e, closed, label };
}

/**
 * The open shards of a stream, sorted by hash range and validated: no two
 * overlap, and (unless `allowGaps`) together they cover the whole hash key
 * space. Closed shards in ListShards-shaped input (those with an
 * `EndingSequenceNumber`) are dropped, so the output of a plain `ListShards`
 * works as is.
 *
 * @example Place a partition key
 * ```ts
 * import { ShardMap } from "@kpl/kinesis-producer/format";
 * const half = (1n << 127n).toString();
 * const map = new ShardMap([
 *   { shardId: "shardId-1", startingHashKey: half, endingHashKey: ((1n << 128n) - 1n).toString() },
 *   { shardId: "shardId-0", startingHashKey: "0", endingHashKey: ((1n << 127n) - 1n).toString() },
 * ]);
 * console.assert(map.ranges[0].shardId === "shardId-0");
 * console.assert(map.indexOf(1n << 127n) === 1);
 * ```
 */
export class ShardMap {
  /** The open shards' ranges, sorted by starting hash key. */
  readonly ranges: readonly ShardHashRange[];
  /** Whether the ranges leave part of the hash key space uncovered. */
  readonly hasGaps: boolean;
  // Range bounds as 32-bit words, 4 per shard: starts[4i..4i+3], ends likewise.
  readonly #starts: Uint32Array;
  readonly #ends: Uint32Array;

  /**
   * Validates and indexes `shards`. Throws `RangeError` for zero open shards,
   * a bad hash key, overlapping ranges (naming both shards) or, without
   * `allowGaps`, a gap (naming its neighbours); `TypeError` for a non-object.
   */
  constructor(shards: readonly ShardMapInput[], options: ShardMapOptions = {}) {
    const { allowGaps = false } = options;
    if (!Array.isArray(shards)) {
      throw new TypeError("Cannot build a shard map: expected an array of shards");
    }
    const open = shards.map(parseOne).filter((p) => !p.closed);
    if (open.length === 0) {
      throw new RangeError("Cannot build a shard map from zero open shards");
    }
    open.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let gaps = open[0].start !== 0n || open[open.length - 1].end !== MAX_HASH_KEY;
    for (let i = 1; i < open.length; i++) {
      const prev = open[i - 1];
      const cur = open[i];
      if (cur.start <= prev.end) {
        throw new RangeError(
          `Cannot build a shard map: ${prev.label} (${prev.start}..${prev.end}) overlaps ${cur.label} (${cur.start}..${cur.end}); pass open shards only (ListShards with ShardFilter AT_LATEST)`,
        );
      }
      if (cur.start !== prev.end + 1n) gaps = true;
    }
    if (gaps && !allowGaps) {
      throw new RangeError(
        `Cannot build a shard map: ${describeGap(open)}; set allowGaps to accept`,
      );
    }
    this.hasGaps = gaps;
    this.ranges = open.map((p) => ({
      ...(p.shardId !== undefined ? { shardId: p.shardId } : {}),
      startingHashKey: p.start.toString(),
      endingHashKey: p.end.toString(),
    }));
    this.#starts = new Uint32Array(open.length * 4);
    this.#ends = new Uint32Array(open.length * 4);
    for (let i = 0; i < open.length; i++) {
      this.#starts.set(bigintToWords(open[i].start), i * 4);
      this.#ends.set(bigintToWords(open[i].end), i * 4);
    }
  }

  /** Number of open shards. */
  get size(): number {
    return this.ranges.length;
  }

  /** Index into {@link ranges} of the shard holding `hash`, or -1 if no open shard covers it. */
  indexOf(hash: bigint): number {
    if (hash < 0n || hash > MAX_HASH_KEY) return -1;
    const w = bigintToWords(hash);
    return this.indexOfWords(w[0], w[1], w[2], w[3]);
  }

  /**
   * Index of the shard holding the hash key whose big-endian words are
   * `w0..w3` (each an unsigned 32-bit integer), or -1 in a gap.
   */
  indexOfWords(w0: number, w1: number, w2: number, w3: number): number {
    const starts = this.#starts;
    // The last shard whose start is <= the hash.
    let lo = 0;
    let hi = (starts.length >> 2) - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAt(starts, mid << 2, w0, w1, w2, w3) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return -1;
    if (this.hasGaps && compareAt(this.#ends, found << 2, w0, w1, w2, w3) < 0) return -1;
    return found;
  }

  /** Whether shard `index` covers the hash key `w0..w3`. */
  coversWords(index: number, w0: number, w1: number, w2: number, w3: number): boolean {
    const at = index << 2;
    return compareAt(this.#starts, at, w0, w1, w2, w3) <= 0 &&
      compareAt(this.#ends, at, w0, w1, w2, w3) >= 0;
  }

  /** Index of the shard with id `shardId`, or -1. */
  indexOfShardId(shardId: string): number {
    return this.ranges.findIndex((r) => r.shardId === shardId);
  }
}

/** Sign of (bound at `words[at..at+3]`) − (w0..w3). */
function compareAt(
  words: Uint32Array,
  at: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): number {
  let d = words[at] - w0;
  if (d !== 0) return d;
  d = words[at + 1] - w1;
  if (d !== 0) return d;
  d = words[at + 2] - w2;
  if (d !== 0) return d;
  return words[at + 3] - w3;
}

function describeGap(open: Parsed[]): string {
  if (open[0].start !== 0n) {
    return `hash keys 0..${open[0].start - 1n} are not covered (below ${open[0].label})`;
  }
  for (let i = 1; i < open.length; i++) {
    if (open[i].start !== open[i - 1].end + 1n) {
      return `hash keys ${open[i - 1].end + 1n}..${open[i].start - 1n} between ${
        open[i - 1].label
      } and ${open[i].label} are not covered`;
    }
  }
  const last = open[open.length - 1];
  return `hash keys ${last.end + 1n}..${MAX_HASH_KEY} are not covered (above ${last.label})`;
}
