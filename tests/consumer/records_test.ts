// The consumer side: Lambda events, GetRecords (JSON and SDK v3 shapes) and our
// own client's records, mixed aggregated and plain, corrupt aggregates reported
// per record, gzip undone, and the same through DeaggregationStream.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  aggregate,
  AggregateFormatError,
  type ConsumedRecord,
  deaggregateEvent,
  deaggregateRecords,
  DeaggregationStream,
  DecompressionError,
  type KinesisRecordInput,
  type LambdaKinesisEvent,
} from "../../mod.ts";
import { gzip } from "../../format.ts";
import { encodeBase64 } from "../../src/aws/base64.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (r: ConsumedRecord) => dec.decode(r.data);

function lambdaRecord(data: Uint8Array, partitionKey: string, sequenceNumber: string) {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      data: encodeBase64(data),
      partitionKey,
      sequenceNumber,
      approximateArrivalTimestamp: 1700000000.25,
    },
    eventSource: "aws:kinesis",
    eventID: `shardId-000000000000:${sequenceNumber}`,
    eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
  };
}

/** One keyed aggregate of three records, one plain record, one aggregate with a broken MD5. */
function mixedBatch() {
  const [keyed] = aggregate(
    [
      { data: enc.encode("a0"), partitionKey: "user-1" },
      { data: enc.encode("a1"), partitionKey: "user-2", explicitHashKey: "42" },
      { data: enc.encode("a2"), partitionKey: "user-1" },
    ],
    // One shard covers every hash key, so all three share one aggregate.
    { keyed: true, shards: [{ startingHashKey: "0", endingHashKey: String(2n ** 128n - 1n) }] },
  );
  const [broken] = aggregate([{ data: enc.encode("b0") }, { data: enc.encode("b1") }]);
  const corrupt = broken.data.slice();
  corrupt[corrupt.length - 1] ^= 0xff;
  return { keyed, corrupt, corruptKey: broken.partitionKey };
}

describe("deaggregateEvent (Lambda)", () => {
  it("reads mixed aggregated and plain records with keys, sequence and sub-sequence numbers", async () => {
    const { keyed, corrupt, corruptKey } = mixedBatch();
    const event: LambdaKinesisEvent = {
      Records: [
        lambdaRecord(keyed.data, keyed.partitionKey, "100"),
        lambdaRecord(enc.encode("plain"), "p-key", "200"),
        lambdaRecord(corrupt, corruptKey, "300"),
        lambdaRecord(enc.encode("after"), "p-key", "400"),
      ],
    };
    const out = await deaggregateEvent(event);
    assert.deepEqual(
      out.map((
        r,
      ) => [text(r), r.partitionKey, r.sequenceNumber, r.subSequenceNumber, r.aggregated]),
      [
        ["a0", "user-1", "100", 0, true],
        ["a1", "user-2", "100", 1, true],
        ["a2", "user-1", "100", 2, true],
        ["plain", "p-key", "200", 0, false],
        [dec.decode(corrupt), corruptKey, "300", 0, false],
        ["after", "p-key", "400", 0, false],
      ],
    );
    assert.equal(out[1].explicitHashKey, "42");
    assert.equal(out[0].explicitHashKey, undefined);
    assert.equal(out[0].approximateArrivalTimestamp, 1700000000250);
    // The checksum failure is on its own record only; the whole Kinesis record comes back.
    assert.ok(out[4].error instanceof AggregateFormatError);
    assert.equal((out[4].error as AggregateFormatError).code, "ChecksumMismatch");
    assert.deepEqual(out[4].data, corrupt);
    assert.deepEqual(out.filter((r) => r.error).map((r) => r.sequenceNumber), ["300"]);
  });

  it("reports an aggregate whose MD5 matches but whose protobuf does not parse", async () => {
    const { md5Portable } = await import("../../src/format/md5.ts");
    const body = new Uint8Array([0x1a, 0x05, 0x08]); // record field claiming 5 bytes, 1 present
    const data = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...body, ...md5Portable(body)]);
    const [r] = await deaggregateEvent({ Records: [lambdaRecord(data, "k", "1")] });
    assert.ok(r.error instanceof AggregateFormatError);
    assert.equal((r.error as AggregateFormatError).code, "MalformedProtobuf");
  });

  it("rejects with a TypeError for something that is not a Kinesis event", async () => {
    await assert.rejects(deaggregateEvent({} as LambdaKinesisEvent), TypeError);
    await assert.rejects(
      deaggregateEvent({ Records: [{ nope: 1 }] } as unknown as LambdaKinesisEvent),
      TypeError,
    );
  });

  it("an empty event gives no records", async () => {
    assert.deepEqual(await deaggregateEvent({ Records: [] }), []);
  });
});

