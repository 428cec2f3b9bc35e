// Integration against LocalStack (Kinesis = kinesis-mock, STS = moto), with the
// SigV4-verifying proxy in front: the emulator accepts any signature, the proxy
// does not. Without LocalStack these tests skip, unless REQUIRE_LOCALSTACK=1.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  type AwsCredentials,
  deaggregate,
  type DeliveryFailure,
  KinesisError,
  type KinesisProducerOptions,
  type KinesisProtocol,
  RecordTooLargeError,
} from "../../mod.ts";
import { partitionKeyHash } from "../../format.ts";
import { KinesisClient, readStream, type Shard } from "../../aws.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { type LocalStack, localStackUnavailable, startLocalStack } from "../harness/localstack.ts";
import { type SigV4Proxy, startSigV4Proxy } from "../support/sigv4_proxy.ts";
import type { KnownCredentials } from "../support/sigv4_verifier.ts";
import { type Fault, startFaultProxy } from "../support/fault_proxy.ts";
import { bytes, int, rng } from "../support/random.ts";

const unavailable = await localStackUnavailable();
if (unavailable && process.env.REQUIRE_LOCALSTACK === "1") {
  throw new Error(`REQUIRE_LOCALSTACK=1 but ${unavailable}. Run scripts/install_localstack.sh.`);
}

// A 12-digit access key selects LocalStack's account; the proxy knows its secret.
const BASE: AwsCredentials = {
  accessKeyId: "000000000000",
  secretAccessKey: "integration-secret-key",
};
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Each record carries a unique id up front, then padding: `id|xxxx`. */
function makeRecord(id: number, size: number, rand: () => number): Uint8Array {
  const head = enc.encode(`${id}|`);
  const out = bytes(rand, Math.max(size, head.length));
  out.set(head, 0);
  return out;
}
const idOf = (data: Uint8Array) => Number(dec.decode(data.subarray(0, data.indexOf(0x7c))));

interface Stored {
  shard: Shard;
  partitionKey: string;
  explicitHashKey?: string;
  ids: number[];
  data: Uint8Array[];
}

