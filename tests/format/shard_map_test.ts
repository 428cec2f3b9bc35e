import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate, deaggregate, partitionKeyHash, RecordError } from "../../format.ts";
import { Aggregator } from "../../src/format/aggregator.ts";
import { KeyCache } from "../../src/format/key_cache.ts";
import { MAX_HASH_KEY } from "../../src/format/keys.ts";
import {
  bigintToWords,
  type ShardHashRange,
  ShardMap,
  wordsToBigint,
} from "../../src/format/shard_map.ts";
import { bytes, int, rng, text } from "../support/random.ts";

/** A random 128-bit value. */
function hash128(rand: () => number): bigint {
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return v;
}

/** A full, contiguous map of `n` shards with random boundaries, ids in order. */
function randomRanges(rand: () => number, n: number): ShardHashRange[] {
  const cuts = new Set<bigint>();
  while (cuts.size < n - 1) cuts.add(hash128(rand) || 1n);
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : 1));
  const out: ShardHashRange[] = [];
  let start = 0n;
  for (let i = 0; i < n; i++) {
    const end = i < n - 1 ? sorted[i] - 1n : MAX_HASH_KEY;
    out.push({ shardId: `shardId-${i}`, startingHashKey: `${start}`, endingHashKey: `${end}` });
    start = end + 1n;
  }
  return out;
}

