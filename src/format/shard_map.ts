/**
 * Which shard a hash key lands on, from the stream's shard hash ranges.
 * @module
 */

/** A shard's hash key range, as ListShards reports it (decimal strings). */
export interface ShardHashRange {
  /** The shard's id, for reporting. */
  shardId?: string;
  /** Lowest hash key of the shard, inclusive. */
  startingHashKey: string;
  /** Highest hash key of the shard, inclusive. */
  endingHashKey: string;
}

/** Open shards sorted by range, searched by bisection. */
export class ShardMap {
  readonly #starts: bigint[];
  readonly #ends: bigint[];
  /** The ranges, sorted by starting hash key. */
  readonly ranges: readonly ShardHashRange[];

  /** Sorts and indexes `ranges`; they must not overlap. */
  constructor(ranges: readonly ShardHashRange[]) {
    if (ranges.length === 0) throw new RangeError("Cannot build a shard map from zero shards");
    const sorted = [...ranges].sort((a, b) => {
      const d = BigInt(a.startingHashKey) - BigInt(b.startingHashKey);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
    this.ranges = sorted;
    this.#starts = sorted.map((r) => BigInt(r.startingHashKey));
    this.#ends = sorted.map((r) => BigInt(r.endingHashKey));
  }

  /** Index into {@link ranges} of the shard holding `hash`, or -1 if no open shard covers it. */
  indexOf(hash: bigint): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (hash < this.#starts[mid]) hi = mid - 1;
      else if (hash > this.#ends[mid]) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}
