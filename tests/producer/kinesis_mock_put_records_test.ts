/**
 * The producer's PutRecords path through the SigV4-verifying proxy to
 * kinesis-mock: collection (several aggregates per call) and unaggregated
 * mode, JSON and CBOR, read back shard by shard and compared byte for byte.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { KinesisClient, type Shard } from "../../src/aws/kinesis_client.ts";
import { readStream } from "../../src/aws/read_stream.ts";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { partitionKeyHash } from "../../src/format/keys.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { bytes, int, rng } from "../support/random.ts";
import { type SigV4Proxy, startSigV4Proxy } from "../support/sigv4_proxy.ts";

const available = existsSync(new URL("../../node_modules/kinesis-local/main.js", import.meta.url));
const CREDS = { accessKeyId: "ASIAPRODUCERPR", secretAccessKey: "producer/put-records/secret00" };
const REGION = "us-east-1";

describe("KinesisProducer PutRecords → SigV4 proxy → kinesis-mock", {
  skip: !available && "kinesis-local is not installed",
}, () => {
  let mock: KinesisMock;
  let proxy: SigV4Proxy;
  let shards: Shard[];
  const streams = ["agg-json", "agg-cbor", "raw-json", "raw-cbor"];

  before(async () => {
    mock = await startKinesisMock({
      streams: streams.map((name) => ({ name, shards: 4 })),
      region: REGION,
    });
    proxy = await startSigV4Proxy({
      upstream: mock.endpoint,
      credentials: [CREDS],
      region: REGION,
    });
    const admin = new KinesisClient({ region: REGION, endpoint: proxy.url, credentials: CREDS });
    for (const s of streams) {
      await admin.waitForStreamActive({ streamName: s, intervalMs: 200, timeoutMs: 30_000 });
    }
    shards = await admin.listShards({ streamName: streams[0] });
  });

  after(async () => {
    await proxy?.stop();
    await mock?.stop();
  });

  for (const aggregation of ["on", "off"] as const) {
    for (const protocol of ["json", "cbor"] as const) {
      it(`aggregation ${aggregation}, ${protocol}: every record stored once, in key order, byte for byte`, async () => {
        const streamName = `${aggregation === "on" ? "agg" : "raw"}-${protocol}`;
        const client = new KinesisClient({
          region: REGION,
          endpoint: proxy.url,
          credentials: CREDS,
          protocol,
        });
        const failures: DeliveryFailure[] = [];
        const start = proxy.requests.length;
        const producer = new KinesisProducer({
          streamName,
          client,
          keyed: true,
          aggregation,
          shards: shards.map((s) => ({ shardId: s.shardId, ...s.hashKeyRange })),
          // One call at a time: what is ready meanwhile is collected into one PutRecords.
          concurrency: 1,
          targetBytes: 4096,
          lingerMs: 20,
          onFailure: (f) => failures.push(f),
        });
        const rand = rng(aggregation.length * 7 + protocol.length);
        const sent = new Map<string, Uint8Array[]>();
        const n = 400;
        for (let i = 0; i < n; i++) {
          const key = `user-${int(rand, 0, 30)}-ü`;
          const data = bytes(rand, int(rand, 0, 700));
          const list = sent.get(key) ?? [];
          list.push(data);
          sent.set(key, list);
          await producer.put(data, { partitionKey: key });
        }
        await producer.close();
        assert.deepEqual(failures, []);
        assert.equal(producer.stats.recordsDelivered, n);

        // Read back shard by shard; per key, records come back in put order.
        const got = new Map<string, Uint8Array[]>();
        let kinesisRecords = 0;
        for await (const { shard, record } of readStream(client, { streamName })) {
          kinesisRecords++;
          const inner = deaggregate(record.data, record.partitionKey, {
            strict: aggregation === "on",
          });
          for (const r of inner) {
            assert.equal(r.aggregated, aggregation === "on");
            const hash = partitionKeyHash(r.partitionKey);
            assert.ok(
              hash >= BigInt(shard.hashKeyRange.startingHashKey) &&
                hash <= BigInt(shard.hashKeyRange.endingHashKey),
              `${r.partitionKey} stored in its own shard`,
            );
            const list = got.get(r.partitionKey) ?? [];
            list.push(r.data);
            got.set(r.partitionKey, list);
          }
        }
        if (aggregation === "off") assert.equal(kinesisRecords, n);
        else assert.ok(kinesisRecords < n / 4, `${kinesisRecords} aggregates`);
        assert.deepEqual([...got.keys()].sort(), [...sent.keys()].sort());
        for (const [key, list] of sent) assert.deepEqual(got.get(key), list, key);

        const seen = proxy.requests.slice(start);
        const puts = seen.filter((r) => r.action === "PutRecords");
        assert.ok(puts.length > 0, "PutRecords was used");
        assert.ok(seen.every((r) => r.verified), "every request signed correctly");
        assert.ok((producer.stats.callsByKind.PutRecords ?? 0) > 0);
      });
    }
  }
});
