/**
 * The producer's PutRecords path against a scripted client: collection,
 * per-entry retries with their own attempt counts, whole-call failures,
 * unaggregated mode, strict ordering, request limits, stats.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type {
  Delivery,
  DeliveryFailure,
  KinesisProducerOptions,
} from "../../src/producer/options.ts";
import { BatchClient, type CallScript, type EntryStep } from "../support/batch_client.ts";
import { int, rng } from "../support/random.ts";

const enc = new TextEncoder();

interface Run {
  client: BatchClient;
  producer: KinesisProducer;
  deliveries: Delivery[];
  failures: DeliveryFailure[];
  /** Put records per key, in put order. */
  put: Map<string, Uint8Array[]>;
  all: Uint8Array[];
}

function setup(
  script: ConstructorParameters<typeof BatchClient>[0],
  options: Partial<KinesisProducerOptions> = {},
): Run {
  const client = new BatchClient(script, options.aggregation !== "off");
  const deliveries: Delivery[] = [];
  const failures: DeliveryFailure[] = [];
  const producer = new KinesisProducer({
    streamName: "s",
    client,
    keyed: true,
    concurrency: 1,
    lingerMs: 60_000,
    baseDelayMs: 1,
    throttleBaseDelayMs: 1,
    maxDelayMs: 2,
    random: rng(3),
    onDelivered: (d) => deliveries.push(d),
    onFailure: (f) => failures.push(f),
    ...options,
  });
  return { client, producer, deliveries, failures, put: new Map(), all: [] };
}

async function putKeys(run: Run, keys: number, perKey: number, size = 20): Promise<void> {
  for (let i = 0; i < perKey; i++) {
    for (let k = 0; k < keys; k++) {
      const key = `key-${k}`;
      const data = enc.encode(`${key}/${i}/`.padEnd(size, "."));
      run.all.push(data);
      const list = run.put.get(key) ?? [];
      list.push(data);
      run.put.set(key, list);
      await run.producer.put(data, { partitionKey: key });
    }
  }
}

/** Every record delivered exactly once or reported once, never both. */
function assertExactlyOnce(run: Run): void {
  const delivered = new Set<Uint8Array>();
  for (const d of run.deliveries) {
    for (const r of d.userRecords) {
      assert.ok(!delivered.has(r.data), "delivered twice");
      delivered.add(r.data);
    }
  }
  const failed = new Set<Uint8Array>();
  for (const f of run.failures) {
    for (const r of f.records) {
      assert.ok(!failed.has(r.data) && !delivered.has(r.data), "reported twice");
      failed.add(r.data);
    }
  }
  assert.equal(delivered.size + failed.size, run.all.length);
  // The client stored exactly the delivered ones.
  assert.equal(run.client.delivered.length, delivered.size);
  const stats = run.producer.stats;
  assert.equal(stats.recordsDelivered, delivered.size);
  assert.equal(stats.recordsFailed, failed.size);
}

function assertKeyOrder(run: Run): void {
  for (const [key, sent] of run.put) {
    assert.deepEqual(run.client.byKey.get(key), sent, `order of ${key}`);
  }
}