function shuffle<T>(rand: () => number, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(rand, 0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The obvious lookup, to check the word-based one against. */
function naiveIndex(ranges: readonly ShardHashRange[], hash: bigint): number {
  return ranges.findIndex((r) =>
    BigInt(r.startingHashKey) <= hash && hash <= BigInt(r.endingHashKey)
  );
}

const quarter = (1n << 128n) / 4n;
const four = [0, 1, 2, 3].map((i) => ({
  shardId: `shard-${i}`,
  startingHashKey: `${quarter * BigInt(i)}`,
  endingHashKey: `${i === 3 ? MAX_HASH_KEY : quarter * BigInt(i + 1) - 1n}`,
}));

describe("ShardMap", () => {
  it("words round-trip 128-bit values", () => {
    const rand = rng(1);
    for (const v of [0n, 1n, MAX_HASH_KEY, 1n << 127n, (1n << 64n) - 1n, 1n << 64n]) {
      assert.equal(wordsToBigint(bigintToWords(v)), v);
    }
    for (let i = 0; i < 1000; i++) {
      const v = hash128(rand);
      assert.equal(wordsToBigint(bigintToWords(v)), v);
    }
  });

  it("unsorted input: sorts it, and every hash lands where a plain search puts it", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(seed);
      const n = int(rand, 1, 64);
      const ranges = randomRanges(rand, n);
      const map = new ShardMap(shuffle(rand, ranges));
      assert.deepEqual(map.ranges, ranges, `seed ${seed}`);
      assert.equal(map.hasGaps, false);
      const probes = [0n, MAX_HASH_KEY];
      for (const r of ranges) {
        const s = BigInt(r.startingHashKey);
        const e = BigInt(r.endingHashKey);
        probes.push(s, e);
        if (s > 0n) probes.push(s - 1n);
        if (e < MAX_HASH_KEY) probes.push(e + 1n);
      }
      for (let i = 0; i < 200; i++) probes.push(hash128(rand));
      for (const h of probes) {
        const want = naiveIndex(ranges, h);
        assert.notEqual(want, -1);
        assert.equal(map.indexOf(h), want, `seed ${seed} hash ${h}`);
        const w = bigintToWords(h);
        assert.equal(map.indexOfWords(w[0], w[1], w[2], w[3]), want);
        assert.ok(map.coversWords(want, w[0], w[1], w[2], w[3]));
        if (want > 0) assert.ok(!map.coversWords(want - 1, w[0], w[1], w[2], w[3]));
      }
    }
  });

  it("overlapping input: refused, naming both shards", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(100 + seed);
      const ranges = randomRanges(rand, int(rand, 2, 40));
      const i = int(rand, 0, ranges.length - 2);
      // Stretch shard i into shard i+1 by a random amount (at least one key).
      const nextStart = BigInt(ranges[i + 1].startingHashKey);
      const nextEnd = BigInt(ranges[i + 1].endingHashKey);
      const span = nextEnd - nextStart + 1n;
      const into = 1n + (hash128(rand) % span);
      const bad = ranges.map((r) => ({ ...r }));
      bad[i].endingHashKey = `${nextStart - 1n + into}`;
      assert.throws(
        () => new ShardMap(shuffle(rand, bad)),
        (e: Error) =>
          e instanceof RangeError && e.message.includes(`shard shardId-${i} `) &&
          e.message.includes(`shard shardId-${i + 1} `) && e.message.includes("overlaps"),
        `seed ${seed}`,
      );
    }
  });

  it("gapped input: refused naming the neighbours, unless allowGaps; gap hashes then find no shard", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(200 + seed);
      const ranges = randomRanges(rand, int(rand, 3, 40));
      const drop = int(rand, 0, ranges.length - 1);
      const kept = ranges.filter((_, i) => i !== drop);
      assert.throws(
        () => new ShardMap(shuffle(rand, kept)),
        (e: Error) => {
          if (!(e instanceof RangeError) || !e.message.includes("not covered")) return false;
          if (drop > 0 && !e.message.includes(`shardId-${drop - 1}`)) return false;
          if (drop < ranges.length - 1 && !e.message.includes(`shardId-${drop + 1}`)) return false;
          return true;
        },
        `seed ${seed}`,
      );
      const map = new ShardMap(shuffle(rand, kept), { allowGaps: true });
      assert.equal(map.hasGaps, true);
      const gapStart = BigInt(ranges[drop].startingHashKey);
      const gapEnd = BigInt(ranges[drop].endingHashKey);
      for (const h of [gapStart, gapEnd, ...Array.from({ length: 100 }, () => hash128(rand))]) {
        const inGap = h >= gapStart && h <= gapEnd;
        const got = map.indexOf(h);
        if (inGap) assert.equal(got, -1, `seed ${seed}: ${h} is in the gap`);
        else assert.equal(map.ranges[got].shardId, ranges[naiveIndex(ranges, h)].shardId);
      }
    }
  });

  it("closed shards in ListShards output (both spellings) are dropped", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(300 + seed);
      // Start from a full map and split random shards a few times, as a stream would.
      let open = randomRanges(rand, int(rand, 1, 8)).map((r) => ({ ...r, closed: false }));
      const all = [...open];
      let nextId = open.length;
      for (let k = 0; k < 5; k++) {
        const i = int(rand, 0, open.length - 1);
        const p = open[i];
        const s = BigInt(p.startingHashKey);
        const e = BigInt(p.endingHashKey);
        if (s === e) continue;
        const mid = s + (hash128(rand) % (e - s));
        p.closed = true;
        const a = {
          shardId: `shardId-${nextId++}`,
          startingHashKey: `${s}`,
          endingHashKey: `${mid}`,
          closed: false,
        };
        const b = {
          shardId: `shardId-${nextId++}`,
          startingHashKey: `${mid + 1n}`,
          endingHashKey: `${e}`,
          closed: false,
        };
        open = [...open.slice(0, i), a, b, ...open.slice(i + 1)];
        all.push(a, b);
      }
      const camel = all.map((r) => ({
        shardId: r.shardId!,
        hashKeyRange: { startingHashKey: r.startingHashKey, endingHashKey: r.endingHashKey },
        sequenceNumberRange: {
          startingSequenceNumber: "1",
          ...(r.closed ? { endingSequenceNumber: "9" } : {}),
        },
      }));
      const pascal = all.map((r) => ({
        ShardId: r.shardId,
        HashKeyRange: { StartingHashKey: r.startingHashKey, EndingHashKey: r.endingHashKey },
        SequenceNumberRange: {
          StartingSequenceNumber: "1",
          ...(r.closed ? { EndingSequenceNumber: "9" } : {}),
        },
      }));
      const want = open.map(({ closed: _, ...r }) => r);
      assert.deepEqual(new ShardMap(shuffle(rand, camel)).ranges, want, `seed ${seed}`);
      assert.deepEqual(new ShardMap(shuffle(rand, pascal)).ranges, want, `seed ${seed}`);
      if (all.length > open.length) {
        // The same list with the closed marks lost overlaps: parents cover their children.
        const unmarked = all.map(({ closed: _, ...r }) => r);
        assert.throws(() => new ShardMap(unmarked), /overlaps/);
      }
    }
  });

  it("refuses bad hash keys, inverted ranges and zero open shards", () => {
    const ok = { startingHashKey: "0", endingHashKey: `${MAX_HASH_KEY}` };
    assert.throws(() => new ShardMap([]), /zero open shards/);
    assert.throws(() => new ShardMap([{ ...ok, startingHashKey: "-1" }]), RangeError);
    assert.throws(() => new ShardMap([{ ...ok, startingHashKey: "01" }]), RangeError);
    assert.throws(
      () => new ShardMap([{ ...ok, endingHashKey: `${MAX_HASH_KEY + 1n}` }]),
      RangeError,
    );
    assert.throws(
      () => new ShardMap([{ shardId: "x", startingHashKey: "5", endingHashKey: "4" }]),
      /shard x starts at 5, after its end 4/,
    );
    assert.throws(() => new ShardMap([null as never]), TypeError);
    const closed = {
      ShardId: "a",
      HashKeyRange: { StartingHashKey: "0", EndingHashKey: `${MAX_HASH_KEY}` },
      SequenceNumberRange: { StartingSequenceNumber: "1", EndingSequenceNumber: "2" },
    };
    assert.throws(() => new ShardMap([closed]), /zero open shards/);
    assert.equal(new ShardMap([ok]).indexOf(MAX_HASH_KEY + 1n), -1);
  });
});

