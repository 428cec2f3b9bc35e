// The Node stream adapter: stream.pipeline(source, toNodeWritable(producer)),
// under Deno, Bun and Node alike.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { deaggregate, KinesisProducer, RecordError } from "../../mod.ts";
import { toNodeWritable } from "../../node.ts";
import { runtime } from "./support.ts";

/** Answers PutRecord at once and keeps the user records, like Kinesis plus a consumer. */
function sink(delayMs = 0) {
  const records: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async putRecord(input: { data: Uint8Array; partitionKey: string }) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      inFlight--;
      for (const r of deaggregate(input.data, input.partitionKey)) {
        records.push(new TextDecoder().decode(r.data));
      }
      return { shardId: "shardId-000000000000", sequenceNumber: String(records.length) };
    },
  };
  return { client, records, max: () => maxInFlight };
}

describe(`toNodeWritable under ${runtime}`, () => {
  it("stream.pipeline delivers every line and closes the producer", async () => {
    const { client, records } = sink();
    const producer = new KinesisProducer({ streamName: "s", client, lingerMs: 0 });
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    await pipeline(Readable.from(lines), toNodeWritable(producer));
    assert.deepEqual(records.sort(), [...lines].sort());
    assert.equal(producer.stats.recordsDelivered, 2000);
    await assert.rejects(producer.put("after"), /closed/);
  });

  it("Buffers and keyed objects; backpressure keeps memory within maxBufferedBytes", async () => {
    const { client, records } = sink(2);
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      keyed: true,
      maxRecordBytes: 64 * 1024,
      targetBytes: 16 * 1024,
      maxBufferedBytes: 64 * 1024,
      concurrency: 1,
      lingerMs: 0,
    });
    let peak = 0;
    async function* source() {
      for (let i = 0; i < 200; i++) {
        peak = Math.max(peak, producer.stats.bufferedBytes);
        yield i % 2
          ? { data: new Uint8Array(4096).fill(65), partitionKey: `k${i % 4}` }
          : { data: `text ${i}`, partitionKey: "t" };
      }
    }
    await pipeline(Readable.from(source()), toNodeWritable(producer));
    assert.equal(records.length, 200);
    assert.ok(peak <= 64 * 1024 + 4096 + 128, `peak ${peak} bytes held`);
  });

  it("a refused record errors the pipeline with the RecordError", async () => {
    const { client } = sink();
    const producer = new KinesisProducer({ streamName: "s", client, keyed: true, lingerMs: 0 });
    await assert.rejects(
      pipeline(
        Readable.from([{ data: "ok", partitionKey: "k" }, { data: "bad" }]),
        toNodeWritable(producer),
      ),
      RecordError,
    );
    await producer.close();
  });
});