describe("KinesisProducer with PutRecords (collection)", () => {
  it("collects the aggregates a flush cuts into one PutRecords", async () => {
    const run = setup(() => "ok");
    await putKeys(run, 7, 3);
    await run.producer.close();
    assert.deepEqual(run.client.calls.map((c) => [c.action, c.entries.length]), [[
      "PutRecords",
      7,
    ]]);
    assertExactlyOnce(run);
    assertKeyOrder(run);
    const stats = run.producer.stats;
    assert.deepEqual(stats.callsByKind, { PutRecords: 1 });
    assert.equal(stats.entriesSent, 7);
    assert.equal(stats.chunks, 7);
  });

  for (let p = 0; p < 6; p++) {
    it(`retries only the entry that failed, at position ${p}`, async () => {
      const run = setup((n, _a, entries) =>
        n === 0 ? entries.map((_, i): EntryStep => (i === p ? "throttle" : "ok")) : "ok"
      );
      await putKeys(run, 6, 4);
      await run.producer.close();
      const [first, second, ...rest] = run.client.calls;
      assert.equal(first.entries.length, 6);
      assert.equal(second.action, "PutRecord");
      assert.equal(second.entries[0].partitionKey, first.entries[p].partitionKey);
      assert.equal(rest.length, 0);
      assertExactlyOnce(run);
      assertKeyOrder(run);
      const attempts = run.deliveries.map((d) => [d.userRecords[0].partitionKey, d.attempts]);
      for (const [key, n] of attempts) {
        assert.equal(n, key === first.entries[p].partitionKey ? 2 : 1);
      }
      assert.deepEqual(run.producer.stats.entriesFailedByCode, {
        ProvisionedThroughputExceededException: 1,
      });
      assert.equal(run.producer.stats.throttles, 1);
    });
  }

  it("retries every entry when all fail, together in the next PutRecords", async () => {
    const run = setup(
      (n, _a, entries) =>
        n === 0
          ? entries.map((): EntryStep => "throttle")
          : n === 1
          ? entries.map((): EntryStep => "internal")
          : "ok",
      { random: () => 0 },
    );
    await putKeys(run, 5, 2);
    await run.producer.close();
    assert.deepEqual(run.client.calls.map((c) => [c.action, c.entries.length]), [
      ["PutRecords", 5],
      ["PutRecords", 5],
      ["PutRecords", 5],
    ]);
    assertExactlyOnce(run);
    assert.ok(run.deliveries.every((d) => d.attempts === 3));
    assert.deepEqual(run.producer.stats.entriesFailedByCode, {
      ProvisionedThroughputExceededException: 5,
      InternalFailure: 5,
    });
  });

  it("mixed throttling, internal failure and an unknown code: the unknown one is reported with its code", async () => {
    const run = setup((n) =>
      n === 0 ? ["throttle", "internal", "unknown", "ok", "throttle", "ok"] : "ok"
    );
    await putKeys(run, 6, 3);
    await run.producer.close();
    assertExactlyOnce(run);
    assert.equal(run.failures.length, 1);
    const [f] = run.failures;
    assert.equal(f.reason, "not-retryable");
    assert.equal(f.attempts, 1);
    assert.equal((f.error as { code?: string }).code, "SomeFutureException");
    assert.match(f.error.message, /a code this library does not know/);
    assert.deepEqual(f.records.map((r) => r.data), run.put.get(f.partitionKey));
    assert.equal(run.client.calls[1].entries.length, 3);
  });

  it("a whole-call failure retries every entry in it", async () => {
    const run = setup(
      (n) => (n === 0 ? "500" : n === 1 ? "network" : n === 2 ? "throttle" : "ok"),
      { random: () => 0 },
    );
    await putKeys(run, 4, 5);
    await run.producer.close();
    assertExactlyOnce(run);
    assertKeyOrder(run);
    assert.deepEqual(run.client.calls.map((c) => c.entries.length), [4, 4, 4, 4]);
    assert.ok(run.deliveries.every((d) => d.attempts === 4));
  });

  it("each entry counts its own attempts and gives up with its own error", async () => {
    const run = setup(
      (_n, _a, entries) =>
        entries.map((e): EntryStep => (e.partitionKey === "key-2" ? "throttle" : "ok")),
      {
        maxAttempts: 3,
      },
    );
    await putKeys(run, 4, 2);
    await run.producer.close();
    assertExactlyOnce(run);
    assert.equal(run.failures.length, 1);
    assert.equal(run.failures[0].reason, "attempts-exhausted");
    assert.equal(run.failures[0].attempts, 3);
    assert.equal(
      (run.failures[0].error as { code?: string }).code,
      "ProvisionedThroughputExceededException",
    );
    assert.ok(run.deliveries.every((d) => d.attempts === 1));
  });

  it("random outcomes at random positions: every record delivered once or reported once", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const steps: EntryStep[] = ["ok", "ok", "ok", "throttle", "internal", "unknown"];
      const run = setup((_n, _a, entries): CallScript => {
        const roll = rand();
        if (roll < 0.1) return "500";
        if (roll < 0.15) return "throttle";
        return entries.map(() => steps[int(rand, 0, steps.length - 1)]);
      }, { maxAttempts: 4, concurrency: 1 + (seed % 3) });
      await putKeys(run, 3 + (seed % 7), 3 + (seed % 4), 10 + seed * 13);
      await run.producer.close();
      assertExactlyOnce(run);
    }
  });

  it("collect: false sends one PutRecord per aggregate", async () => {
    const run = setup(() => "ok", { collect: false });
    await putKeys(run, 5, 2);
    await run.producer.close();
    assert.deepEqual(run.client.calls.map((c) => c.action), Array(5).fill("PutRecord"));
    assertExactlyOnce(run);
  });

  it("strict ordering keeps PutRecord and its order under entry failures", async () => {
    const rand = rng(11);
    const run = setup(() => (rand() < 0.3 ? "throttle" : "ok"), {
      keyed: false,
      partitionKey: "fixed",
      targetBytes: 200,
    });
    for (let i = 0; i < 200; i++) {
      const data = enc.encode(`ordered-${i}`.padEnd(40, "."));
      run.all.push(data);
      await run.producer.put(data);
    }
    run.put.set("fixed", run.all);
    await run.producer.close();
    assert.ok(run.client.calls.every((c) => c.action === "PutRecord"));
    assertExactlyOnce(run);
    assert.deepEqual(run.client.delivered, run.all);
  });
});

