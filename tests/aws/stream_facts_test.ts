/**
 * DescribeStreamSummary and ListShards against a scripted loopback fake, in
 * JSON and CBOR: what is sent (signed, checked by the independent verifier),
 * and what is read back, including a service-managed (AUTO) stream.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeCbor } from "../../src/aws/cbor.ts";
import { KinesisClient, type KinesisProtocol } from "../../src/aws/kinesis_client.ts";
import { ShardMap } from "../../src/format/shard_map.ts";
import { verifySigV4 } from "../support/sigv4_verifier.ts";
import { type Fake, type FakeRequest, type FakeResponse, startFake } from "./fake_kinesis.ts";

const CREDS = {
  accessKeyId: "AKIDSTREAMFACTS",
  secretAccessKey: "streamFactsSecret/0000000000000000000000",
};
const MAX = (1n << 128n) - 1n;
const HALF = 1n << 127n;

let script: (req: FakeRequest) => unknown = () => ({});
let protocol: KinesisProtocol = "json";
let fake: Fake;

function answer(value: unknown): FakeResponse {
  return protocol === "cbor"
    ? {
      status: 200,
      headers: { "content-type": "application/x-amz-cbor-1.1" },
      body: encodeCbor(value),
    }
    : {
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: JSON.stringify(value),
    };
}

before(async () => {
  fake = await startFake((req) => answer(script(req)));
});
after(() => fake.stop());

function client(): KinesisClient {
  return new KinesisClient({
    region: "eu-west-1",
    endpoint: fake.url,
    credentials: CREDS,
    protocol,
  });
}

function assertSigned(req: FakeRequest, action: string): void {
  assert.equal(req.action, action);
  assert.equal(req.headers["x-amz-target"], `Kinesis_20131202.${action}`);
  const verified = verifySigV4(
    { method: req.method, path: req.path, headers: req.headers, body: req.body },
    [{ ...CREDS }],
    { region: "eu-west-1", service: "kinesis" },
  );
  assert.deepEqual(verified, { ok: true, accessKeyId: CREDS.accessKeyId });
}

const SUMMARY = {
  StreamName: "orders",
  StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/orders",
  StreamStatus: "ACTIVE",
  StreamModeDetails: { StreamMode: "ON_DEMAND" },
  RetentionPeriodHours: 24,
  StreamCreationTimestamp: 1_700_000_000,
  EncryptionType: "NONE",
  OpenShardCount: 4,
  ConsumerCount: 0,
  MaxRecordSizeInKiB: 2048,
  RecordDistributionStrategy: "AUTO",
};

function wireShard(id: number, start: bigint, end: bigint, closed = false) {
  return {
    ShardId: `shardId-${String(id).padStart(12, "0")}`,
    HashKeyRange: { StartingHashKey: `${start}`, EndingHashKey: `${end}` },
    SequenceNumberRange: {
      StartingSequenceNumber: "4959",
      ...(closed ? { EndingSequenceNumber: "4960" } : {}),
    },
  };
}

for (const p of ["json", "cbor"] as const) {
  describe(`stream facts over ${p}`, () => {
    before(() => {
      protocol = p;
    });

    it("describeStreamSummary sends the stream name, signed, and reads every fact the producer uses", async () => {
      script = () => ({ StreamDescriptionSummary: SUMMARY });
      const start = fake.requests.length;
      const s = await client().describeStreamSummary({ streamName: "orders" });
      const req = fake.requests[start];
      assertSigned(req, "DescribeStreamSummary");
      assert.deepEqual(req.params, { StreamName: "orders" });
      assert.equal(s.streamStatus, "ACTIVE");
      assert.equal(s.streamMode, "ON_DEMAND");
      assert.equal(s.openShardCount, 4);
      assert.equal(s.maxRecordSizeInKiB, 2048);
      assert.equal(s.recordDistributionStrategy, "AUTO");
    });

    it("describeStreamSummary of a provisioned stream: no strategy, by ARN", async () => {
      const { RecordDistributionStrategy: _, ...provisioned } = SUMMARY;
      script = () => ({
        StreamDescriptionSummary: {
          ...provisioned,
          StreamModeDetails: { StreamMode: "PROVISIONED" },
        },
      });
      const start = fake.requests.length;
      const s = await client().describeStreamSummary({ streamARN: SUMMARY.StreamARN });
      assert.deepEqual(fake.requests[start].params, { StreamARN: SUMMARY.StreamARN });
      assert.equal(s.streamMode, "PROVISIONED");
      assert.equal(s.recordDistributionStrategy, undefined);
    });

    it("listShards AT_LATEST: the filter on the first page only, NextToken alone after; the result makes a ShardMap", async () => {
      // Three pages: a split shard's children arrive on different pages.
      script = (req) => {
        if (!req.params.NextToken) {
          return { Shards: [wireShard(1, 0n, HALF / 2n - 1n)], NextToken: "page-2" };
        }
        if (req.params.NextToken === "page-2") {
          return { Shards: [wireShard(2, HALF / 2n, HALF - 1n)], NextToken: "page-3" };
        }
        return { Shards: [wireShard(3, HALF, MAX)] };
      };
      const start = fake.requests.length;
      const shards = await client().listShards({
        streamName: "orders",
        shardFilter: { Type: "AT_LATEST" },
      });
      assert.equal(fake.requests.length - start, 3);
      assertSigned(fake.requests[start], "ListShards");
      assert.deepEqual(fake.requests[start].params, {
        StreamName: "orders",
        ShardFilter: { Type: "AT_LATEST" },
      });
      assert.deepEqual(fake.requests[start + 1].params, { NextToken: "page-2" });
      assert.deepEqual(fake.requests[start + 2].params, { NextToken: "page-3" });
      assertSigned(fake.requests[start + 2], "ListShards");
      const map = new ShardMap(shards);
      assert.deepEqual(map.ranges.map((r) => r.shardId), [
        "shardId-000000000001",
        "shardId-000000000002",
        "shardId-000000000003",
      ]);
    });

    it("listShards without a filter returns closed parents too; ShardMap drops them", async () => {
      script = () => ({
        Shards: [
          wireShard(0, 0n, MAX, true),
          wireShard(1, 0n, HALF - 1n),
          wireShard(2, HALF, MAX),
        ],
      });
      const shards = await client().listShards({ streamName: "orders" });
      assert.equal(shards.length, 3);
      assert.equal(shards[0].sequenceNumberRange.endingSequenceNumber, "4960");
      assert.deepEqual(new ShardMap(shards).ranges.map((r) => r.shardId), [
        "shardId-000000000001",
        "shardId-000000000002",
      ]);
    });
  });
}
