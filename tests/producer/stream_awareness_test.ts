/**
 * Stream awareness against a fake stream of our own (emulators do not
 * implement AUTO): the producer describes the stream before its first put
 * call, stops aggregating on a service-managed stream, copes with a denied
 * describe, takes the stream's record limit, lists shards for keyed mode, and
 * re-sends only aggregates KCL would drop after a reshard.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { StreamConfigurationError } from "../../src/producer/stream_facts.ts";
import { deaggregate, hasMagic } from "../../src/format/deaggregate.ts";
import { RecordTooLargeError } from "../../src/format/errors.ts";
import type { Clock } from "../../src/producer/clock.ts";
import {
  type FakeStream,
  type FakeStreamOptions,
  startFakeStream,
} from "../support/fake_stream.ts";
import { rng } from "../support/random.ts";

const credentials = {
  accessKeyId: "AKIDSTREAMAWARE",
  secretAccessKey: "streamAwareSecret/000000000000000000000000",
};
const region = "eu-west-1";
let fake: FakeStream | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function start(o: Partial<FakeStreamOptions>): Promise<FakeStream> {
  fake = await startFakeStream({ shards: 4, credentials, region, random: rng(7), ...o });
  return fake;
}

function producer(f: FakeStream, options: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  const failures: unknown[] = [];
  const p = new KinesisProducer({
    streamName: "fake",
    region,
    endpoint: f.url,
    credentials,
    lingerMs: 5,
    onWarning: (m) => warnings.push(m),
    onFailure: (x) => failures.push(x),
    ...options,
  });
  return { p, warnings, failures };
}

const dec = new TextDecoder();
const MiB = 1_048_576;

/** The system clock, moved forward on demand: past the refresh rate limit without sleeping. */
function offsetClock(): { clock: Clock; advance(ms: number): void } {
  let offset = 0;
  return {
    clock: {
      now: () => performance.now() + offset,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    advance(ms) {
      offset += ms;
    },
  };
}

/** Waits (bounded) for a refresh started in the background to be applied. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 1000) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The user records stored, deaggregated, as text. */
function storedText(f: FakeStream): string[] {
  return f.stored.flatMap((r) =>
    deaggregate(r.data, r.partitionKey).map((u) => dec.decode(u.data))
  );
}

function readBackSorted(f: FakeStream): string[] {
  const { records, dropped } = f.readBack();
  assert.equal(dropped, 0, "no aggregate a KCL consumer would drop");
  return records.map((r) => dec.decode(r.data)).sort();
}

describe("stream awareness", () => {
  it("AUTO stream placing records at random: nothing aggregated, no SequenceNumberForOrdering, all delivered, told once", async () => {
    const f = await start({ strategy: "AUTO" });
    const { p, warnings, failures } = producer(f);
    const want: string[] = [];
    for (let i = 0; i < 300; i++) {
      want.push(`r${i}`);
      await p.put(`r${i}`);
    }
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.equal(f.calls.ListShards ?? 0, 0);
    assert.ok(f.stored.length === 300, `one Kinesis record per user record (${f.stored.length})`);
    assert.ok(f.stored.every((r) => !hasMagic(r.data)), "no aggregate sent");
    assert.ok(f.stored.every((r) => r.sequenceNumberForOrdering === undefined));
    assert.deepEqual(readBackSorted(f), want.sort());
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /AUTO/);
    assert.equal(p.stats.stream?.recordDistributionStrategy, "AUTO");
    assert.equal(p.stats.stream?.aggregating, false);
    assert.equal(f.badSignatures, 0);
  });

  it("AUTO stream in keyed mode: unaggregated, no shard listing, all delivered", async () => {
    const f = await start({ strategy: "AUTO" });
    const { p, failures } = producer(f, { keyed: true });
    for (let i = 0; i < 200; i++) await p.put(`k${i}`, { partitionKey: `user-${i % 37}` });
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.ListShards ?? 0, 0);
    assert.ok(f.stored.every((r) => !hasMagic(r.data)));
    assert.equal(readBackSorted(f).length, 200);
  });

  it("strict ordering on an AUTO stream is a configuration error", async () => {
    const f = await start({ strategy: "AUTO" });
    const { p, failures } = producer(f, { concurrency: 1, partitionKey: "fixed" });
    // Accepted before the stream answered, then reported with the error.
    await p.put("x");
    await p.flush();
    assert.equal(failures.length, 1);
    const failure = failures[0] as { error: Error; records: unknown[] };
    assert.ok(failure.error instanceof StreamConfigurationError);
    assert.equal(failure.error.code, "OrderingOnAutoStream");
    assert.match(failure.error.message, /SequenceNumberForOrdering/);
    assert.equal(failure.records.length, 1);
    await assert.rejects(p.put("y"), StreamConfigurationError);
    await p.close();
    assert.equal(f.stored.length, 0);
  });

  it("aggregation on skips the AUTO decision (the caller knows the consumer)", async () => {
    const f = await start({ strategy: "AUTO" });
    const { p } = producer(f, { aggregation: "on" });
    for (let i = 0; i < 50; i++) await p.put(`r${i}`);
    await p.close();
    assert.ok(f.stored.every((r) => hasMagic(r.data)));
  });

  it("denied DescribeStreamSummary: aggregates anyway, warns once naming the permission, stat says denied", async () => {
    const f = await start({ denyDescribe: true });
    const { p, warnings, failures } = producer(f);
    const want: string[] = [];
    for (let i = 0; i < 500; i++) {
      want.push(`d${i}`);
      await p.put(`d${i}`);
    }
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.ok(f.stored.length < 10 && f.stored.every((r) => hasMagic(r.data)));
    assert.deepEqual(readBackSorted(f), want.sort());
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /kinesis:DescribeStreamSummary/);
    assert.equal(p.stats.stream?.check, "denied");
  });

  it("MaxRecordSizeInKiB 2048: a 1.5 MiB record ships; a caller's limit above the stream's is refused naming both", async () => {
    const f = await start({ maxRecordSizeInKiB: 2048 });
    const { p, failures } = producer(f, { maxBufferedBytes: 8 * 1_048_576 });
    const big = new Uint8Array(1_572_864).fill(65);
    await p.put(big);
    await p.put("small");
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(p.stats.recordsDelivered, 2);
    assert.equal(p.stats.stream?.maxRecordSizeInKiB, 2048);

    const { p: q, failures: qf } = producer(f, {
      maxRecordBytes: 3 * 1_048_576,
      maxBufferedBytes: 8 * 1_048_576,
    });
    await q.put("x");
    await q.flush();
    const error = (qf[0] as { error: Error }).error;
    assert.ok(error instanceof StreamConfigurationError);
    assert.ok(error.message.includes("3145728") && error.message.includes("2048"), error.message);
    await assert.rejects(q.put("y"), StreamConfigurationError);
    await q.close();
  });

  it("a ValidationException on size describes the stream again, once; later records get the new MaxRecordSizeInKiB", async () => {
    const f = await start({ maxRecordSizeInKiB: 2048 });
    const t = offsetClock();
    const { p, failures } = producer(f, { maxBufferedBytes: 8 * MiB, clock: t.clock });
    await p.put("before");
    await p.flush();
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.equal(p.stats.stream?.maxRecordSizeInKiB, 2048);
    // UpdateMaxRecordSize behind the producer's back, past the refresh rate limit.
    f.update({ maxRecordSizeInKiB: 1024 });
    t.advance(10_000);
    const big = new Uint8Array(1.5 * MiB).fill(66);
    await p.put(big);
    await p.put(big.slice());
    await p.flush();
    // Both reported with their bytes and the stream's error; nothing re-sent.
    assert.equal(failures.length, 2);
    for (
      const failure of failures as { error: { code: string }; records: { data: Uint8Array }[] }[]
    ) {
      assert.equal(failure.error.code, "ValidationException");
      assert.deepEqual(failure.records.map((r) => r.data.length), [1.5 * MiB]);
    }
    await until(() => p.stats.stream?.maxRecordSizeInKiB === 1024, "new limit applied");
    assert.equal(f.calls.DescribeStreamSummary, 2, "two failures, one describe");
    await assert.rejects(p.put(big), RecordTooLargeError);
    await p.put(new Uint8Array(0.75 * MiB).fill(67));
    await p.put("after");
    await p.close();
    assert.equal(f.calls.DescribeStreamSummary, 2);
    assert.equal(p.stats.stream?.refreshes, 2);
    assert.equal(failures.length, 2);
    const kept = storedText(f).map((t) => t.length < 100 ? t : `${t.length} bytes`).sort();
    assert.deepEqual(kept, [`${0.75 * MiB} bytes`, "after", "before"]);
    assert.equal(f.badSignatures, 0);
  });

  it("an InvalidArgumentException on SequenceNumberForOrdering describes the stream again, once; now AUTO, strict order is refused", async () => {
    const f = await start({});
    const t = offsetClock();
    const { p, failures } = producer(f, { concurrency: 1, partitionKey: "fixed", clock: t.clock });
    await p.put("first");
    await p.flush();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.DescribeStreamSummary, 1);
    // The stream becomes service-managed behind the producer's back.
    f.update({ strategy: "AUTO" });
    t.advance(10_000);
    await p.put("second");
    await p.flush();
    assert.equal(failures.length, 1);
    const failure = failures[0] as { error: { code: string }; records: { data: Uint8Array }[] };
    assert.equal(failure.error.code, "InvalidArgumentException");
    assert.deepEqual(failure.records.map((r) => dec.decode(r.data)), ["second"]);
    await until(() => p.stats.stream?.recordDistributionStrategy === "AUTO", "AUTO learned");
    await assert.rejects(p.put("third"), StreamConfigurationError);
    await p.close();
    assert.equal(f.calls.DescribeStreamSummary, 2);
    assert.equal(p.stats.stream?.aggregating, false);
    assert.deepEqual(storedText(f), ["first"]);
    assert.ok(f.stored.every((r) => r.sequenceNumberForOrdering === undefined));
  });

  it("a stream that turns AUTO mid-run is noticed on the timer; what is not sent yet goes out unaggregated", async () => {
    const f = await start({});
    const t = offsetClock();
    const { p, warnings, failures } = producer(f, {
      clock: t.clock,
      describeIntervalMs: 60_000,
      lingerMs: 50,
    });
    for (let i = 0; i < 50; i++) await p.put(`before-${i}`);
    await p.flush();
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.ok(f.stored.every((r) => hasMagic(r.data)), "aggregated while USER_PARTITION_KEY");
    const sentBefore = f.stored.length;
    // No put answer shows the change: on AUTO, aggregates are stored without complaint.
    f.update({ strategy: "AUTO" });
    t.advance(30_000);
    for (let i = 0; i < 20; i++) await p.put(`early-${i}`);
    await p.flush();
    assert.equal(f.calls.DescribeStreamSummary, 1, "not yet due");
    t.advance(31_000);
    // Records open in an aggregate when the refresh lands are unpacked.
    for (let i = 0; i < 20; i++) await p.put(`late-${i}`);
    await until(() => p.stats.stream?.aggregating === false, "AUTO learned on the timer");
    for (let i = 0; i < 20; i++) await p.put(`after-${i}`);
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(f.calls.DescribeStreamSummary, 2);
    const later = f.stored.slice(sentBefore);
    const aggregatedLater = later.filter((r) => hasMagic(r.data));
    // Only what was cut before the answer came may have gone out aggregated.
    const unpacked = later.filter((r) => !hasMagic(r.data)).map((r) => dec.decode(r.data));
    for (let i = 0; i < 20; i++) assert.ok(unpacked.includes(`after-${i}`), `after-${i} plain`);
    assert.ok(aggregatedLater.length <= 2, `${aggregatedLater.length} aggregates after the change`);
    const all = storedText(f).sort();
    assert.equal(all.length, 110);
    assert.equal(new Set(all).size, 110, "nothing twice");
    assert.ok(warnings.some((w) => /AUTO/.test(w)), warnings.join("; "));
  });

  it("describeIntervalMs 0: no describe on a timer", async () => {
    const f = await start({});
    const t = offsetClock();
    const { p } = producer(f, { clock: t.clock, describeIntervalMs: 0 });
    await p.put("a");
    await p.flush();
    t.advance(3_600_000);
    await p.put("b");
    await p.close();
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.throws(() => producer(f, { describeIntervalMs: -1 }), RangeError);
  });

  it("a 1.5 MiB record on a default (1 MiB) stream is refused at put", async () => {
    const f = await start({});
    const { p } = producer(f, { maxBufferedBytes: 8 * 1_048_576 });
    await assert.rejects(p.put(new Uint8Array(1_572_864)), /record limit/);
    await p.close();
  });

  it("keyed mode, 5,000 distinct keys over 4 shards: shards listed (AT_LATEST, paged), calls near bytes / target", async () => {
    const f = await start({});
    const { p, failures, warnings } = producer(f, { keyed: true, lingerMs: 60_000 });
    const payload = new Uint8Array(200).fill(66);
    for (let i = 0; i < 20_000; i++) {
      await p.put(payload, { partitionKey: `user-${i % 5000}` });
    }
    await p.close();
    assert.deepEqual(failures, []);
    assert.deepEqual(warnings, []);
    assert.equal(f.calls.DescribeStreamSummary, 1);
    assert.equal(f.calls.ListShards, 2, "two pages");
    assert.equal(p.stats.stream?.mapShards, 4);
    const bytes = f.stored.reduce((n, r) => n + r.data.length + r.partitionKey.length, 0);
    const floor = Math.ceil(bytes / 250_000);
    assert.ok(f.stored.length <= floor + 4, `${f.stored.length} records for a floor of ${floor}`);
    const calls = (f.calls.PutRecord ?? 0) + (f.calls.PutRecords ?? 0);
    assert.ok(calls <= f.stored.length, `${calls} calls`);
    assert.equal(f.readBack().records.length, 20_000);
    assert.equal(f.readBack().dropped, 0);
  });

  it("denied ListShards in keyed mode: groups by hash range, warns naming kinesis:ListShards, KCL drops nothing, no cliff", async () => {
    // 3,000 keys: grouped by key, more than the 1,024 open aggregates would ship
    // nearly one record per aggregate; by hash range they pack.
    const f = await start({ denyList: true, shards: 5 });
    const { p, warnings, failures } = producer(f, { keyed: true });
    const payload = "x".repeat(200);
    for (let i = 0; i < 20_000; i++) {
      await p.put(`${i}${payload}`, { partitionKey: `k${i % 3000}` });
    }
    await p.close();
    assert.deepEqual(failures, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /kinesis:ListShards/);
    assert.match(warnings[0], /hash range/);
    const { records, dropped } = f.readBack();
    assert.equal(dropped, 0, "KCL's range check passes on the stream's real shards");
    assert.equal(records.length, 20_000);
    assert.ok(f.stored.length <= 1024 + 20, `${f.stored.length} records stored`);
  });

  for (const denyList of [false, true]) {
    it(
      `a caller's own map gone stale by a split: ${
        denyList
          ? "listing denied, records are grouped as without a map and what KCL would drop is re-sent"
          : "the producer lists the shards from then on; every record read once"
      }`,
      async () => {
        const f = await start({ shards: 2, denyList });
        const shards = f.shards.map((x) => ({
          shardId: x.id,
          startingHashKey: String(x.start),
          endingHashKey: String(x.end),
        }));
        const { p, failures, warnings } = producer(f, { keyed: true, shards, lingerMs: 1 });
        const want: string[] = [];
        let n = 0;
        const batch = async (count: number) => {
          for (let i = 0; i < count; i++, n++) {
            want.push(`c${n}`);
            await p.put(`c${n}`, { partitionKey: `key-${n % 97}` });
          }
          await p.flush();
        };
        await batch(300);
        assert.equal(f.calls.ListShards ?? 0, 0, "the caller's map is used as given");
        f.split(f.shards[0].id);
        f.split(f.shards[1].id);
        await batch(600);
        await batch(300);
        await p.close();
        assert.deepEqual(failures, []);
        const { records, dropped } = f.readBack();
        const read = records.map((r) => dec.decode(r.data));
        // Nothing a KCL consumer would miss.
        assert.deepEqual([...new Set(read)].sort(), [...want].sort());
        assert.ok(p.stats.stream!.wrongShard > 0, "the stale map was noticed");
        assert.ok((f.calls.ListShards ?? 0) >= 1, "and listing was tried");
        assert.ok(warnings.some((w) => /shards passed are stale/.test(w)), warnings.join("; "));
        if (denyList) {
          // Re-sent whole: what KCL read of a stale aggregate may come twice.
          assert.ok(
            warnings.some((w) => /groups records as without a map/.test(w)),
            warnings.join("; "),
          );
        } else {
          assert.equal(read.length, want.length, "every record read once");
          assert.equal(p.stats.stream!.recordsResent > 0, dropped > 0);
        }
      },
    );
  }

  it("split and merge mid-run: stale aggregates KCL would drop are re-sent, the rest are not; every record read once", async () => {
    const f = await start({ shards: 2 });
    const { p, failures } = producer(f, { keyed: true, lingerMs: 1 });
    const want: string[] = [];
    let n = 0;
    const batch = async (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        want.push(`m${n}`);
        await p.put(`m${n}`, { partitionKey: `key-${n % 97}` });
      }
      await p.flush();
    };
    await batch(400);
    // Reshard behind the producer's back: its map is now stale.
    f.split(f.shards[0].id);
    await batch(400);
    const open = f.shards.filter((s) => !s.closed).sort((a, b) => (a.start < b.start ? -1 : 1));
    f.merge(open[0].id, open[1].id);
    await batch(400);
    await p.close();
    assert.deepEqual(failures, []);
    const { records, dropped } = f.readBack();
    const read = records.map((r) => dec.decode(r.data)).sort();
    // Dropped aggregates were re-sent, so every record is read exactly once.
    assert.deepEqual(read, [...want].sort());
    const stream = p.stats.stream!;
    assert.ok(stream.wrongShard > 0, "the stale map was noticed");
    assert.ok(stream.refreshes >= 2, "and refreshed");
    assert.equal(stream.recordsResent > 0, dropped > 0);
    assert.equal(f.badSignatures, 0);
  });
});