describe("KinesisProducer with aggregation: off", () => {
  it("sends each user record as its own entry, up to 500 per PutRecords", async () => {
    const run = setup(() => "ok", { aggregation: "off" });
    await putKeys(run, 10, 120);
    await run.producer.close();
    assert.ok(run.client.calls.every((c) => c.action === "PutRecords"));
    assert.ok(run.client.calls.every((c) => c.entries.length <= 500));
    assert.equal(run.client.calls.reduce((n, c) => n + c.entries.length, 0), 1200);
    for (const c of run.client.calls) {
      for (const e of c.entries) assert.notEqual(e.data[0], 0xf3, "no KPL magic");
    }
    assertExactlyOnce(run);
    assertKeyOrder(run);
    const stats = run.producer.stats;
    assert.equal(stats.chunks, 1200);
    assert.equal(stats.putUnits, 1200);
    assert.equal(stats.putUnitsUnaggregated, 1200);
  });

  it("keeps each request within maxRequestBytes", async () => {
    const run = setup(() => "ok", { aggregation: "off", maxRequestBytes: 1_048_576 });
    await putKeys(run, 3, 60, 30_000);
    await run.producer.close();
    for (const c of run.client.calls) {
      const bytes = c.entries.reduce(
        (n, e) => n + e.data.length + enc.encode(e.partitionKey).length,
        0,
      );
      assert.ok(bytes <= 1_048_576, `${bytes} bytes in one call`);
    }
    assertExactlyOnce(run);
  });

  it("retries failed entries on their own, and reports the ones that give up with their records", async () => {
    const rand = rng(5);
    const run = setup(
      (_n, _a, entries) =>
        entries.map(
          (): EntryStep => (rand() < 0.2 ? "throttle" : rand() < 0.02 ? "unknown" : "ok"),
        ),
      { aggregation: "off", maxAttempts: 5 },
    );
    await putKeys(run, 20, 30);
    await run.producer.close();
    assertExactlyOnce(run);
    for (const f of run.failures) assert.equal(f.records.length, 1);
  });

  it("validates keys and sizes up front", async () => {
    const run = setup(() => "ok", { aggregation: "off", maxRecordBytes: 1024 });
    await assert.rejects(run.producer.put(new Uint8Array(1023), { partitionKey: "ab" }), {
      name: "RecordTooLargeError",
    });
    await assert.rejects(run.producer.put(new Uint8Array(1), { partitionKey: "" }), {
      code: "InvalidPartitionKey",
    });
    await assert.rejects(run.producer.put(new Uint8Array(1)), { code: "InvalidPartitionKey" });
    await run.producer.put(new Uint8Array(1022), { partitionKey: "ab" });
    await run.producer.close();
    assert.equal(run.producer.stats.recordsRejected, 3);
    assert.equal(run.producer.stats.recordsDelivered, 1);
  });

  it("refuses unknown aggregation modes and out-of-range request caps", () => {
    const client = new BatchClient(() => "ok");
    assert.throws(
      () => new KinesisProducer({ streamName: "s", client, aggregation: "sometimes" as "on" }),
      RangeError,
    );
    assert.throws(
      () => new KinesisProducer({ streamName: "s", client, maxRequestBytes: 11 * 1_048_576 }),
      RangeError,
    );
    new KinesisProducer({ streamName: "s", client, maxRequestBytes: 10 * 1_048_576 });
  });
});
