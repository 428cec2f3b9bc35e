/**
 * `spreadOverShards`: default mode places each chunk on a shard of the listed
 * map by explicit hash key. Against the fake stream, which reads back with
 * KCL's rule (an aggregate with any record outside its shard is dropped):
 * nothing dropped, every record delivered once, chunks spread evenly.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { deaggregate, hasMagic } from "../../src/format/deaggregate.ts";
import { type FakeStream, startFakeStream } from "../support/fake_stream.ts";
import { rng } from "../support/random.ts";

const credentials = {
  accessKeyId: "AKIDSPREADTEST",
  secretAccessKey: "spreadSecret/00000000000000000000000000000",
};
const region = "eu-west-1";
let fake: FakeStream | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function producer(f: FakeStream, spreadOverShards: boolean) {
  const failures: unknown[] = [];
  const p = new KinesisProducer({
    streamName: "fake",
    region,
    endpoint: f.url,
    credentials,
    lingerMs: 5,
    targetBytes: 2_000,
    aggregation: "on",
    spreadOverShards,
    onWarning: () => {},
    onFailure: (x) => failures.push(x),
  });
  return { p, failures };
}

describe("spreadOverShards", () => {
  it("spread aggregates pass the consumer's range check, every record delivered once, shards evenly used", async () => {
    const f = fake = await startFakeStream({ shards: 4, credentials, region, random: rng(3) });
    const { p, failures } = producer(f, true);
    const want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      want.push(`record-${i}`);
      await p.put(`record-${i}`);
    }
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(p.stats.stream?.listing, "listed");
    assert.equal(p.stats.stream?.mapShards, 4);
    assert.ok(f.stored.length >= 20, `many aggregates (${f.stored.length})`);
    const perShard = new Map<string, number>();
    for (const r of f.stored) {
      assert.ok(hasMagic(r.data), "aggregated");
      assert.ok(r.explicitHashKey !== undefined, "placed by explicit hash key");
      const shard = f.shards.find((s) => s.id === r.shardId)!;
      for (const u of deaggregate(r.data, r.partitionKey)) {
        assert.equal(u.explicitHashKey, r.explicitHashKey);
        const h = BigInt(u.explicitHashKey!);
        assert.ok(h >= shard.start && h <= shard.end, "inner record inside the storing shard");
      }
      perShard.set(r.shardId, (perShard.get(r.shardId) ?? 0) + 1);
    }
    const counts = [...perShard.values()];
    assert.equal(counts.length, 4);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `even: ${counts}`);
    const { records, dropped } = f.readBack();
    assert.equal(dropped, 0, "no aggregate a KCL consumer would drop");
    const got = records.map((r) => new TextDecoder().decode(r.data)).sort();
    assert.deepEqual(got, want.sort(), "every record exactly once");
  });

  it("off (the default): default mode lists no shards and places chunks by random key", async () => {
    const f = fake = await startFakeStream({ shards: 4, credentials, region, random: rng(4) });
    const { p, failures } = producer(f, false);
    for (let i = 0; i < 500; i++) await p.put(`record-${i}`);
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.ListShards ?? 0, 0);
    assert.ok(f.stored.every((r) => r.explicitHashKey === undefined));
    assert.equal(f.readBack().dropped, 0);
  });

  it("refuses spreadOverShards with keyed mode or a fixed partitionKey", () => {
    const base = { streamName: "s", region, credentials, spreadOverShards: true };
    assert.throws(() => new KinesisProducer({ ...base, keyed: true }), TypeError);
    assert.throws(() => new KinesisProducer({ ...base, partitionKey: "k" }), TypeError);
  });
});
