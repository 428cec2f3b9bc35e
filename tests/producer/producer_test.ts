import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deaggregate, RecordError, RecordTooLargeError } from "../../mod.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../../format.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure, KinesisProducerOptions } from "../../src/producer/options.ts";
import { ProducerClosedError } from "../../src/producer/errors.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { ScriptedClient, type Step } from "../support/scripted_client.ts";
import { bytes, int, rng } from "../support/random.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup(script: (call: number) => Step, options: Partial<KinesisProducerOptions> = {}) {
  const clock = new FakeClock();
  const client = new ScriptedClient(script, () => clock.now());
  const failures: DeliveryFailure[] = [];
  const producer = new KinesisProducer({
    streamName: "s",
    client,
    clock,
    random: rng(1),
    onFailure: (f) => failures.push(f),
    ...options,
  });
  return { clock, client, failures, producer };
}

/** Every put record is delivered or failed, exactly once. */
function assertAccounted(put: string[], delivered: Uint8Array[], failures: DeliveryFailure[]) {
  const seen = new Map<string, number>();
  for (const d of delivered) seen.set(dec.decode(d), (seen.get(dec.decode(d)) ?? 0) + 1);
  for (const f of failures) {
    for (const r of f.records) {
      seen.set(dec.decode(r.data), (seen.get(dec.decode(r.data)) ?? 0) + 1);
    }
  }
  for (const p of put) assert.equal(seen.get(p), 1, `record ${p} accounted for exactly once`);
  assert.equal([...seen.values()].reduce((a, b) => a + b, 0), put.length);
}

describe("KinesisProducer: delivery and retries", () => {
  it("delivers everything through throttling bursts, 5xx, network errors, timeouts and expired credentials", async () => {
    const rand = rng(42);
    const faults: Step[] = [
      "throttle",
      "throttle",
      "throttle",
      "500",
      "network",
      "timeout",
      "expired",
    ];
    const { clock, client, failures, producer } = setup(
      () => (rand() < 0.4 ? faults[int(rand, 0, faults.length - 1)] : "ok"),
      { targetBytes: 4096, maxAttempts: 30, deadlineMs: 1e9 },
    );
    const put: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = `r${i}-${"x".repeat(int(rand, 0, 300))}`;
      put.push(s);
      await producer.put(s);
    }
    const closed = producer.close();
    await clock.runUntil(() =>
      producer.stats.recordsDelivered + producer.stats.recordsFailed === put.length
    );
    await closed;
    assert.equal(failures.length, 0);
    assertAccounted(put, client.delivered, failures);
    const s = producer.stats;
    assert.ok(s.retries > 0 && s.throttles > 0);
    assert.equal(s.calls, client.calls.length);
    assert.equal(s.inFlight, 0);
    assert.equal(s.bufferedBytes, 0);
    assert.ok(
      s.putUnits < s.putUnitsUnaggregated / 5,
      `aggregation saves units (${s.putUnits} vs ${s.putUnitsUnaggregated})`,
    );
    assert.equal(clock.pending, 0, "no timer outlives close()");
  });

  it("reports a non-retryable failure at once, with the original records", async () => {
    const { clock, failures, producer } = setup(() => "validation");
    await producer.put("a");
    await producer.put(enc.encode("b"));
    const flushed = producer.flush();
    await clock.advance(1000);
    await flushed;
    assert.equal(failures.length, 1);
    assert.equal(failures[0].attempts, 1);
    assert.equal(failures[0].reason, "not-retryable");
    assert.equal((failures[0].error as { code?: string }).code, "ValidationException");
    assert.deepEqual(failures[0].records.map((r) => dec.decode(r.data)), ["a", "b"]);
    assert.equal(producer.stats.recordsFailed, 2);
  });

  it("reports a chunk whose attempts run out, and one whose deadline runs out", async () => {
    for (
      const [options, reason] of [[{ maxAttempts: 3 }, "attempts-exhausted"], [
        { deadlineMs: 2000 },
        "deadline-exceeded",
      ]] as const
    ) {
      const { clock, client, failures, producer } = setup(() => "500", options);
      await producer.put("x");
      const flushed = producer.flush();
      await clock.runUntil(() => failures.length > 0);
      await flushed;
      assert.equal(failures[0].reason, reason);
      if (reason === "attempts-exhausted") assert.equal(client.calls.length, 3);
    }
  });

  it("backs off with full jitter, throttling harder than transient faults, and resets after success", async () => {
    const steps: Step[] = ["throttle", "throttle", "ok", "500", "500", "ok"];
    const { clock, client, producer } = setup((i) => steps[i] ?? "ok", {
      random: () => 0.5,
      baseDelayMs: 100,
      throttleBaseDelayMs: 1000,
      lingerMs: 0,
      concurrency: 1,
    });
    await producer.put("first");
    await clock.runUntil(() => client.chunks.length === 1);
    await producer.put("second");
    await clock.runUntil(() => client.chunks.length === 2);
    const t = client.calls.map((c) => c.at);
    // Throttle retries: 0.5 × 1000 × 2^0, then 0.5 × 1000 × 2^1.
    assert.equal(t[1] - t[0], 500);
    assert.equal(t[2] - t[1], 1000);
    // The next chunk starts from the transient base again: 0.5 × 100, then 0.5 × 200.
    assert.equal(t[4] - t[3], 50);
    assert.equal(t[5] - t[4], 100);
    await producer.close();
  });
});