describe(
  "integration: LocalStack",
  { skip: unavailable ? `skipped: ${unavailable}` : false },
  () => {
    let ls: LocalStack;
    let proxy: SigV4Proxy;
    // Secrets the verifying proxy accepts; AssumeRole adds the temporary ones it learns.
    const known: KnownCredentials[] = [BASE];
    let admin: KinesisClient;

    before(async () => {
      ls = await startLocalStack();
      proxy = await startSigV4Proxy({
        upstream: ls.endpoint,
        credentials: known,
        region: ls.region,
      });
      // Generous timeouts for the test's own calls: LocalStack on a busy 2-core machine has taken
      // over 11 s (the default for small bodies) to answer GetRecords.
      admin = new KinesisClient({
        region: ls.region,
        endpoint: proxy.url,
        credentials: BASE,
        timeoutMs: 60_000,
      });
    });

    after(async () => {
      await proxy?.stop();
      await ls?.stop();
    });

    let streams = 0;
    async function newStream(shards = 4): Promise<string> {
      const streamName = `it-${Date.now()}-${streams++}`;
      await admin.createStream({ streamName, shardCount: shards });
      await admin.waitForStreamActive({ streamName, timeoutMs: 60_000 });
      return streamName;
    }

    async function readAll(
      streamName: string,
      protocol: KinesisProtocol = "json",
    ): Promise<Stored[]> {
      const reader = new KinesisClient({
        region: ls.region,
        endpoint: proxy.url,
        credentials: BASE,
        protocol,
        timeoutMs: 60_000,
      });
      const out: Stored[] = [];
      for await (const { shard, record } of readStream(reader, { streamName })) {
        const inner = deaggregate(record.data, record.partitionKey, { strict: true });
        out.push({
          shard,
          partitionKey: record.partitionKey,
          ids: inner.map((r) => idOf(r.data)),
          data: inner.map((r) => r.data),
          explicitHashKey: inner[0]?.explicitHashKey,
        });
      }
      return out;
    }

    function producer(streamName: string, options: Partial<KinesisProducerOptions> = {}) {
      const failures: DeliveryFailure[] = [];
      const p = new KinesisProducer({
        streamName,
        region: ls.region,
        endpoint: proxy.url,
        credentials: BASE,
        onFailure: (f) => failures.push(f),
        ...options,
      });
      return { p, failures };
    }

    const modes = {
      random: {},
      fixed: { partitionKey: "fixed-key-é" },
      keyed: { keyed: true },
    } as const;

    for (const protocol of ["json", "cbor"] as const) {
      for (const [mode, modeOptions] of Object.entries(modes)) {
        it(`round-trips every record byte for byte (${protocol}, ${mode} keys)`, async () => {
          const rand = rng(protocol.length * 31 + mode.length);
          const streamName = await newStream();
          const options: Partial<KinesisProducerOptions> = { protocol, ...modeOptions };
          if (mode === "keyed") {
            // Pack per shard, from the stream's own hash ranges.
            const shards = await admin.listShards({ streamName });
            options.shards = shards.map((s) => ({ shardId: s.shardId, ...s.hashKeyRange }));
          }
          const { p, failures } = producer(streamName, options);
          const sent = new Map<number, Uint8Array>();
          const keyOf = new Map<number, string>();
          const n = 2500;
          for (let id = 0; id < n; id++) {
            // Mostly small, a few large, three near the 1 MiB record limit.
            const size = id % 1000 === 7
              ? 1_048_576 - 600
              : rand() < 0.02
              ? int(rand, 20_000, 120_000)
              : int(rand, 0, 600);
            const data = makeRecord(id, size, rand);
            sent.set(id, data);
            if (mode === "keyed") {
              const key = `user-${int(rand, 0, 40)}`;
              keyOf.set(id, key);
              await p.put(data, { partitionKey: key });
            } else {
              await p.put(data);
            }
          }
          await p.close();
          assert.deepEqual(failures, []);
          assert.equal(p.stats.recordsDelivered, n);

          const stored = await readAll(streamName, protocol);
          const seen = new Set<number>();
          for (const agg of stored) {
            agg.ids.forEach((id, i) => {
              assert.ok(!seen.has(id), `record ${id} stored once`);
              seen.add(id);
              assert.deepEqual(agg.data[i], sent.get(id), `record ${id} byte for byte`);
            });
            if (mode !== "keyed") {
              for (let i = 1; i < agg.ids.length; i++) {
                assert.ok(
                  agg.ids[i] > agg.ids[i - 1],
                  "order kept inside a chunk",
                );
              }
            }
            if (mode === "fixed") assert.equal(agg.partitionKey, "fixed-key-é");
            if (mode === "keyed") {
              // KCL's check: every inner record's hash lies in the storing shard's range.
              const lo = BigInt(agg.shard.hashKeyRange.startingHashKey);
              const hi = BigInt(agg.shard.hashKeyRange.endingHashKey);
              for (const id of agg.ids) {
                const hash = partitionKeyHash(keyOf.get(id)!);
                assert.ok(
                  hash >= lo && hash <= hi,
                  `record ${id} hashes inside ${agg.shard.shardId}`,
                );
              }
              const perKey = new Map<string, number>();
              for (const id of agg.ids) {
                const last = perKey.get(keyOf.get(id)!) ?? -1;
                assert.ok(id > last, "per-key order kept");
                perKey.set(keyOf.get(id)!, id);
              }
            }
          }
          assert.equal(seen.size, n, "every record arrived");
          // The verifying proxy checked every signature.
          assert.ok(proxy.requests.every((r) => r.verified));
        });
      }
    }

    for (const protocol of ["json", "cbor"] as const) {
      for (const aggregation of ["on", "off"] as const) {
        it(`PutRecords round trip, aggregation ${aggregation} (${protocol}): shard by shard, byte for byte`, async () => {
          const rand = rng(protocol.length * 17 + aggregation.length);
          const streamName = await newStream();
          const shards = await admin.listShards({ streamName });
          const start = proxy.requests.length;
          const { p, failures } = producer(streamName, {
            protocol,
            keyed: true,
            aggregation,
            shards: shards.map((s) => ({ shardId: s.shardId, ...s.hashKeyRange })),
            // One call at a time: ready aggregates are collected into PutRecords.
            concurrency: 1,
            targetBytes: 8192,
            lingerMs: 20,
          });
          const sent = new Map<string, Uint8Array[]>();
          const n = 1500;
          for (let id = 0; id < n; id++) {
            const key = `user-${int(rand, 0, 60)}`;
            const data = makeRecord(id, int(rand, 0, 900), rand);
            const list = sent.get(key) ?? [];
            list.push(data);
            sent.set(key, list);
            await p.put(data, { partitionKey: key });
          }
          await p.close();
          assert.deepEqual(failures, []);
          assert.ok((p.stats.callsByKind.PutRecords ?? 0) > 0, "PutRecords was used");

          const reader = new KinesisClient({
            region: ls.region,
            endpoint: proxy.url,
            credentials: BASE,
            protocol,
            timeoutMs: 60_000,
          });
          const got = new Map<string, Uint8Array[]>();
          let kinesisRecords = 0;
          for await (const { shard, record } of readStream(reader, { streamName })) {
            kinesisRecords++;
            for (const r of deaggregate(record.data, record.partitionKey)) {
              assert.equal(r.aggregated, aggregation === "on");
              const hash = partitionKeyHash(r.partitionKey);
              assert.ok(
                hash >= BigInt(shard.hashKeyRange.startingHashKey) &&
                  hash <= BigInt(shard.hashKeyRange.endingHashKey),
              );
              const list = got.get(r.partitionKey) ?? [];
              list.push(r.data);
              got.set(r.partitionKey, list);
            }
          }
          if (aggregation === "off") assert.equal(kinesisRecords, n);
          for (const [key, list] of sent) assert.deepEqual(got.get(key), list, key);
          assert.equal([...got.values()].reduce((m, l) => m + l.length, 0), n);
          const seen = proxy.requests.slice(start);
          assert.ok(seen.some((r) => r.action === "PutRecords"));
          assert.ok(seen.every((r) => r.verified));
        });
      }
    }

    it("assumes a role through LocalStack's STS with an external id, then puts with the session token", async () => {
      const streamName = await newStream(1);
      // Learn the temporary credentials from STS's answer, so the proxy can verify them.
      const learning: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === "POST" && String(init.body ?? "").includes("Action=AssumeRole")) {
          const xml = await response.clone().text();
          const pick = (tag: string) => xml.match(new RegExp(`<${tag}>([^<]+)</${tag}>`))?.[1];
          const accessKeyId = pick("AccessKeyId");
          if (accessKeyId) {
            known.push({
              accessKeyId,
              secretAccessKey: pick("SecretAccessKey")!,
              sessionToken: pick("SessionToken"),
            });
          }
        }
        return response;
      };
      const stsBody: string[] = [];
      const { p, failures } = producer(streamName, {
        roleArn: "arn:aws:iam::000000000000:role/kpl-producer",
        externalId: "ext-1234",
        stsEndpoint: ls.endpoint,
        fetch: (input, init) => {
          if (init?.body && typeof init.body === "string") stsBody.push(init.body);
          return learning(input, init);
        },
      });
      for (let i = 0; i < 50; i++) await p.put(`assumed-${i}`);
      await p.close();
      assert.deepEqual(failures, []);
      assert.ok(stsBody.some((b) => b.includes("ExternalId=ext-1234")), "external id sent");
      const temp = known.find((k) => k.sessionToken);
      assert.ok(temp, "STS issued temporary credentials");
      const puts = proxy.requests.filter((r) =>
        r.action === "PutRecord" && r.accessKeyId === temp!.accessKeyId
      );
      assert.ok(
        puts.length > 0 &&
          puts.every((r) => r.verified && r.headers["x-amz-security-token"] === temp!.sessionToken),
      );
      const stored = await readAll(streamName);
      assert.equal(stored.flatMap((s) => s.ids).length, 50);
    });

    it("bad input against the real endpoint gets typed errors", async () => {
      // A missing stream: typed, not retried, and the records come back.
      const missing = producer("no-such-stream-here");
      await missing.p.put("lost?");
      await missing.p.close();
      assert.equal(missing.failures.length, 1);
      const error = missing.failures[0].error as KinesisError;
      assert.ok(error instanceof KinesisError);
      assert.equal(error.code, "ResourceNotFoundException");
      assert.equal(error.retryable, false);
      assert.equal(missing.failures[0].attempts, 1);
      assert.equal(dec.decode(missing.failures[0].records[0].data), "lost?");

      // A record over the limit: rejected at put.
      const streamName = await newStream(1);
      const big = producer(streamName);
      await assert.rejects(big.p.put(new Uint8Array(1_048_577)), RecordTooLargeError);
      await big.p.close();

      // Wrong credentials: the verifying proxy refuses the signature.
      const wrong = producer(streamName, {
        credentials: { ...BASE, secretAccessKey: "not-the-secret" },
      });
      await wrong.p.put("x");
      await wrong.p.close();
      assert.equal(wrong.failures.length, 1);
      const denied = wrong.failures[0].error as KinesisError;
      assert.ok(denied instanceof KinesisError);
      assert.equal(denied.retryable, false);
      assert.match(denied.code, /Signature/);
      assert.ok(!denied.message.includes("not-the-secret"));
    });

    it("ships 100,000 records through injected faults: none lost, duplicates only from ambiguous chunks", async () => {
      const streamName = await newStream(2);
      const rand = rng(2024);
      const faults: Fault[] = [
        "reset",
        "500",
        "503",
        "throttle",
        "throttle",
        "latency",
        "hang",
        "hang-after",
        "reset-after",
      ];
      const faultProxy = await startFaultProxy({
        upstream: proxy.url,
        latencyMs: 300,
        fault: (_i, action) =>
          action === "PutRecord" && rand() < 0.35
            ? faults[int(rand, 0, faults.length - 1)]
            : "pass",
      });
      try {
        const { p, failures } = producer(streamName, {
          endpoint: faultProxy.url,
          targetBytes: 32 * 1024,
          // Faults are injected on PutRecord (above); collection's PutRecords path has its own
          // round trips. With collection on, kinesis-mock inside LocalStack spent minutes
          // behind the 5 MiB PutRecords calls and timed out the read-back's ListShards.
          collect: false,
          timeoutMs: 1500,
          baseDelayMs: 20,
          throttleBaseDelayMs: 50,
          maxDelayMs: 500,
          maxAttempts: 12,
        });
        const n = 100_000;
        for (let id = 0; id < n; id++) await p.put(makeRecord(id, int(rand, 8, 120), rand));
        await p.close();

        const stored = await readAll(streamName);
        const count = new Map<number, number>();
        for (const agg of stored) for (const id of agg.ids) count.set(id, (count.get(id) ?? 0) + 1);
        const failed = new Set(failures.flatMap((f) => f.records.map((r) => idOf(r.data))));
        for (let id = 0; id < n; id++) {
          assert.ok(count.has(id) || failed.has(id), `record ${id} delivered or reported`);
        }
        // Retries ride out the faults: almost everything lands; a failure is a retry running out.
        assert.ok(count.size >= n * 0.99, `${count.size} of ${n} delivered`);
        assert.equal(p.stats.recordsDelivered + p.stats.recordsFailed, n);
        for (const f of failures) {
          assert.ok(
            f.reason === "attempts-exhausted" || f.reason === "deadline-exceeded",
            f.reason,
          );
        }
        // A chunk stored twice shows up as a repeated aggregate.
        const seenAgg = new Map<string, number>();
        for (const agg of stored) {
          seenAgg.set(
            agg.ids.join(","),
            (seenAgg.get(agg.ids.join(",")) ?? 0) + 1,
          );
        }
        const duplicateChunks = [...seenAgg.values()].reduce((s, c) => s + c - 1, 0);
        // Ambiguous: answers the proxy withheld after forwarding, and calls the client timed
        // out (LocalStack may have stored them; on a loaded machine a passing call can take
        // longer than timeoutMs).
        const timedOut = p.stats.entriesFailedByCode.TimeoutError ?? 0;
        assert.ok(
          duplicateChunks <= faultProxy.ambiguous + timedOut,
          `${duplicateChunks} duplicated chunks, ${faultProxy.ambiguous} ambiguous outcomes, ` +
            `${timedOut} timeouts`,
        );
        assert.ok(faultProxy.counts.throttle > 0 && faultProxy.counts.hang > 0);
        console.log(
          `faults: ${JSON.stringify(faultProxy.counts)}; ambiguous ${faultProxy.ambiguous}; ` +
            `duplicated chunks ${duplicateChunks}; failed records ${failed.size}; stats ${
              JSON.stringify(p.stats)
            }`,
        );
      } finally {
        await faultProxy.stop();
      }
    });
  },
);
