/**
 * The producer hands a delivered aggregate's buffer back to its aggregator
 * for reuse (Aggregator.release), and only then: with calls in flight at
 * once and entries failing and retried, every record is stored exactly once
 * with its bytes, so no aggregate was overwritten while a request, a retry or
 * a later attempt could still read it. A caller's own client may keep what
 * it was given: its data is never reused.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { PutRecordClient } from "../../src/producer/options.ts";
import type { PutRecordInput, PutRecordsInput } from "../../src/aws/kinesis_types.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { bytes, int, rng } from "../support/random.ts";

const CREDS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMIEXAMPLEKEY" };

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** Record i: its index, then random bytes; sizes vary so aggregates fill to the target. */
function makeRecords(n: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const data = bytes(r, int(r, 4, 400));
    new DataView(data.buffer).setUint32(0, i);
    return data;
  });
}

/** Checks that `stored` aggregates hold every record of `records` exactly once, intact. */
function assertStoredOnce(
  stored: { data: Uint8Array; partitionKey: string }[],
  records: Uint8Array[],
) {
  const seen = new Array<number>(records.length).fill(0);
  for (const s of stored) {
    for (const inner of deaggregate(s.data, s.partitionKey, { strict: true })) {
      const i = new DataView(inner.data.buffer, inner.data.byteOffset).getUint32(0);
      assert.ok(i < records.length, `record index ${i}`);
      assert.deepEqual(inner.data, records[i]);
      seen[i]++;
    }
  }
  assert.deepEqual(seen.filter((n) => n !== 1).length, 0);
}

describe("producer: aggregate buffers are reused only after delivery", () => {
  it("stores every record once, intact, with calls overlapping and entries retried", async () => {
    const records = makeRecords(8000, 3);
    const r = rng(9);
    const stored: { data: Uint8Array; partitionKey: string }[] = [];
    const tried = new Set<string>();
    let failedOnce = 0;
    const producer = new KinesisProducer({
      streamName: "s",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      credentials: CREDS,
      aggregation: "on",
      targetBytes: 8192,
      baseDelayMs: 1,
      maxDelayMs: 5,
      fetch: async (_input, init) => {
        // Decoded before any wait: the request body is the producer's to reuse afterwards.
        const body = JSON.parse(new TextDecoder().decode(init!.body as Uint8Array));
        const entries: { Data: string; PartitionKey: string }[] = body.Records ?? [body];
        const decided = entries.map((e) => {
          // About one aggregate in six fails its first attempt and is sent again.
          const fail = !tried.has(e.PartitionKey) && int(r, 0, 5) === 0;
          tried.add(e.PartitionKey);
          if (fail) failedOnce++;
          else stored.push({ data: fromBase64(e.Data), partitionKey: e.PartitionKey });
          return fail;
        });
        await new Promise((resolve) => setTimeout(resolve, int(r, 0, 4)));
        const seq = () => String(stored.length);
        const answer = body.Records
          ? {
            FailedRecordCount: decided.filter(Boolean).length,
            Records: decided.map((fail) =>
              fail
                ? { ErrorCode: "InternalFailure", ErrorMessage: "try again" }
                : { ShardId: "shardId-000000000000", SequenceNumber: seq() }
            ),
          }
          : decided[0]
          ? undefined
          : { ShardId: "shardId-000000000000", SequenceNumber: seq() };
        if (answer === undefined) {
          return new Response(
            JSON.stringify({ __type: "InternalFailure", message: "try again" }),
            { status: 500, headers: { "content-type": "application/x-amz-json-1.1" } },
          );
        }
        return new Response(JSON.stringify(answer), {
          headers: { "content-type": "application/x-amz-json-1.1" },
        });
      },
    });
    // In waves, so aggregates are cut while earlier ones are in flight and delivered.
    for (let i = 0; i < records.length; i += 500) {
      await Promise.all(records.slice(i, i + 500).map((d) => producer.put(d)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await producer.close();
    assert.ok(failedOnce > 5, `failed first attempts: ${failedOnce}`);
    assert.ok(stored.length > 150, `aggregates stored: ${stored.length}`);
    assert.equal(producer.stats.recordsDelivered, records.length);
    assertStoredOnce(stored, records);
  });

  it("never reuses data a caller's own client was given", async () => {
    const records = makeRecords(4000, 4);
    const given: { data: Uint8Array; copy: Uint8Array; partitionKey: string }[] = [];
    const keep = (e: { data: Uint8Array; partitionKey: string }) =>
      given.push({ data: e.data, copy: e.data.slice(), partitionKey: e.partitionKey });
    const client: PutRecordClient = {
      putRecord(input: PutRecordInput) {
        keep(input);
        return Promise.resolve({ shardId: "shardId-0", sequenceNumber: String(given.length) });
      },
      putRecords(input: PutRecordsInput) {
        for (const e of input.records) keep(e);
        return Promise.resolve({
          failedRecordCount: 0,
          records: input.records.map(() => ({ shardId: "shardId-0", sequenceNumber: "1" })),
        });
      },
    };
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      aggregation: "on",
      targetBytes: 8192,
    });
    for (let i = 0; i < records.length; i += 500) {
      await Promise.all(records.slice(i, i + 500).map((d) => producer.put(d)));
    }
    await producer.close();
    assert.ok(given.length > 100);
    for (const g of given) assert.deepEqual(g.data, g.copy);
    assertStoredOnce(given, records);
  });
});
