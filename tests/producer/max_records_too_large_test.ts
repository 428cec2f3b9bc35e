import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate, deaggregate, RecordTooLargeError } from "../../mod.ts";
import { Aggregator } from "../../src/format/aggregator.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("a too-large record arriving when the open aggregate is at maxRecords", () => {
  it("Aggregator.add throws and loses nothing already added", () => {
    const agg = new Aggregator({ maxRecords: 2, maxRecordBytes: 1024 });
    agg.add({ data: enc.encode("a") });
    agg.add({ data: enc.encode("b") });
    assert.throws(() => agg.add({ data: new Uint8Array(2000) }), RecordTooLargeError);
    assert.equal(agg.pendingRecords, 2);
    const out = agg.flush();
    const got = out.flatMap((a) =>
      deaggregate(a.data, a.partitionKey).map((r) => dec.decode(r.data))
    );
    assert.deepEqual(got, ["a", "b"]);
  });

  it("aggregate() with onRejected keeps the neighbours", () => {
    const rejected: number[] = [];
    const out = aggregate(
      [{ data: enc.encode("a") }, { data: enc.encode("b") }, { data: new Uint8Array(2000) }, {
        data: enc.encode("c"),
      }],
      { maxRecords: 2, maxRecordBytes: 1024, onRejected: (_r, _e, i) => rejected.push(i) },
    );
    const got = out.flatMap((a) =>
      deaggregate(a.data, a.partitionKey).map((r) => dec.decode(r.data))
    );
    assert.deepEqual(rejected, [2]);
    assert.deepEqual(got, ["a", "b", "c"]);
  });

  it("the producer delivers the earlier records and frees their buffer", async () => {
    const clock = new FakeClock();
    const client = new ScriptedClient(() => "ok", () => clock.now());
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      clock,
      maxRecords: 2,
      maxRecordBytes: 1024,
      maxBufferedBytes: 4096,
      onFailure: (f) => failures.push(f),
    });
    await producer.put("a");
    await producer.put("b");
    await assert.rejects(producer.put(new Uint8Array(2000)), RecordTooLargeError);
    const flushed = producer.flush();
    await clock.advance(1000);
    await flushed;
    assert.deepEqual(client.delivered.map((d) => dec.decode(d)), ["a", "b"]);
    assert.equal(failures.length, 0);
    assert.equal(producer.stats.bufferedBytes, 0);
    await producer.close();
  });
});