describe("deaggregateRecords (GetRecords shapes)", () => {
  it("reads JSON GetRecords records (base64 Data) and SDK v3 records (Uint8Array Data) alike", async () => {
    const [agg] = aggregate([{ data: enc.encode("x") }, { data: enc.encode("y") }]);
    const json = {
      Data: encodeBase64(agg.data),
      PartitionKey: agg.partitionKey,
      SequenceNumber: "7",
      ApproximateArrivalTimestamp: 1700000001,
    };
    const sdk = {
      Data: agg.data,
      PartitionKey: agg.partitionKey,
      SequenceNumber: "8",
      ApproximateArrivalTimestamp: new Date(1700000002000),
    };
    const ours = { data: enc.encode("z"), partitionKey: "k", sequenceNumber: "9" };
    const out = await deaggregateRecords([json, sdk, ours]);
    assert.deepEqual(
      out.map((
        r,
      ) => [text(r), r.sequenceNumber, r.subSequenceNumber, r.approximateArrivalTimestamp]),
      [
        ["x", "7", 0, 1700000001000],
        ["y", "7", 1, 1700000001000],
        ["x", "8", 0, 1700000002000],
        ["y", "8", 1, 1700000002000],
        ["z", "9", 0, undefined],
      ],
    );
    assert.ok(out.every((r) => r.error === undefined));
  });

  it("refuses Data that is neither base64 text nor bytes", async () => {
    await assert.rejects(
      deaggregateRecords([{ Data: 5, PartitionKey: "k", SequenceNumber: "1" } as never]),
      TypeError,
    );
  });
});

describe("decompress: gzip", () => {
  it("undoes per-record gzip inside aggregates, and reports a record that is not gzip", async () => {
    const lines = ["first line", "second line ".repeat(20), ""];
    const packed = await Promise.all(lines.map((l) => gzip(enc.encode(l))));
    const [agg] = aggregate(packed.map((data) => ({ data })));
    const out = await deaggregateRecords(
      [
        { data: agg.data, partitionKey: agg.partitionKey, sequenceNumber: "1" },
        { data: enc.encode("not gzip"), partitionKey: "k", sequenceNumber: "2" },
      ],
      { decompress: "gzip" },
    );
    assert.deepEqual(out.slice(0, 3).map(text), lines);
    assert.ok(out[3].error instanceof DecompressionError);
    assert.equal(text(out[3]), "not gzip", "the stored bytes are handed on");
  });

  it("a truncated gzip stream is a DecompressionError on that record only", async () => {
    const good = await gzip(enc.encode("good"));
    const bad = (await gzip(enc.encode("bad ".repeat(50)))).subarray(0, 15);
    const [agg] = aggregate([{ data: bad }, { data: good }]);
    const out = await deaggregateRecords(
      [{ data: agg.data, partitionKey: agg.partitionKey, sequenceNumber: "1" }],
      { decompress: "gzip" },
    );
    assert.ok(out[0].error instanceof DecompressionError);
    assert.equal(out[1].error, undefined);
    assert.equal(text(out[1]), "good");
  });
});

describe("DeaggregationStream", () => {
  function source(items: unknown[]): ReadableStream<KinesisRecordInput> {
    let i = 0;
    return new ReadableStream({
      pull(controller) {
        if (i < items.length) controller.enqueue(items[i++] as KinesisRecordInput);
        else controller.close();
      },
    });
  }

  it("turns a stream of Kinesis records into user records, in order", async () => {
    const { keyed, corrupt, corruptKey } = mixedBatch();
    const out: ConsumedRecord[] = [];
    await source([
      { data: keyed.data, partitionKey: keyed.partitionKey, sequenceNumber: "1" },
      { Data: corrupt, PartitionKey: corruptKey, SequenceNumber: "2" },
      lambdaRecord(enc.encode("plain"), "p", "3"),
    ]).pipeThrough(new DeaggregationStream()).pipeTo(
      new WritableStream({ write: (r) => void out.push(r) }),
    );
    assert.deepEqual(out.map((r) => [r.sequenceNumber, r.subSequenceNumber]), [
      ["1", 0],
      ["1", 1],
      ["1", 2],
      ["2", 0],
      ["3", 0],
    ]);
    assert.ok(out[3].error instanceof AggregateFormatError);
    assert.equal(text(out[4]), "plain");
  });

  it("decompresses with { decompress: 'gzip' }", async () => {
    const [agg] = aggregate([{ data: await gzip(enc.encode("zipped")) }]);
    const out: string[] = [];
    await source([{ data: agg.data, partitionKey: agg.partitionKey, sequenceNumber: "1" }])
      .pipeThrough(new DeaggregationStream({ decompress: "gzip" }))
      .pipeTo(new WritableStream({ write: (r) => void out.push(text(r)) }));
    assert.deepEqual(out, ["zipped"]);
  });

  it("errors the stream with a TypeError for input that is not a Kinesis record", async () => {
    await assert.rejects(
      source([42]).pipeThrough(new DeaggregationStream()).pipeTo(new WritableStream()),
      TypeError,
    );
  });
});