describe("KinesisProducer: linger, order, backpressure, close", () => {
  it("holds a record for lingerMs, then sends its chunk", async () => {
    const { clock, client, producer } = setup(() => "ok", { lingerMs: 300 });
    await producer.put("a");
    await clock.advance(299);
    assert.equal(client.calls.length, 0);
    await clock.advance(1);
    assert.equal(client.calls.length, 1);
    await producer.close();
  });

  it("keeps strict order with a fixed key and concurrency 1, chaining SequenceNumberForOrdering", async () => {
    const rand = rng(5);
    const { clock, client, producer } = setup(() => (rand() < 0.3 ? "throttle" : "ok"), {
      partitionKey: "fixed",
      concurrency: 1,
      targetBytes: 2048,
      maxAttempts: 50,
      deadlineMs: 1e9,
    });
    const put: string[] = [];
    for (let i = 0; i < 500; i++) {
      put.push(`record-${i}-${"y".repeat(int(rand, 0, 100))}`);
      await producer.put(put[i]);
    }
    const closed = producer.close();
    await clock.runUntil(() => client.delivered.length === put.length);
    await closed;
    assert.deepEqual(client.delivered.map((d) => dec.decode(d)), put);
    const okCalls = client.calls.filter((c) => c.step === "ok");
    assert.equal(okCalls[0].input.sequenceNumberForOrdering, undefined);
    for (let i = 1; i < okCalls.length; i++) {
      assert.equal(okCalls[i].input.sequenceNumberForOrdering, String(i));
    }
    for (const c of client.calls) assert.equal(c.input.partitionKey, "fixed");
  });

  it("engages backpressure when the buffer is full and releases it as chunks land", async () => {
    const { clock, client, producer } = setup(() => "hang", {
      maxRecordBytes: 2048,
      targetBytes: 2048,
      maxBufferedBytes: 8192,
      concurrency: 2,
      lingerMs: 0,
    });
    let accepted = 0;
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      puts.push(producer.put("z".repeat(900)).then(() => void accepted++));
    }
    await clock.advance(10);
    assert.ok(accepted > 0 && accepted < 40, `some accepted, some waiting (${accepted})`);
    assert.ok(producer.stats.bufferedBytes <= 8192);
    // Bad input is refused at once, even while waiting puts queue up.
    await assert.rejects(producer.put(new Uint8Array(5000)), RecordTooLargeError);
    while (accepted < 40) {
      client.release();
      await clock.advance(10);
      assert.ok(
        producer.stats.bufferedBytes <= 8192,
        `memory stays bounded (${producer.stats.bufferedBytes})`,
      );
    }
    await Promise.all(puts);
    const closed = producer.close();
    for (let i = 0; i < 20 && client.delivered.length < 40; i++) {
      client.release();
      await clock.advance(10);
    }
    await closed;
    assert.equal(client.delivered.length, 40);
  });

  it("close() with a deadline aborts what hangs and reports every undelivered record", async () => {
    const { clock, failures, producer } = setup(() => "hang", {
      targetBytes: 1024,
      concurrency: 2,
    });
    const put: string[] = [];
    for (let i = 0; i < 100; i++) {
      put.push(`rec-${i}-${"q".repeat(50)}`);
      await producer.put(put[i]);
    }
    const closed = producer.close({ deadlineMs: 5000 });
    await clock.advance(5000);
    await closed;
    assertAccounted(put, [], failures);
    assert.ok(
      failures.every((f) => f.reason === "closed" && f.error instanceof ProducerClosedError),
    );
    await assert.rejects(producer.put("late"), ProducerClosedError);
    assert.equal(clock.pending, 0);
    assert.equal(producer.close(), producer.close(), "idempotent");
  });

  it("flush() waits for what was put before it, not for what keeps arriving", async () => {
    const clock = new FakeClock();
    const pending: (() => void)[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      clock,
      lingerMs: 0,
      client: {
        putRecord: () =>
          new Promise((resolve) =>
            pending.push(() => resolve({ shardId: "s-0", sequenceNumber: "1" }))
          ),
      },
    });
    await producer.put("before");
    let flushed = false;
    const flushing = producer.flush().then(() => (flushed = true));
    await clock.advance(10);
    await producer.put("after");
    await clock.advance(10);
    assert.equal(pending.length, 2, "both chunks in flight");
    pending[0](); // "before" lands; "after" stays in flight
    await clock.advance(10);
    assert.ok(flushed, "flush resolved while a later chunk was still in flight");
    await flushing;
    pending[1]();
    await producer.close();
  });

  it("flush() covers puts still waiting for room, whatever else is refused meanwhile", async () => {
    const { clock, client, producer } = setup(() => "hang", {
      maxRecordBytes: 2048,
      targetBytes: 1024,
      maxBufferedBytes: 2048,
      lingerMs: 0,
    });
    await producer.put("a".repeat(900));
    await producer.put("b".repeat(900));
    const waiting = producer.put("c".repeat(900)); // no room: waits
    await clock.advance(10);
    let flushed = false;
    const flushing = producer.flush().then(() => (flushed = true));
    // Refused at once; must not count as the waiting puts' progress.
    await assert.rejects(producer.put(new Uint8Array(4096)));
    await assert.rejects(producer.put(new Uint8Array(4096)));
    await clock.advance(10);
    for (let i = 0; i < 10 && client.delivered.length < 3; i++) {
      assert.equal(flushed, false, "flush waits for the waiting put");
      client.release();
      await clock.advance(10);
    }
    await waiting;
    await flushing;
    assert.deepEqual(client.delivered.map((d) => dec.decode(d)[0]), ["a", "b", "c"]);
    await producer.close();
  });

  it("close() keeps its deadline even when the transport ignores the abort signal", async () => {
    const clock = new FakeClock();
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      clock,
      client: { putRecord: () => new Promise(() => {}) },
      onFailure: (f) => failures.push(f),
    });
    await producer.put("stuck");
    const closed = producer.close({ deadlineMs: 1000 });
    await clock.advance(1000);
    await closed;
    assert.equal(failures.length, 1);
    assert.equal(failures[0].reason, "closed");
  });

  it("rejects invalid input at once with typed errors, and neighbours still ship", async () => {
    const { clock, client, producer } = setup(() => "ok");
    await producer.put("before");
    await assert.rejects(
      producer.put(new Uint8Array(DEFAULT_MAX_RECORD_BYTES)),
      RecordTooLargeError,
    );
    await assert.rejects(producer.put("k", { partitionKey: "nope" }), RecordError);
    await assert.rejects(producer.put(42 as unknown as string), RecordError);
    await producer.put("after");
    const closed = producer.close();
    await clock.advance(1000);
    await closed;
    assert.deepEqual(client.delivered.map((d) => dec.decode(d)), ["before", "after"]);
    assert.equal(producer.stats.recordsRejected, 3);
  });

  it("keyed mode: put takes keys; chunks never mix keys", async () => {
    const { clock, client, producer } = setup(() => "ok", { keyed: true });
    for (let i = 0; i < 300; i++) await producer.put(`v${i}`, { partitionKey: `user-${i % 7}` });
    const closed = producer.close();
    await clock.advance(1000);
    await closed;
    assert.equal(client.delivered.length, 300);
    for (const chunk of client.chunks) {
      for (const r of deaggregate(chunk.data, chunk.partitionKey)) {
        assert.equal(r.partitionKey, chunk.partitionKey);
      }
    }
  });

  it("never sends a chunk over the limit, for random sizes near the limit", async () => {
    const rand = rng(77);
    const limit = 32 * 1024;
    const { clock, client, producer } = setup(() => "ok", {
      maxRecordBytes: limit,
      targetBytes: limit,
      maxBufferedBytes: limit * 8,
    });
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const size = rand() < 0.5 ? int(rand, limit - 100, limit) : int(rand, 0, 5000);
      await producer.put(bytes(rand, size)).then(
        () => accepted++,
        (e) => assert.ok(e instanceof RecordTooLargeError),
      );
    }
    const closed = producer.close();
    await clock.runUntil(() => client.delivered.length === accepted);
    await closed;
    for (const c of client.chunks) {
      assert.ok(c.data.length + enc.encode(c.partitionKey).length <= limit);
    }
    assert.equal(client.delivered.length, accepted);
  });

  it("validates options up front", () => {
    assert.throws(() => new KinesisProducer({} as KinesisProducerOptions), TypeError);
    assert.throws(
      () =>
        new KinesisProducer({
          streamName: "s",
          concurrency: 0,
          client: new ScriptedClient(() => "ok"),
        }),
      RangeError,
    );
    assert.throws(
      () =>
        new KinesisProducer({
          streamName: "s",
          maxBufferedBytes: 10,
          client: new ScriptedClient(() => "ok"),
        }),
      RangeError,
    );
  });
});

// Let any stray settle() from above finish before the runner exits.
await settle();
