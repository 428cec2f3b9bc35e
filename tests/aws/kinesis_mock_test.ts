/**
 * KinesisClient through the SigV4-checking proxy to kinesis-mock, in JSON and
 * CBOR: put, list shards, read back. Also measures bytes on the wire.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisError } from "../../src/aws/errors.ts";
import { KinesisClient, type KinesisProtocol } from "../../src/aws/kinesis_client.ts";
import { type SigV4Proxy, startSigV4Proxy } from "../support/sigv4_proxy.ts";
import { bytes, rng } from "../support/random.ts";
import { existsSync } from "node:fs";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";

const kinesisMockAvailable = existsSync(
  new URL("../../node_modules/kinesis-local/main.js", import.meta.url),
);

const CREDS = {
  accessKeyId: "ASIAMOCKTEST",
  secretAccessKey: "mock/secret+key/0123456789abcdefghijklmn",
  sessionToken: "mock-session-token==",
};
const MAX = 2n ** 128n - 1n;

describe("KinesisClient → SigV4 proxy → kinesis-mock", {
  skip: !kinesisMockAvailable && "kinesis-local is not installed",
}, () => {
  let mock: KinesisMock;
  let proxy: SigV4Proxy;

  before(async () => {
    mock = await startKinesisMock({ streams: [{ name: "s1", shards: 2 }], region: "us-east-1" });
    proxy = await startSigV4Proxy({
      upstream: mock.endpoint,
      credentials: [CREDS],
      region: "us-east-1",
    });
    // Through the proxy too: the first signed call.
    await new KinesisClient({ region: "us-east-1", endpoint: proxy.url, credentials: CREDS })
      .waitForStreamActive({ streamName: "s1", intervalMs: 200, timeoutMs: 30_000 });
  });

  after(async () => {
    await proxy?.stop();
    await mock?.stop();
  });

  for (const protocol of ["json", "cbor"] as KinesisProtocol[]) {
    it(`${protocol}: putRecord, listShards, getShardIterator, getRecords`, async () => {
      const client = new KinesisClient({
        region: "us-east-1",
        endpoint: proxy.url,
        credentials: CREDS,
        protocol,
      });
      const start = proxy.requests.length;
      const shards = await client.listShards({ streamName: "s1" });
      assert.equal(shards.length, 2);
      assert.equal(shards[0].hashKeyRange.startingHashKey, "0");
      assert.equal(BigInt(shards[1].hashKeyRange.endingHashKey), MAX);
      assert.equal(
        BigInt(shards[0].hashKeyRange.endingHashKey) + 1n,
        BigInt(shards[1].hashKeyRange.startingHashKey),
      );

      const data = bytes(rng(protocol.length), 1024);
      // An explicit hash key in the second shard's range decides the shard.
      const put = await client.putRecord({
        streamName: "s1",
        data,
        partitionKey: `pk-${protocol}-日本`,
        explicitHashKey: shards[1].hashKeyRange.startingHashKey,
      });
      assert.equal(put.shardId, shards[1].shardId);
      assert.match(put.sequenceNumber, /^\d+$/);

      const iterator = await client.getShardIterator({
        streamName: "s1",
        shardId: put.shardId,
        shardIteratorType: "AT_SEQUENCE_NUMBER",
        startingSequenceNumber: put.sequenceNumber,
      });
      const page = await client.getRecords({ shardIterator: iterator, limit: 1 });
      assert.equal(page.records.length, 1);
      assert.deepEqual(page.records[0].data, data);
      assert.equal(page.records[0].partitionKey, `pk-${protocol}-日本`);
      assert.equal(page.records[0].sequenceNumber, put.sequenceNumber);
      assert.ok(page.records[0].approximateArrivalTimestamp instanceof Date);
      assert.ok(
        Math.abs(page.records[0].approximateArrivalTimestamp.getTime() - Date.now()) < 600_000,
      );
      assert.ok(page.nextShardIterator);

      const summary = await client.describeStreamSummary({ streamName: "s1" });
      assert.equal(summary.streamStatus, "ACTIVE");
      assert.equal(summary.openShardCount, 2);

      const seen = proxy.requests.slice(start);
      assert.deepEqual(seen.map((r) => r.action), [
        "ListShards",
        "PutRecord",
        "GetShardIterator",
        "GetRecords",
        "DescribeStreamSummary",
      ]);
      for (const r of seen) {
        assert.equal(r.verified, true, r.rejection);
        assert.equal(r.status, 200);
        assert.equal(r.headers.authorization, undefined);
        assert.equal(
          r.headers["content-type"],
          protocol === "cbor" ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1",
        );
      }
    });
  }

  for (const protocol of ["json", "cbor"] as KinesisProtocol[]) {
    it(`${protocol}: putRecords round trip, read back shard by shard, every call verified`, async () => {
      const client = new KinesisClient({
        region: "us-east-1",
        endpoint: proxy.url,
        credentials: CREDS,
        protocol,
      });
      const start = proxy.requests.length;
      const shards = await client.listShards({ streamName: "s1" });
      const random = rng(7 + protocol.length);
      const records = Array.from({ length: 40 }, (_, i) => ({
        data: bytes(random, 1 + (i * 37) % 500),
        partitionKey: `k${i}-ü`,
        explicitHashKey: shards[i % 2].hashKeyRange.startingHashKey,
      }));
      const out = await client.putRecords({ streamName: "s1", records });
      assert.equal(out.failedRecordCount, 0);
      assert.equal(out.records.length, records.length);
      for (let i = 0; i < records.length; i++) {
        assert.equal(out.records[i].shardId, shards[i % 2].shardId);
      }
      for (const shard of [0, 1]) {
        const sent = records.filter((_, i) => i % 2 === shard);
        const first = out.records[shard];
        let iterator: string | undefined = await client.getShardIterator({
          streamName: "s1",
          shardId: first.shardId!,
          shardIteratorType: "AT_SEQUENCE_NUMBER",
          startingSequenceNumber: first.sequenceNumber!,
        });
        const got: { data: Uint8Array; partitionKey: string }[] = [];
        while (iterator && got.length < sent.length) {
          const page = await client.getRecords({ shardIterator: iterator, limit: 100 });
          got.push(...page.records);
          if (page.records.length === 0) break;
          iterator = page.nextShardIterator;
        }
        assert.deepEqual(
          got.slice(0, sent.length).map((r) => [r.partitionKey, [...r.data]]),
          sent.map((r) => [r.partitionKey, [...r.data]]),
        );
      }
      const seen = proxy.requests.slice(start);
      assert.ok(seen.some((r) => r.action === "PutRecords"));
      for (const r of seen) assert.equal(r.verified, true, r.rejection);
    });
  }

  it("a wrong secret is rejected by the proxy and never forwarded", async () => {
    const client = new KinesisClient({
      region: "us-east-1",
      endpoint: proxy.url,
      credentials: { ...CREDS, secretAccessKey: "wrong" },
    });
    const start = proxy.requests.length;
    await assert.rejects(
      client.putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }),
      (e: unknown) => {
        assert.ok(e instanceof KinesisError);
        assert.equal(e.code, "InvalidSignatureException");
        assert.equal(e.status, 403);
        assert.equal(e.kind, "fatal");
        return true;
      },
    );
    assert.equal(proxy.requests.length - start, 1);
    assert.equal(proxy.requests[start].rejection, "InvalidSignatureException");
    const noToken = new KinesisClient({
      region: "us-east-1",
      endpoint: proxy.url,
      credentials: { ...CREDS, sessionToken: undefined },
    });
    await assert.rejects(
      noToken.listShards({ streamName: "s1" }),
      (e: unknown) => e instanceof KinesisError && e.code === "UnrecognizedClientException",
    );
  });

  it("a proxy clock one hour ahead: the client corrects its offset and succeeds", async () => {
    const skewed = await startSigV4Proxy({
      upstream: mock.endpoint,
      credentials: [CREDS],
      now: () => new Date(Date.now() + 3_600_000),
    });
    try {
      const client = new KinesisClient({
        region: "us-east-1",
        endpoint: skewed.url,
        credentials: CREDS,
        protocol: "cbor",
      });
      await client.putRecord({ streamName: "s1", data: new Uint8Array(8), partitionKey: "k" });
      assert.deepEqual(skewed.requests.map((r) => r.rejection ?? "ok"), [
        "InvalidSignatureException",
        "ok",
      ]);
      assert.ok(Math.abs(client.clockOffsetMs - 3_600_000) < 5_000);
    } finally {
      await skewed.stop();
    }
  });

  it("bytes on the wire: JSON vs CBOR PutRecord bodies", async () => {
    const sizes = [1024, 300 * 1024, 1024 * 1024 - 2];
    const rows: string[] = [];
    for (const size of sizes) {
      const data = bytes(rng(size), size);
      const wire: Record<string, number> = {};
      for (const protocol of ["json", "cbor"] as KinesisProtocol[]) {
        const client = new KinesisClient({
          region: "us-east-1",
          endpoint: proxy.url,
          credentials: CREDS,
          protocol,
        });
        const start = proxy.requests.length;
        await client.putRecord({ streamName: "s1", data, partitionKey: "pk" });
        const r = proxy.requests[start];
        assert.equal(r.verified, true);
        wire[protocol] = r.bodyBytes;
      }
      // Exact sizes: JSON (49 bytes of framing) {"StreamName":"s1","Data":"<base64>","PartitionKey":"pk"};
      // CBOR map(3) + keys + text "s1" + bytes head (3 or 5) + data + text "pk".
      const b64 = 4 * Math.ceil(size / 3);
      assert.equal(wire.json, 49 + b64);
      assert.equal(wire.cbor, 1 + 11 + 3 + 5 + (size < 65_536 ? 3 : 5) + size + 13 + 3);
      rows.push(
        `${String(size).padStart(8)} B data: JSON ${wire.json} B (+${
          ((wire.json / size - 1) * 100).toFixed(1)
        }%), CBOR ${wire.cbor} B (+${((wire.cbor / size - 1) * 100).toFixed(2)}%)`,
      );
    }
    console.log(`PutRecord request body bytes:\n${rows.join("\n")}`);
  });
});
