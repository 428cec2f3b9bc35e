/** Shard layouts for tests: what a stream's ListShards could answer. */
import { MAX_HASH_KEY } from "../../src/format/keys.ts";
import { type ShardHashRange, ShardMap } from "../../src/format/shard_map.ts";

/** A full map of `n` shards with random (uneven) boundaries: the aggregator never sees it. */
export function randomMap(rand: () => number, n: number): ShardMap {
  const cuts = new Set<bigint>();
  while (cuts.size < n - 1) {
    let v = 0n;
    for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
    if (v > 0n) cuts.add(v);
  }
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : 1));
  const ranges: ShardHashRange[] = [];
  let start = 0n;
  for (let i = 0; i < n; i++) {
    const end = i < n - 1 ? sorted[i] - 1n : MAX_HASH_KEY;
    ranges.push({ shardId: `shardId-${i}`, startingHashKey: `${start}`, endingHashKey: `${end}` });
    start = end + 1n;
  }
  return new ShardMap(ranges);
}
