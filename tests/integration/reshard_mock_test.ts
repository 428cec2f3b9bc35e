/**
 * Keyed shipping across a split and a merge in the middle of a run, against
 * kinesis-mock through the SigV4-checking proxy. The producer lists the shards
 * itself (`shards: "auto"`); the stream is resharded behind its back. Read
 * back shard by shard (closed parents too), every aggregate checked against
 * the range of the shard that stored it, as KCL does; every record read
 * exactly once from the aggregates KCL keeps.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import type { Shard } from "../../src/aws/kinesis_types.ts";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { partitionKeyHash } from "../../src/format/keys.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { type SigV4Proxy, startSigV4Proxy } from "../support/sigv4_proxy.ts";

const available = existsSync(new URL("../../node_modules/kinesis-local/main.js", import.meta.url));
const CREDS = {
  accessKeyId: "AKIDRESHARDMOCK",
  secretAccessKey: "reshard/secret+key/0123456789abcdefghijk",
};
const region = "us-east-1";
const STREAM = "reshard";

async function waitActive(client: KinesisClient): Promise<void> {
  await client.waitForStreamActive({ streamName: STREAM, intervalMs: 200, timeoutMs: 60_000 });
}

async function openShards(client: KinesisClient): Promise<Shard[]> {
  const all = await client.listShards({ streamName: STREAM, shardFilter: { Type: "AT_LATEST" } });
  return all.sort((a, b) =>
    BigInt(a.hashKeyRange.startingHashKey) < BigInt(b.hashKeyRange.startingHashKey) ? -1 : 1
  );
}

describe("keyed shipping across a split and a merge (kinesis-mock)", {
  skip: !available && "kinesis-local is not installed",
}, () => {
  let mock: KinesisMock;
  let proxy: SigV4Proxy;
  let admin: KinesisClient;

  before(async () => {
    mock = await startKinesisMock({ streams: [{ name: STREAM, shards: 2 }], region });
    proxy = await startSigV4Proxy({ upstream: mock.endpoint, credentials: [CREDS], region });
    admin = new KinesisClient({ region, endpoint: proxy.url, credentials: CREDS });
    await waitActive(admin);
  });

  after(async () => {
    await proxy?.stop();
    await mock?.stop();
  });

  it("no aggregate lands where KCL would drop it, or it is re-sent; every record read once", async () => {
    const summary = await admin.describeStreamSummary({ streamName: STREAM });
    // What kinesis-mock says (checked here): no strategy, so the producer aggregates.
    assert.equal(summary.recordDistributionStrategy, undefined);

    const failures: unknown[] = [];
    const producer = new KinesisProducer({
      streamName: STREAM,
      region,
      endpoint: proxy.url,
      credentials: CREDS,
      keyed: true,
      lingerMs: 20,
      onFailure: (f) => failures.push(f),
      onWarning: () => {},
    });
    const want: string[] = [];
    let n = 0;
    const batch = async (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        want.push(`rec-${n}`);
        await producer.put(`rec-${n}`, { partitionKey: `user-${n % 61}` });
      }
      await producer.flush();
    };

    await batch(300);
    const [first] = await openShards(admin);
    const mid = (BigInt(first.hashKeyRange.startingHashKey) +
      BigInt(first.hashKeyRange.endingHashKey)) / 2n;
    await admin.request("SplitShard", {
      StreamName: STREAM,
      ShardToSplit: first.shardId,
      NewStartingHashKey: `${mid}`,
    });
    await waitActive(admin);
    await batch(300);
    const open = await openShards(admin);
    await admin.request("MergeShards", {
      StreamName: STREAM,
      ShardToMerge: open[0].shardId,
      AdjacentShardToMerge: open[1].shardId,
    });
    await waitActive(admin);
    await batch(300);
    await producer.close();
    assert.deepEqual(failures, []);

    // Read every shard, closed parents included, and apply KCL's range check.
    const shards = await admin.listShards({ streamName: STREAM });
    const read: string[] = [];
    let dropped = 0;
    for (const shard of shards) {
      const start = BigInt(shard.hashKeyRange.startingHashKey);
      const end = BigInt(shard.hashKeyRange.endingHashKey);
      let iterator: string | undefined = await admin.getShardIterator({
        streamName: STREAM,
        shardId: shard.shardId,
        shardIteratorType: "TRIM_HORIZON",
      });
      for (let pages = 0; iterator && pages < 50; pages++) {
        const page = await admin.getRecords({ shardIterator: iterator, limit: 10_000 });
        for (const r of page.records) {
          const inner = deaggregate(r.data, r.partitionKey);
          const outside = inner.some((u) => {
            const h = u.explicitHashKey !== undefined
              ? BigInt(u.explicitHashKey)
              : partitionKeyHash(u.partitionKey);
            return h < start || h > end;
          });
          if (outside) {
            dropped++;
            continue;
          }
          for (const u of inner) read.push(new TextDecoder().decode(u.data));
        }
        if (page.records.length === 0) break;
        iterator = page.nextShardIterator;
      }
    }
    assert.deepEqual(read.sort(), want.sort(), "every record read exactly once");
    const stream = producer.stats.stream!;
    assert.ok(stream.wrongShard > 0, "the stale map was noticed");
    assert.equal(stream.recordsResent > 0, dropped > 0);
    for (const r of proxy.requests) assert.equal(r.verified, true, r.rejection);
  });
});