describe("KeyCache", () => {
  const words = (cache: KeyCache, id: number) => [...cache.hash.subarray(id * 4, id * 4 + 4)];

  it("hashes a key once, into the words of its MD5, for short and long keys", () => {
    const cache = new KeyCache(false);
    const a = cache.id("a");
    assert.equal(cache.id("a"), a);
    cache.hashOf(a);
    assert.equal(wordsToBigint(words(cache, a)), partitionKeyHash("a"));
    const rand = rng(9);
    for (let i = 0; i < 300; i++) {
      // Lengths around the one-block limit (55 UTF-8 bytes), and multi-byte text.
      const key = i % 3 === 0 ? text(rand, int(rand, 1, 256)) : "k".repeat(int(rand, 1, 70));
      const id = cache.id(key);
      cache.hashOf(id);
      assert.equal(wordsToBigint(words(cache, id)), partitionKeyHash(key), JSON.stringify(key));
    }
  });

  it("stays bounded, and caches no invalid key", () => {
    const cache = new KeyCache(false, 100);
    for (let i = 0; i < 1000; i++) {
      const id = cache.id(`k${i}`);
      assert.equal(cache.keys[id], `k${i}`);
      assert.ok(cache.size <= 100);
    }
    assert.throws(() => cache.id(""), RecordError);
    assert.throws(() => cache.id(42), RecordError);
    const explicit = new KeyCache(true);
    assert.throws(() => explicit.id("007"), RecordError);
    const id = explicit.id(`${MAX_HASH_KEY}`);
    assert.deepEqual(words(explicit, id), [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it("an aggregate stays valid when the cache starts over while it is open", () => {
    // Capacity 8 with 50 keys: the cache clears many times inside one aggregate.
    const agg = new Aggregator({ keyed: true, shards: four, keyCacheSize: 8 });
    const enc = new TextEncoder();
    const input = Array.from({ length: 400 }, (_, i) => ({
      data: enc.encode(`${i}`),
      partitionKey: `key-${i % 50}`,
    }));
    for (const r of input) agg.add(r);
    const out = agg.flush();
    const back = out.flatMap((a) => deaggregate(a.data, a.partitionKey, { strict: true }));
    assert.deepEqual(
      back.map((r) => [r.partitionKey, new TextDecoder().decode(r.data)]).sort(),
      input.map((r) => [r.partitionKey, new TextDecoder().decode(r.data)]).sort(),
    );
  });
});

describe("keyed mode with a shard map", () => {
  it("5,000 distinct keys over 4 shards pack into about bytes / target aggregates", () => {
    const rand = rng(5);
    const input = Array.from({ length: 20_000 }, (_, i) => ({
      data: bytes(rand, 200),
      partitionKey: `user-${i % 5000}`,
    }));
    const targetBytes = 64 * 1024;
    const aggs = aggregate(input, { keyed: true, shards: four, targetBytes });
    const total = aggs.reduce((n, a) => n + a.size, 0);
    const floor = Math.ceil(total / targetBytes);
    // At most one partly filled aggregate per shard beyond the floor.
    assert.ok(aggs.length <= floor + 4, `${aggs.length} aggregates for a floor of ${floor}`);
    const map = new ShardMap(four);
    let count = 0;
    for (const agg of aggs) {
      const shard = map.indexOf(BigInt(agg.explicitHashKey!));
      assert.equal(agg.explicitHashKey, four[shard].startingHashKey);
      const inner = deaggregate(agg.data, agg.partitionKey);
      // Each key is in the table once per aggregate.
      assert.ok(inner.length > 0);
      for (const r of inner) {
        assert.equal(map.indexOf(partitionKeyHash(r.partitionKey)), shard);
        count++;
      }
    }
    assert.equal(count, input.length);
  });

  it("setShardMap ships the open aggregates and regroups later records by the new map", () => {
    const agg = new Aggregator({ keyed: true, shards: four });
    const enc = new TextEncoder();
    for (let i = 0; i < 100; i++) agg.add({ data: enc.encode(`${i}`), partitionKey: `k${i}` });
    const two = new ShardMap([
      { shardId: "a", startingHashKey: "0", endingHashKey: `${(1n << 127n) - 1n}` },
      { shardId: "b", startingHashKey: `${1n << 127n}`, endingHashKey: `${MAX_HASH_KEY}` },
    ]);
    const shipped = agg.setShardMap(two);
    assert.equal(shipped.reduce((n, a) => n + a.records.length, 0), 100);
    assert.equal(agg.pendingRecords, 0);
    for (let i = 0; i < 100; i++) agg.add({ data: enc.encode(`${i}`), partitionKey: `k${i}` });
    const after = agg.flush();
    assert.equal(after.length, 2);
    for (const a of after) {
      const shard = two.indexOf(BigInt(a.explicitHashKey!));
      for (const r of deaggregate(a.data, a.partitionKey)) {
        assert.equal(two.indexOf(partitionKeyHash(r.partitionKey)), shard);
      }
    }
  });

  it("a key repeated inside one aggregate takes one table entry, also after check()", () => {
    const agg = new Aggregator({ keyed: true, shards: four });
    const enc = new TextEncoder();
    for (let i = 0; i < 10; i++) {
      const record = { data: enc.encode(`${i}`), partitionKey: "same" };
      agg.check(record);
      agg.add(record);
    }
    const [one] = agg.flush();
    const own = aggregate(
      Array.from({ length: 10 }, (_, i) => ({ data: enc.encode(`${i}`), partitionKey: "same" })),
      { keyed: true, shards: four },
    )[0];
    assert.equal(one.data.length, own.data.length);
    assert.equal(deaggregate(one.data, one.partitionKey).length, 10);
  });
});
