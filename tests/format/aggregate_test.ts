import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  aggregate,
  type AggregatedRecord,
  Aggregator,
  deaggregate,
  DEFAULT_MAX_RECORD_BYTES,
  partitionKeyHash,
  RecordError,
  RecordTooLargeError,
  ShardMap,
  type UserRecord,
} from "../../format.ts";
import { bytes, int, rng, text } from "../support/random.ts";

const enc = new TextEncoder();
const utf8Length = (s: string) => enc.encode(s).length;

/** Every aggregate: exact size accounting, within the limit, not empty, and a faithful round trip. */
function checkAggregates(
  aggs: AggregatedRecord[],
  input: UserRecord[],
  limit = DEFAULT_MAX_RECORD_BYTES,
) {
  const back: UserRecord[] = [];
  const known = new Set(input);
  for (const agg of aggs) {
    for (const r of agg.records) assert.ok(known.has(r), "only records that were put");
    assert.equal(
      agg.size,
      agg.data.length + utf8Length(agg.partitionKey),
      "predicted size = encoded size",
    );
    assert.ok(agg.size <= limit, `aggregate of ${agg.size} bytes is over the ${limit} limit`);
    assert.ok(agg.records.length > 0, "never an empty aggregate");
    const records = deaggregate(agg.data, agg.partitionKey, { strict: true });
    assert.equal(records.length, agg.records.length);
    records.forEach((r, i) => {
      assert.equal(r.aggregated, true);
      assert.equal(r.subSequenceNumber, i);
      assert.deepEqual(r.data, agg.records[i].data);
    });
    back.push(...agg.records);
  }
  return back;
}

describe("aggregate: round trip", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`random sizes and counts (seed ${seed})`, () => {
      const rand = rng(seed);
      const input: UserRecord[] = [];
      const n = int(rand, 1, 400);
      for (let i = 0; i < n; i++) {
        const kind = rand();
        const size = kind < 0.1 ? 0 : kind < 0.8 ? int(rand, 1, 300) : int(rand, 1000, 200_000);
        input.push({ data: bytes(rand, size) });
      }
      const targetBytes = int(rand, 1024, DEFAULT_MAX_RECORD_BYTES);
      const aggs = aggregate(input, { targetBytes });
      const back = checkAggregates(aggs, input);
      assert.equal(back.length, input.length);
      back.forEach((r, i) => assert.equal(r, input[i], "order and identity kept"));
      for (const agg of aggs.slice(0, -1)) {
        // Only a single oversize record may pass the target.
        assert.ok(agg.size <= targetBytes || agg.records.length === 1);
      }
    });
  }

  it("empty data round-trips", () => {
    const [agg] = aggregate([{ data: new Uint8Array(0) }, { data: new Uint8Array(0) }]);
    const back = deaggregate(agg.data, agg.partitionKey);
    assert.equal(back.length, 2);
    assert.equal(back[0].data.length, 0);
  });

  it("uses a random UUID key per aggregate, and every inner record points at it", () => {
    const aggs = aggregate([{ data: new Uint8Array(600) }, { data: new Uint8Array(600) }], {
      targetBytes: 1000,
    });
    assert.equal(aggs.length, 2);
    assert.notEqual(aggs[0].partitionKey, aggs[1].partitionKey);
    for (const agg of aggs) {
      assert.match(agg.partitionKey, /^[0-9a-f-]{36}$/);
      for (const r of deaggregate(agg.data, agg.partitionKey)) {
        assert.equal(r.partitionKey, agg.partitionKey);
      }
    }
  });

  it("a fixed key (fixed_partition_key) is the outer key and every inner key", () => {
    const key = "ключ-🔑";
    const aggs = aggregate([{ data: enc.encode("a") }, { data: enc.encode("b") }], {
      partitionKey: key,
    });
    assert.equal(aggs.length, 1);
    assert.equal(aggs[0].partitionKey, key);
    assert.deepEqual(deaggregate(aggs[0].data).map((r) => r.partitionKey), [key, key]);
  });

  it("writes required partition_key_index = 0 explicitly", () => {
    const [agg] = aggregate([{ data: enc.encode("x") }], { partitionKey: "k" });
    // magic, table entry "k" (0a 01 6b), record 1a 05 | 08 00 | 1a 01 78
    assert.deepEqual([...agg.data.subarray(4, agg.data.length - 16)], [
      0x0a,
      0x01,
      0x6b,
      0x1a,
      0x05,
      0x08,
      0x00,
      0x1a,
      0x01,
      0x78,
    ]);
  });

  it("honours maxRecords", () => {
    const input = Array.from({ length: 10 }, (_, i) => ({ data: enc.encode(String(i)) }));
    const aggs = aggregate(input, { maxRecords: 3 });
    assert.deepEqual(aggs.map((a) => a.records.length), [3, 3, 3, 1]);
  });
});

