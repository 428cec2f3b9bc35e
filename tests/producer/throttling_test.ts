/**
 * Throughput under faults (issue 19): backoff outside the in-flight slots,
 * at most one window decrease per round trip, per-shard limiters against a
 * fake whose throttling depends on load, strict order under faults.
 * Correctness only: the throughput figures come from scripts/bench/throttling.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisError } from "../../src/aws/errors.ts";
import type { PutRecordInput, PutRecordOutput } from "../../src/aws/kinesis_client.ts";
import { CongestionWindow } from "../../src/producer/congestion.ts";
import type { Delivery, DeliveryFailure, PutRecordClient } from "../../src/producer/options.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { ShardLimiter } from "../../src/producer/shard_limiter.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { rng } from "../support/random.ts";
import { ScriptedClient, type Step } from "../support/scripted_client.ts";
import { ThrottlingKinesis } from "../support/throttling_kinesis.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("backoff outside the in-flight slot", () => {
  it("a chunk waiting out its backoff does not hold up the others (concurrency 1)", async () => {
    const clock = new FakeClock();
    const client = new ScriptedClient((n) => (n === 0 ? "500" : "ok"), () => clock.now());
    const delivered: string[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      clock,
      concurrency: 1,
      targetBytes: 1024,
      baseDelayMs: 10_000,
      random: () => 0.99,
      onDelivered: (d) => delivered.push(...d.userRecords.map((r) => dec.decode(r.data))),
    });
    // Each put cuts the previous chunk: chunks A, B, C, D, one record each.
    for (const name of ["A", "B", "C", "D"]) await producer.put(name.repeat(900));
    const done = producer.flush();
    await clock.advance(100);
    // A failed and waits about 10 s; B, C and D went meanwhile through the one slot.
    assert.deepEqual(delivered.map((s) => s[0]), ["B", "C", "D"]);
    assert.equal(producer.stats.waitingForRetry, 1);
    assert.equal(producer.stats.inFlight, 0);
    await clock.advance(10_000);
    await done;
    assert.deepEqual(delivered.map((s) => s[0]), ["B", "C", "D", "A"]);
    assert.equal(producer.stats.waitingForRetry, 0);
    assert.equal(producer.stats.expiredUnattempted, 0);
    await producer.close();
  });
});

describe("AIMD: at most one decrease per round trip", () => {
  it("CongestionWindow halves once for throttles of calls sent before the decrease", () => {
    const w = new CongestionWindow(8);
    for (let i = 0; i < 8; i++) w.onThrottle(100, 150 + i);
    assert.equal(w.size, 4);
    assert.equal(w.throttles, 8);
    // A call sent after the decrease may decrease again.
    assert.equal(w.onThrottle(160, 200), true);
    assert.equal(w.size, 2);
    // Additive increase: 1/size per success, about one per window of successes.
    w.onSuccess();
    w.onSuccess();
    assert.equal(w.size, 2.9);
    w.onThrottle(300, 301);
    w.onThrottle(300, 302);
    assert.equal(w.size, 1.45);
    for (let i = 0; i < 100; i++) w.onSuccess();
    assert.equal(w.size, 8);
  });

  it("eight throttled calls from one round take the producer's window from 8 to 4, not 1", async () => {
    const pending: ((e?: unknown) => void)[] = [];
    const client: PutRecordClient = {
      putRecord: (_input: PutRecordInput) =>
        new Promise<PutRecordOutput>((resolve, reject) =>
          pending.push((e) =>
            e ? reject(e) : resolve({ shardId: "shardId-000000000000", sequenceNumber: "1" })
          )
        ),
    };
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      concurrency: 8,
      targetBytes: 1024,
      baseDelayMs: 1,
      throttleBaseDelayMs: 1,
      maxDelayMs: 1,
      collect: false,
    });
    for (let i = 0; i < 17; i++) await producer.put("x".repeat(900));
    await settle();
    assert.equal(pending.length, 8);
    const throttle = new KinesisError({
      code: "ProvisionedThroughputExceededException",
      message: "Rate exceeded",
      status: 400,
    });
    for (const finish of pending.splice(0)) finish(throttle);
    await settle();
    assert.equal(producer.stats.window, 4);
    assert.equal(producer.stats.throttles, 8);
    // Drain: everything succeeds from now on.
    const flushed = producer.close();
    for (let i = 0; i < 200 && producer.stats.recordsDelivered < 17; i++) {
      for (const finish of pending.splice(0)) finish();
      await new Promise((r) => setTimeout(r, 2));
    }
    await flushed;
    assert.equal(producer.stats.recordsDelivered, 17);
  });

  it("ShardLimiter: halves its rate once per round trip, grows back by 1/16 per success", () => {
    const l = new ShardLimiter(0, 1000, 10);
    assert.equal(l.admits(1000, 0), true);
    l.take(1000);
    assert.equal(l.admits(1, 0), false);
    assert.equal(l.readyAt(500, 0), 500);
    assert.equal(l.admits(500, 500), true);
    assert.equal(l.onThrottle(400, 600), true);
    assert.equal(l.onThrottle(500, 601), false);
    assert.equal(l.rate, 0.5);
    assert.equal(l.throttles, 2);
    // Emptied by the throttle; refills at half the rate.
    assert.equal(l.admits(250, 1000), false);
    assert.equal(l.admits(250, 1100), true);
    for (let i = 0; i < 8; i++) l.onSuccess();
    assert.equal(l.rate, 1);
  });
});

describe("per-shard limiters against a load-dependent fake", () => {
  it("a hot shard throttles alone; every record arrives once", async () => {
    // Shard 0 takes 64 KiB/s (others write to it too); shards 1-3 the full 1 MiB/s.
    const fake = new ThrottlingKinesis({ perShard: { 0: { bytesPerSecond: 65_536 } }, keep: true });
    const failures: DeliveryFailure[] = [];
    const deliveries: Delivery[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client: fake,
      keyed: true,
      shards: fake.ranges,
      targetBytes: 16_384,
      lingerMs: 20,
      maxAttempts: 30,
      onFailure: (f) => failures.push(f),
      onDelivered: (d) => deliveries.push(d),
    });
    const random = rng(19);
    const sent: string[] = [];
    for (let i = 0; i < 600; i++) {
      const data = `rec-${i}-`.padEnd(1000, String.fromCharCode(97 + Math.floor(random() * 26)));
      sent.push(data);
      await producer.put(enc.encode(data), { partitionKey: `key-${i % 97}` });
    }
    await producer.close();
    assert.deepEqual(failures, []);
    const got = deliveries.flatMap((d) => d.userRecords.map((r) => dec.decode(r.data)));
    assert.deepEqual([...got].sort(), [...sent].sort());
    const stats = producer.stats;
    const hot = fake.shards[0].shardId;
    assert.ok(fake.shards[0].throttled > 0, "the hot shard throttled");
    for (const s of fake.shards.slice(1)) {
      assert.equal(s.throttled, 0, `${s.shardId} never throttled`);
    }
    assert.ok(stats.throttlesByShard[hot] > 0);
    assert.deepEqual(Object.keys(stats.throttlesByShard), [hot]);
    assert.ok(stats.shardWindows[hot] < 1, `hot shard rate ${stats.shardWindows[hot]}`);
    assert.equal(stats.expiredUnattempted, 0);
  });
});

describe("strict ordering under faults", () => {
  it("500s, throttles and resets: order kept, nothing lost", async () => {
    const random = rng(23);
    const steps: Step[] = ["500", "throttle", "network", "ok", "ok", "ok", "ok"];
    const client = new ScriptedClient(() => steps[Math.floor(random() * steps.length)]);
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      partitionKey: "ordered",
      concurrency: 1,
      targetBytes: 300,
      baseDelayMs: 1,
      throttleBaseDelayMs: 1,
      maxDelayMs: 3,
      maxAttempts: 60,
      onFailure: (f) => failures.push(f),
    });
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) {
      const line = `line-${i}`.padEnd(100, ".");
      sent.push(line);
      await producer.put(line);
    }
    await producer.close();
    assert.deepEqual(failures, []);
    assert.deepEqual(client.delivered.map((d) => dec.decode(d)), sent);
    // One call at a time, each carrying the previous sequence number.
    const ok = client.calls.filter((c) => c.step === "ok");
    for (let i = 1; i < ok.length; i++) {
      assert.equal(ok[i].input.sequenceNumberForOrdering, String(i));
    }
  });
});
