import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  aggregate,
  Aggregator,
  deaggregate,
  type DeaggregatedRecord,
  partitionKeyHash,
} from "../../format.ts";
import { MAX_HASH_KEY } from "../../src/format/keys.ts";
import type { AggregatedRecord, UserRecord } from "../../src/format/record.ts";
import { ShardMap } from "../../src/format/shard_map.ts";
import { bytes, int, rng, text } from "../support/random.ts";
import { randomMap } from "../support/shard_layouts.ts";

/**
 * What Kinesis and KCL do with `agg`: Kinesis stores it on the shard holding
 * its explicit hash key (else its partition key's hash); KCL hands out its
 * records only if every inner record's hash (its explicit hash key, else its
 * partition key's MD5) lies in that shard's range, and drops the whole
 * aggregate otherwise. Returns the records KCL hands out, or undefined.
 */
function kclReads(
  map: ShardMap,
  agg: AggregatedRecord,
): { shard: number; inner: DeaggregatedRecord[] } | undefined {
  const outer = agg.explicitHashKey !== undefined
    ? BigInt(agg.explicitHashKey)
    : partitionKeyHash(agg.partitionKey);
  const shard = map.indexOf(outer);
  const inner = deaggregate(agg.data, agg.partitionKey, { strict: true });
  for (const r of inner) {
    const hash = r.explicitHashKey !== undefined
      ? BigInt(r.explicitHashKey)
      : partitionKeyHash(r.partitionKey);
    const range = map.ranges[shard];
    if (hash < BigInt(range.startingHashKey) || hash > BigInt(range.endingHashKey)) {
      return undefined;
    }
  }
  return { shard, inner };
}

describe("keyed mode without a shard map (withoutMap: hashRange, the default)", () => {
  it("KCL's range check passes on every stream layout, nothing is lost, each key keeps one shard and its order", () => {
    const rand = rng(61);
    const keys = Array.from(
      { length: 3000 },
      (_, i) => i % 7 === 0 ? text(rand, int(rand, 1, 40)) : `user-${i}`,
    );
    const input: UserRecord[] = [];
    for (let i = 0; i < 12_000; i++) {
      const record: UserRecord = {
        data: bytes(rand, int(rand, 0, 300)),
        partitionKey: keys[int(rand, 0, keys.length - 1)],
      };
      // Some records carry their own explicit hash key: those are grouped by it.
      if (i % 50 === 0) record.explicitHashKey = `${int(rand, 0, 2 ** 40)}`;
      input.push(record);
    }
    const aggs = aggregate(input, { keyed: true, targetBytes: 40_000, maxOpenAggregates: 64 });
    // The same aggregates, stored on streams the aggregator knew nothing about.
    for (const shards of [1, 2, 3, 7, 64, 500]) {
      const map = randomMap(rng(shards), shards);
      const back: UserRecord[] = [];
      const shardOfKey = new Map<string, number>();
      for (const agg of aggs) {
        const read = kclReads(map, agg);
        assert.ok(read, `${shards} shards: KCL would drop an aggregate`);
        for (let i = 0; i < read.inner.length; i++) {
          const r: DeaggregatedRecord = read.inner[i];
          const sent = agg.records[i];
          assert.equal(r.partitionKey, sent.partitionKey);
          assert.deepEqual(r.data, sent.data);
          // A record's own explicit hash key is kept; the others carry the range's.
          if (sent.explicitHashKey !== undefined) {
            assert.equal(r.explicitHashKey, sent.explicitHashKey);
          } else {
            assert.equal(r.explicitHashKey, agg.explicitHashKey);
            const seen: number = shardOfKey.get(r.partitionKey) ?? read.shard;
            assert.equal(seen, read.shard, "all records of a key land on one shard");
            shardOfKey.set(r.partitionKey, read.shard);
          }
          back.push(sent);
        }
      }
      assert.equal(back.length, input.length, `${shards} shards: every record read back`);
    }
    // Per-key order: records of a key come back in the order they went in.
    const order = new Map<string, UserRecord[]>();
    for (const agg of aggs) {
      for (const r of agg.records) {
        if (r.explicitHashKey === undefined) {
          order.set(r.partitionKey!, [...(order.get(r.partitionKey!) ?? []), r]);
        }
      }
    }
    for (const [key, got] of order) {
      assert.deepEqual(got, input.filter((r) => r.partitionKey === key && !r.explicitHashKey));
    }
  });

  it("no cliff: 100,000 keys in round robin pack like a shard map does, not one record per aggregate", () => {
    const rand = rng(8);
    const n = 60_000;
    const input = Array.from({ length: n }, (_, i) => ({
      data: bytes(rand, 200),
      partitionKey: `k-${i % 100_000}-${i % 7}`,
    }));
    const targetBytes = 100_000;
    const byRange = aggregate(input, { keyed: true, targetBytes });
    const total = byRange.reduce((s, a) => s + a.size, 0);
    // At most one partly filled aggregate per range (1,024 ranges) beyond the floor.
    assert.ok(
      byRange.length <= Math.ceil(total / targetBytes) + 1024,
      `${byRange.length} aggregates`,
    );
    const byKey = aggregate(input, { keyed: true, targetBytes, withoutMap: "key" });
    assert.ok(byKey.length > n / 2, `by key: ${byKey.length} aggregates (the cliff)`);
    assert.ok(byRange.length * 10 < byKey.length);
  });

  it("a map set later takes over, and removing it goes back to ranges", () => {
    const agg = new Aggregator({ keyed: true, maxOpenAggregates: 4 });
    const enc = new TextEncoder();
    for (let i = 0; i < 100; i++) agg.add({ data: enc.encode(`${i}`), partitionKey: `k${i}` });
    const two = new ShardMap([
      { shardId: "a", startingHashKey: "0", endingHashKey: `${(1n << 127n) - 1n}` },
      { shardId: "b", startingHashKey: `${1n << 127n}`, endingHashKey: `${MAX_HASH_KEY}` },
    ]);
    const ranges = agg.setShardMap(two);
    assert.equal(ranges.length, 4, "four ranges of a quarter each");
    for (const a of ranges) assert.equal(BigInt(a.explicitHashKey!) % (1n << 126n), 0n);
    for (let i = 0; i < 100; i++) agg.add({ data: enc.encode(`${i}`), partitionKey: `k${i}` });
    const byShard = agg.setShardMap(undefined);
    assert.deepEqual(byShard.map((a) => a.explicitHashKey).sort(), ["0", `${1n << 127n}`].sort());
    for (const a of byShard) {
      for (const r of deaggregate(a.data, a.partitionKey)) {
        assert.equal(r.explicitHashKey, undefined, "with a map, records keep their own hash");
      }
    }
  });

  it("refuses an unknown withoutMap", () => {
    assert.throws(
      // @ts-expect-error: not a mode
      () => new Aggregator({ keyed: true, withoutMap: "shard" }),
      /withoutMap/,
    );
  });
});
