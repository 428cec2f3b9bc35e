/** KinesisClient.putRecords against a scripted loopback fake: wire shape, signatures, per-entry results, bad responses. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeCbor } from "../../src/aws/cbor.ts";
import type { DebugEvent } from "../../src/aws/debug.ts";
import { KinesisError } from "../../src/aws/errors.ts";
import { KinesisClient, type KinesisClientOptions } from "../../src/aws/kinesis_client.ts";
import { entryBytes, utf8Length } from "../../src/aws/request_limits.ts";
import { verifySigV4 } from "../support/sigv4_verifier.ts";
import { type Fake, type FakeRequest, type FakeResponse, json, startFake } from "./fake_kinesis.ts";

const CREDS = {
  accessKeyId: "ASIAPUTRECORDS",
  secretAccessKey: "put/records/secret+0123456789abcdefghijk",
  sessionToken: "put-records-token==",
};

let script: (req: FakeRequest) => FakeResponse = () => json(200, {});
let fake: Fake;
before(async () => {
  fake = await startFake((req) => script(req));
});
after(() => fake.stop());

function client(options: Partial<KinesisClientOptions> = {}): KinesisClient {
  return new KinesisClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: CREDS,
    ...options,
  });
}

function verified(req: FakeRequest): boolean {
  return verifySigV4(
    { method: req.method, path: req.path, headers: req.headers, body: req.body },
    [CREDS],
    { region: "us-east-1", service: "kinesis" },
  ).ok;
}

const entries = [
  { data: new Uint8Array([1, 2, 3]), partitionKey: "a" },
  { data: new Uint8Array(0), partitionKey: "日本", explicitHashKey: "7" },
  { data: new Uint8Array([255]), partitionKey: "c" },
];

async function invalid(p: Promise<unknown>): Promise<KinesisError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KinesisError, String(e));
    assert.equal(e.code, "InvalidResponse");
    assert.equal(e.retryable, true);
    assert.equal(e.kind, "transient");
    return e;
  }
  assert.fail("expected a rejection");
}

describe("KinesisClient.putRecords", () => {
  it("JSON: Records with base64 Data, per-entry results in order, signed", async () => {
    script = () =>
      json(200, {
        FailedRecordCount: 1,
        Records: [
          { ShardId: "shardId-000000000000", SequenceNumber: "1" },
          { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" },
          { ShardId: "shardId-000000000001", SequenceNumber: "2" },
        ],
      });
    const start = fake.requests.length;
    const out = await client().putRecords({ streamName: "s1", records: entries });
    assert.deepEqual(out, {
      failedRecordCount: 1,
      encryptionType: undefined,
      records: [
        { shardId: "shardId-000000000000", sequenceNumber: "1" },
        { errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded" },
        { shardId: "shardId-000000000001", sequenceNumber: "2" },
      ],
    });
    const req = fake.requests[start];
    assert.equal(req.headers["x-amz-target"], "Kinesis_20131202.PutRecords");
    assert.deepEqual(req.params, {
      StreamName: "s1",
      Records: [
        { Data: "AQID", PartitionKey: "a" },
        { Data: "", PartitionKey: "日本", ExplicitHashKey: "7" },
        { Data: "/w==", PartitionKey: "c" },
      ],
    });
    assert.ok(verified(req));
  });

  it("CBOR: byte-string Data, CBOR answer, signed", async () => {
    script = () => ({
      status: 200,
      headers: { "content-type": "application/x-amz-cbor-1.1" },
      body: encodeCbor({
        FailedRecordCount: 0,
        Records: entries.map((_, i) => ({
          ShardId: "shardId-000000000000",
          SequenceNumber: `${i}`,
        })),
      }),
    });
    const start = fake.requests.length;
    const out = await client({ protocol: "cbor" }).putRecords({
      streamARN: "arn:aws:kinesis:us-east-1:1:stream/s1",
      records: entries,
    });
    assert.equal(out.failedRecordCount, 0);
    assert.deepEqual(out.records.map((r) => r.sequenceNumber), ["0", "1", "2"]);
    const req = fake.requests[start];
    assert.equal(req.headers["content-type"], "application/x-amz-cbor-1.1");
    const wire = req.params.Records as { Data: Uint8Array }[];
    assert.deepEqual(wire.map((r) => [...r.Data]), [[1, 2, 3], [], [255]]);
    assert.ok(verified(req));
  });

  it("a Records list of the wrong length is a retryable error for the whole call", async () => {
    script = () =>
      json(200, { FailedRecordCount: 0, Records: [{ ShardId: "s", SequenceNumber: "1" }] });
    await invalid(client().putRecords({ streamName: "s1", records: entries }));
    script = () => json(200, { FailedRecordCount: 0 });
    await invalid(client().putRecords({ streamName: "s1", records: entries }));
  });

  it("an unreadable or malformed 200 is a retryable error, never a success", async () => {
    script = () => ({
      status: 200,
      headers: { "content-type": "text/html" },
      body: "<html>ok</html>",
    });
    await invalid(client().putRecords({ streamName: "s1", records: entries }));
    script = () => json(200, { Records: [{}, {}, {}] });
    await invalid(client().putRecords({ streamName: "s1", records: entries }));
    script = () => json(200, { Records: "nope" });
    await invalid(client().putRecords({ streamName: "s1", records: entries }));
  });

  it("trusts the entries over FailedRecordCount, and says so in a debug event", async () => {
    const events: DebugEvent[] = [];
    script = () =>
      json(200, {
        FailedRecordCount: 0,
        Records: [
          { ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure." },
          { ShardId: "s", SequenceNumber: "1" },
          { ErrorCode: "SomethingNew" },
        ],
      });
    const out = await client({ debug: (e) => events.push(e) }).putRecords({
      streamName: "s1",
      records: entries,
    });
    assert.equal(out.failedRecordCount, 2);
    assert.deepEqual(out.records[2], { errorCode: "SomethingNew", errorMessage: "" });
    const notes = events.filter((e) => e.note);
    assert.equal(notes.length, 1);
    assert.match(notes[0].note!, /FailedRecordCount 0 disagrees with 2/);
  });

  it("a whole-call error stays a typed KinesisError (throttle retryable)", async () => {
    script = () =>
      json(400, { __type: "ProvisionedThroughputExceededException", message: "Rate exceeded" });
    await assert.rejects(
      client().putRecords({ streamName: "s1", records: entries }),
      (e: unknown) => e instanceof KinesisError && e.kind === "throttling" && e.retryable,
    );
  });

  it("refuses an empty list, over 500 entries, and bad entries before any call", async () => {
    const start = fake.requests.length;
    const c = client();
    await assert.rejects(c.putRecords({ streamName: "s1", records: [] }), TypeError);
    const many = Array.from({ length: 501 }, () => entries[0]);
    await assert.rejects(c.putRecords({ streamName: "s1", records: many }), RangeError);
    await assert.rejects(
      c.putRecords({ streamName: "s1", records: [{ data: new Uint8Array(1), partitionKey: "" }] }),
      TypeError,
    );
    await assert.rejects(c.putRecords({ records: entries }), TypeError);
    assert.equal(fake.requests.length, start);
  });
});

describe("request limits", () => {
  it("counts partition keys in UTF-8 bytes", () => {
    assert.equal(utf8Length("abc"), 3);
    assert.equal(utf8Length("é"), 2);
    assert.equal(utf8Length("日本"), 6);
    assert.equal(utf8Length("😀"), 4);
    assert.equal(utf8Length("\ud800x"), 4);
    for (const s of ["a", "é日😀", "\ud800", "x\udc00y"]) {
      assert.equal(utf8Length(s), new TextEncoder().encode(s).length, s);
    }
    assert.equal(entryBytes(10, "日本"), 16);
  });
});