describe("aggregate: limits", () => {
  /** Data length that makes a one-record aggregate with `key` exactly `limit` bytes. */
  function fillTo(limit: number, key: string): number {
    let n = limit - 4096;
    for (let i = 0; i < 3; i++) n += limit - aggregateSize(n, key);
    assert.equal(aggregateSize(n, key), limit);
    return n;
  }
  function aggregateSize(dataLength: number, key: string): number {
    const options = { partitionKey: key, targetBytes: 1024, maxRecordBytes: 10 * 1_048_576 };
    return aggregate([{ data: new Uint8Array(dataLength) }], options)[0].size;
  }

  for (const limit of [DEFAULT_MAX_RECORD_BYTES, 10 * 1_048_576, 5000]) {
    it(`a record that fills exactly ${limit} bytes fits; one byte more is refused`, () => {
      const key = "k".repeat(40);
      const n = fillTo(limit, key);
      const [agg] = aggregate([{ data: new Uint8Array(n) }], {
        partitionKey: key,
        maxRecordBytes: limit,
        targetBytes: 1024,
      });
      assert.equal(agg.size, limit);
      assert.equal(agg.data.length + 40, limit, "Kinesis counts data + key");
      assert.throws(
        () =>
          aggregate([{ data: new Uint8Array(n + 1) }], {
            partitionKey: key,
            maxRecordBytes: limit,
          }),
        (e: unknown) =>
          e instanceof RecordTooLargeError && e.size === limit + 1 && e.limit === limit,
      );
    });
  }

  it("counts long multi-byte keys in bytes: 256 four-byte characters are 1,024 bytes", () => {
    const key = "😀".repeat(256);
    assert.equal(utf8Length(key), 1024);
    const n = fillTo(DEFAULT_MAX_RECORD_BYTES, key);
    const [agg] = aggregate([{ data: new Uint8Array(n) }], { partitionKey: key });
    assert.equal(agg.size, DEFAULT_MAX_RECORD_BYTES);
    assert.equal(
      agg.data.length + 2048,
      DEFAULT_MAX_RECORD_BYTES + 1024,
      "key counted twice: outer and table",
    );
  });

  it("a too-large record names its size and leaves its neighbours alone", () => {
    const agg = new Aggregator({ targetBytes: 1024 * 1024 });
    assert.equal(agg.add({ data: enc.encode("before") }), undefined);
    assert.throws(
      () => agg.add({ data: new Uint8Array(DEFAULT_MAX_RECORD_BYTES) }),
      RecordTooLargeError,
    );
    assert.equal(agg.add({ data: enc.encode("after") }), undefined);
    const [out] = agg.flush();
    assert.deepEqual(deaggregate(out.data).map((r) => new TextDecoder().decode(r.data)), [
      "before",
      "after",
    ]);
  });

  it("aggregate() reports refused records through onRejected and keeps the rest", () => {
    const rejected: number[] = [];
    const input = [{ data: enc.encode("a") }, { data: new Uint8Array(2_000_000) }, {
      data: enc.encode("c"),
    }];
    const aggs = aggregate(input, {
      onRejected: (_r, e, i) => (assert.ok(e instanceof RecordTooLargeError), rejected.push(i)),
    });
    assert.deepEqual(rejected, [1]);
    assert.equal(aggs.flatMap((a) => a.records).length, 2);
    assert.throws(() => aggregate(input), /Record #1: Cannot aggregate record: it needs \d+ bytes/);
  });

  it("never exceeds the limit for records near the limit, at random", () => {
    const rand = rng(99);
    const limit = 64 * 1024;
    const input: UserRecord[] = [];
    for (let i = 0; i < 300; i++) {
      input.push({ data: new Uint8Array(int(rand, limit - 200, limit - 20)) });
    }
    const aggs = aggregate(input, {
      maxRecordBytes: limit,
      targetBytes: limit,
      partitionKey: "p",
      onRejected: () => {},
    });
    checkAggregates(aggs, input, limit);
  });

  it("rejects bad settings with RangeError/TypeError", () => {
    assert.throws(() => new Aggregator({ maxRecordBytes: 11 * 1_048_576 }), RangeError);
    assert.throws(() => new Aggregator({ targetBytes: 2 * 1_048_576 }), RangeError);
    assert.throws(() => new Aggregator({ maxRecords: 0 }), RangeError);
    assert.throws(() => new Aggregator({ keyed: true, partitionKey: "x" }), TypeError);
    assert.throws(
      () => new Aggregator({ shards: [{ startingHashKey: "0", endingHashKey: "1" }] }),
      TypeError,
    );
  });
});

describe("aggregate: keys", () => {
  it("validates partition keys: 1–256 characters, well-formed", () => {
    const agg = new Aggregator({ keyed: true });
    for (const bad of ["", "x".repeat(257), "😀".repeat(257), "\ud800"]) {
      assert.throws(
        () => agg.add({ data: new Uint8Array(1), partitionKey: bad }),
        (e: unknown) => e instanceof RecordError && e.code === "InvalidPartitionKey",
      );
    }
    agg.add({ data: new Uint8Array(1), partitionKey: "😀".repeat(256) });
    assert.throws(
      () => agg.add({ data: new Uint8Array(1) }),
      RecordError,
      "keyed mode needs a key",
    );
    assert.throws(
      () => new Aggregator().add({ data: new Uint8Array(1), partitionKey: "k" }),
      RecordError,
      "keys need keyed mode",
    );
  });

  it("validates explicit hash keys: decimal in 0..2^128-1", () => {
    const agg = new Aggregator({ keyed: true });
    const max = ((1n << 128n) - 1n).toString();
    for (const ok of ["0", "1", max]) {
      agg.add({ data: new Uint8Array(1), partitionKey: "k", explicitHashKey: ok });
    }
    for (const bad of ["", "-1", "01", "1.5", "0x10", (1n << 128n).toString(), "1".repeat(40)]) {
      assert.throws(
        () => agg.add({ data: new Uint8Array(1), partitionKey: "k", explicitHashKey: bad }),
        (e: unknown) => e instanceof RecordError && e.code === "InvalidExplicitHashKey",
      );
    }
  });

  it("keyed mode with withoutMap: key groups by key and keeps per-key order", () => {
    const rand = rng(7);
    const keys = ["a", "b", text(rand, 3), text(rand, 100)];
    const input: UserRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      input.push({ data: bytes(rand, int(rand, 0, 500)), partitionKey: keys[int(rand, 0, 3)] });
    }
    const aggs = aggregate(input, { keyed: true, withoutMap: "key", targetBytes: 20_000 });
    checkAggregates(aggs, input);
    const perKey = new Map<string, UserRecord[]>();
    for (const agg of aggs) {
      const inner = deaggregate(agg.data, agg.partitionKey);
      for (const r of inner) assert.equal(r.partitionKey, agg.partitionKey, "never mixes keys");
      perKey.set(agg.partitionKey, [...(perKey.get(agg.partitionKey) ?? []), ...agg.records]);
    }
    for (const key of keys) {
      assert.deepEqual(
        perKey.get(key),
        input.filter((r) => r.partitionKey === key),
      );
    }
  });

  it("keyed mode with explicit hash keys keeps them inner and outer", () => {
    const aggs = aggregate([
      { data: enc.encode("1"), partitionKey: "a", explicitHashKey: "5" },
      { data: enc.encode("2"), partitionKey: "b", explicitHashKey: "5" },
      { data: enc.encode("3"), partitionKey: "a" },
    ], { keyed: true });
    assert.equal(aggs.length, 2);
    const [withHash] = aggs.filter((a) => a.explicitHashKey === "5");
    assert.deepEqual(deaggregate(withHash.data).map((r) => [r.partitionKey, r.explicitHashKey]), [[
      "a",
      "5",
    ], ["b", "5"]]);
  });

  it("keyed mode with a shard map groups by shard: every inner hash lies in the aggregate's shard", () => {
    const step = (1n << 128n) / 4n;
    const shards = [0, 1, 2, 3].map((i) => ({
      shardId: `shard-${i}`,
      startingHashKey: (step * BigInt(i)).toString(),
      endingHashKey: (i === 3 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n).toString(),
    }));
    const map = new ShardMap(shards);
    const rand = rng(3);
    const input: UserRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      input.push({
        data: bytes(rand, int(rand, 1, 100)),
        partitionKey: `user-${int(rand, 0, 999)}`,
      });
    }
    const aggs = aggregate(input, { keyed: true, shards, targetBytes: 50_000 });
    checkAggregates(aggs, input);
    assert.ok(aggs.length < 30, `packs by shard, not by key (${aggs.length} aggregates)`);
    for (const agg of aggs) {
      const shard = map.indexOf(BigInt(agg.explicitHashKey!));
      for (const r of deaggregate(agg.data, agg.partitionKey)) {
        const hash = r.explicitHashKey !== undefined
          ? BigInt(r.explicitHashKey)
          : partitionKeyHash(r.partitionKey);
        assert.equal(map.indexOf(hash), shard, "KCL's hash-range check would pass");
      }
    }
  });

  it("partitionKeyHash is MD5 read big-endian", () => {
    // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert.equal(partitionKeyHash("a"), 0x0cc175b9c0f1b6a831c399e269772661n);
  });

  it("caps open aggregates in keyed mode by shipping the oldest", () => {
    const agg = new Aggregator({ keyed: true, withoutMap: "key", maxOpenAggregates: 2 });
    assert.equal(agg.add({ data: enc.encode("1"), partitionKey: "a" }), undefined);
    assert.equal(agg.add({ data: enc.encode("2"), partitionKey: "b" }), undefined);
    const shipped = agg.add({ data: enc.encode("3"), partitionKey: "c" });
    assert.equal(shipped?.partitionKey, "a");
    assert.equal(agg.pendingRecords, 2);
  });
});
