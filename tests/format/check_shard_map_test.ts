import { it } from "node:test";
import assert from "node:assert/strict";
import { RecordError } from "../../mod.ts";
import { Aggregator } from "../../src/format/aggregator.ts";
import { ShardMap } from "../../src/format/shard_map.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

const HALF = ((1n << 127n) - 1n).toString();
const OUTSIDE = (1n << 127n).toString();
// A map of one shard, covering the lower half only.
const shards = new ShardMap([{ shardId: "s0", startingHashKey: "0", endingHashKey: HALF }], {
  allowGaps: true,
});

it("Aggregator.check refuses a record no shard in the map covers, as add does", () => {
  const agg = new Aggregator({ keyed: true, shards });
  const record = { data: new Uint8Array(1), partitionKey: "k", explicitHashKey: OUTSIDE };
  assert.throws(() => agg.add(record), RecordError);
  assert.throws(() => agg.check(record), RecordError);
});

it("put() under backpressure rejects an uncovered record at once, not after waiting", async () => {
  const clock = new FakeClock();
  const client = new ScriptedClient(() => "hang", () => clock.now());
  const producer = new KinesisProducer({
    streamName: "s",
    client,
    clock,
    keyed: true,
    shards,
    maxRecordBytes: 1024,
    maxBufferedBytes: 1024,
    onFailure: () => {},
  });
  await producer.put(new Uint8Array(900), { partitionKey: "k", explicitHashKey: "1" });
  let outcome: unknown = "pending";
  producer.put(new Uint8Array(1), { partitionKey: "k", explicitHashKey: OUTSIDE }).then(
    () => (outcome = "resolved"),
    (e) => (outcome = e),
  );
  await settle();
  assert.ok(outcome instanceof RecordError, `rejected at once (got ${String(outcome)})`);
  const closing = producer.close({ deadlineMs: 10 });
  await clock.advance(20);
  await closing;
});
