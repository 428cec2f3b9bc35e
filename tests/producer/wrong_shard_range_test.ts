import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate, partitionKeyHash } from "../../format.ts";
import { MAX_HASH_KEY } from "../../src/format/keys.ts";
import { createEntry } from "../../src/producer/entry.ts";
import { insideShard } from "../../src/producer/stream_awareness.ts";
import { randomMap } from "../support/shard_layouts.ts";
import { bytes, rng } from "../support/random.ts";

describe("the wrong-shard rule on hash-range aggregates", () => {
  it("insideShard reads the inner explicit hash keys: a hash-range aggregate is safe on the shard of its key, a mixed one is not", () => {
    const rand = rng(21);
    const input = Array.from({ length: 400 }, (_, i) => ({
      data: bytes(rand, 20),
      partitionKey: `key-${i}`,
    }));
    // Two ranges: each aggregate holds keys whose own hashes fall all over its half.
    const aggs = aggregate(input, { keyed: true, maxOpenAggregates: 2 });
    assert.equal(aggs.length, 2);
    // A stream of 7 uneven shards: the ranges' keys spread over several shards.
    const map = randomMap(rng(4), 7);
    for (const agg of aggs) {
      const shard = map.ranges[map.indexOf(BigInt(agg.explicitHashKey!))].shardId!;
      const entry = createEntry({
        ...agg,
        explicitHashKey: agg.explicitHashKey,
        bytes: agg.size,
        cost: agg.size,
        cutAt: 0,
        shard: undefined,
      });
      assert.equal(insideShard(entry, shard, map), true, "KCL keeps it: no re-send");
      const spread = new Set(
        agg.records.map((r) => map.indexOf(partitionKeyHash(r.partitionKey!))),
      );
      assert.ok(spread.size > 1, "the records' own hashes span shards");
    }
    // The same records grouped by key hash under a stale one-shard map, then stored on 7 shards: unsafe.
    const one = [{ shardId: "s", startingHashKey: "0", endingHashKey: `${MAX_HASH_KEY}` }];
    const [stale] = aggregate(input, { keyed: true, shards: one });
    const shard = map.ranges[map.indexOf(BigInt(stale.explicitHashKey!))].shardId!;
    const entry = createEntry({
      ...stale,
      explicitHashKey: stale.explicitHashKey,
      bytes: stale.size,
      cost: stale.size,
      cutAt: 0,
      shard,
    });
    assert.equal(insideShard(entry, shard, map), false, "KCL drops it: re-send");
  });
});
