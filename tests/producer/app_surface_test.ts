// What application developers expect of the producer: per-record delivery
// results, a Web WritableStream with backpressure, `await using`, AbortSignal
// on put/flush/close, the SDK-shaped logger, opt-in gzip, and the billing and
// latency figures in stats. Runs under Deno, Bun and Node.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  deaggregate,
  type DeliveryFailure,
  KinesisError,
  KinesisProducer,
  type KinesisProducerOptions,
  type Logger,
  ProducerClosedError,
  RecordError,
} from "../../mod.ts";
import { gunzip } from "../../format.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { ScriptedClient, type Step } from "../support/scripted_client.ts";
import { rng } from "../support/random.ts";

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
    random: rng(7),
    baseDelayMs: 10,
    throttleBaseDelayMs: 10,
    onFailure: (f) => failures.push(f),
    ...options,
  });
  return { clock, client, failures, producer };
}

/** A logger that keeps what it is told. */
function memoryLogger(): Logger & { lines: Record<string, string[]> } {
  const lines: Record<string, string[]> = { debug: [], info: [], warn: [], error: [] };
  const keep = (level: string) => (...content: unknown[]) =>
    void lines[level].push(content.map(String).join(" "));
  return {
    lines,
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
}

describe("deliver(): per-record delivery results", () => {
  it("resolves with shard, sequence number, sub-sequence number and attempts", async () => {
    // First call throttled, then fine: the chunk takes two attempts.
    const { clock, client, producer } = setup((i) => (i === 0 ? "throttle" : "ok"));
    const results = Promise.all(["a", "b", "c"].map((s) => producer.deliver(s)));
    void producer.put("plain put, not tracked");
    const closed = producer.close();
    await clock.advance(10_000);
    await closed;
    const out = await results;
    assert.deepEqual(
      out.map((r) => [r.shardId, r.sequenceNumber, r.subSequenceNumber, r.attempts]),
      [
        ["shardId-000000000000", "1", 0, 2],
        ["shardId-000000000000", "1", 1, 2],
        ["shardId-000000000000", "1", 2, 2],
      ],
    );
    // The sub-sequence number is where a consumer finds the record.
    const back = deaggregate(client.chunks[0].data, client.chunks[0].partitionKey);
    assert.equal(dec.decode(back[out[1].subSequenceNumber].data), "b");
  });

  it("rejects with the error onFailure gets, with the SDK's $metadata.attempts", async () => {
    const { clock, failures, producer } = setup(() => "throttle", { maxAttempts: 3 });
    const result = producer.deliver("doomed");
    result.catch(() => {});
    const closed = producer.close();
    await clock.advance(60_000);
    await closed;
    const error = await result.then(() => undefined, (e) => e);
    assert.equal(failures.length, 1);
    assert.equal(error, failures[0].error, "the very same error");
    assert.ok(error instanceof KinesisError);
    assert.equal(error.name, "ProvisionedThroughputExceededException");
    assert.equal(error.$metadata.attempts, 3);
    assert.ok(error.$metadata.totalRetryDelay > 0);
  });

  it("rejects at once for a refused record or a closed producer", async () => {
    const { producer } = setup(() => "ok", { keyed: true });
    await assert.rejects(producer.deliver("x", { partitionKey: "" }), RecordError);
    await producer.close();
    await assert.rejects(producer.deliver("y", { partitionKey: "k" }), ProducerClosedError);
  });
});

describe("producer.writable", () => {
  it("pipeTo delivers every chunk in order: bytes, strings and keyed records", async () => {
    const { client, producer } = setup(() => "ok", { keyed: true, lingerMs: 0 });
    const items = Array.from(
      { length: 300 },
      (_, i) =>
        i % 3 === 0
          ? { data: `obj ${i}`, partitionKey: "k" }
          : i % 3 === 1
          ? { data: enc.encode(`bytes ${i}`), partitionKey: "k" }
          : { data: `str ${i}`, partitionKey: "k", explicitHashKey: "7" },
    );
    let i = 0;
    const source = new ReadableStream({
      pull(c) {
        if (i < items.length) c.enqueue(items[i++]);
        else c.close();
      },
    });
    await source.pipeTo(producer.writable); // closing the stream closes the producer
    assert.equal(producer.stats.recordsDelivered, 300);
    const got = client.delivered.map((d) => dec.decode(d)).sort();
    const want = items.map((it) => typeof it.data === "string" ? it.data : dec.decode(it.data));
    assert.deepEqual(got, want.sort());
    await assert.rejects(producer.put("after"), ProducerClosedError);
  });

  it("applies backpressure: writes wait while maxBufferedBytes is held", async () => {
    let hang = true;
    const { client, producer } = setup(() => (hang ? "hang" : "ok"), {
      maxRecordBytes: 64 * 1024,
      targetBytes: 16 * 1024,
      maxBufferedBytes: 64 * 1024,
      lingerMs: 0,
    });
    const writer = producer.writable.getWriter();
    const record = new Uint8Array(8 * 1024);
    let accepted = 0;
    for (let n = 0; n < 40; n++) void writer.write(record).then(() => accepted++);
    await settle();
    await settle();
    assert.ok(accepted < 40, `only part is taken while calls hang (${accepted})`);
    assert.ok(writer.desiredSize! <= 0, `the stream reports backpressure (${writer.desiredSize})`);
    assert.ok(producer.stats.bufferedBytes <= 64 * 1024 + 8 * 1024);
    hang = false;
    client.release();
    await writer.close();
    assert.equal(producer.stats.recordsDelivered, 40);
  });

  it("abort() closes with a zero deadline and reports what was not delivered", async () => {
    const { failures, producer } = setup(() => "hang", { lingerMs: 0 });
    const writer = producer.writable.getWriter();
    await writer.write("stuck");
    await settle();
    await writer.abort(new Error("upstream failed"));
    assert.equal(failures.length, 1);
    assert.equal(failures[0].reason, "closed");
  });
});

describe("lifetimes and cancellation", () => {
  it("await using closes the producer at the end of the block", async () => {
    const client = new ScriptedClient(() => "ok");
    let outside: KinesisProducer;
    {
      await using producer = new KinesisProducer({ streamName: "s", client, lingerMs: 60_000 });
      await producer.put("inside");
      outside = producer;
    }
    assert.equal(outside.stats.recordsDelivered, 1, "the close flushed the lingering record");
    await assert.rejects(outside.put("later"), ProducerClosedError);
  });

  it("put({ signal }) gives up waiting for room; the record is not taken", async () => {
    let hang = true;
    const { client, producer } = setup(() => (hang ? "hang" : "ok"), {
      maxRecordBytes: 16 * 1024,
      targetBytes: 8 * 1024,
      maxBufferedBytes: 16 * 1024,
      lingerMs: 0,
    });
    await producer.put(new Uint8Array(12 * 1024));
    const controller = new AbortController();
    const waits = new Uint8Array(8 * 1024).fill(0x77);
    const waiting = producer.put(waits, { signal: controller.signal });
    const reason = new Error("user gave up");
    controller.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    assert.equal(producer.stats.recordsRejected, 1);
    await assert.rejects(
      producer.put("x", { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    hang = false;
    await producer.close();
    assert.equal(producer.stats.recordsDelivered, 1);
    assert.ok(!client.delivered.some((d) => d.length === waits.length));
  });

  it("flush({ signal }) stops waiting; delivery goes on", async () => {
    const { client, producer } = setup(() => "hang", { lingerMs: 0 });
    await producer.put("slow");
    const controller = new AbortController();
    const flushed = producer.flush({ signal: controller.signal });
    controller.abort(new Error("enough"));
    await assert.rejects(flushed, /enough/);
    client.release();
    await settle();
    await producer.close();
    assert.equal(producer.stats.recordsDelivered, 1);
  });

  it("close({ signal }) acts as a deadline reached when it aborts", async () => {
    const { failures, producer } = setup(() => "hang", { lingerMs: 0 });
    await producer.put("in flight");
    const controller = new AbortController();
    const closed = producer.close({ signal: controller.signal });
    await settle();
    controller.abort();
    await closed;
    assert.equal(failures.length, 1);
    assert.equal(failures[0].reason, "closed");
  });
});

describe("logger", () => {
  it("failures without onFailure go to logger.error; nothing else is said by default", async () => {
    const logger = memoryLogger();
    const client = new ScriptedClient(() => "validation");
    const producer = new KinesisProducer({ streamName: "s", client, logger, lingerMs: 0 });
    await producer.put("secret payload");
    await producer.close();
    assert.equal(logger.lines.error.length, 1);
    assert.match(logger.lines.error[0], /1 records failed after 1 attempts \(not-retryable\)/);
    assert.doesNotMatch(logger.lines.error[0], /secret payload/);
    assert.deepEqual([logger.lines.debug, logger.lines.info, logger.lines.warn], [[], [], []]);
  });

  it("debug: true sends the API call log to logger.debug", async () => {
    const logger = memoryLogger();
    const producer = new KinesisProducer({
      streamName: "s",
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMIEXAMPLEKEY" },
      fetch: () => Promise.resolve(Response.json({ ShardId: "shardId-0", SequenceNumber: "1" })),
      debug: true,
      logger,
      lingerMs: 0,
      // On, not auto: no DescribeStreamSummary first, so one call is logged.
      aggregation: "on",
    });
    await producer.put("x");
    await producer.close();
    assert.equal(logger.lines.debug.length, 1);
    assert.match(logger.lines.debug[0], /PutRecord/);
    assert.doesNotMatch(logger.lines.debug.join("\n"), /wJalrXUtnFEMIEXAMPLEKEY/);
  });
});

describe("compression: gzip", () => {
  it("gzips each record before aggregation, in put order; stats count the bytes", async () => {
    const { client, producer } = setup(() => "ok", { compression: "gzip" });
    const lines = Array.from(
      { length: 50 },
      (_, i) => `{"level":"info","msg":"line ${i}","pad":"${"x".repeat(i * 10)}"}`,
    );
    await Promise.all(lines.map((l) => producer.put(l)));
    await producer.close();
    const back = await Promise.all(client.delivered.map(async (d) => dec.decode(await gunzip(d))));
    assert.deepEqual(back, lines);
    const { compressionBytesIn, compressionBytesOut } = producer.stats;
    assert.equal(compressionBytesIn, lines.reduce((n, l) => n + l.length, 0));
    assert.equal(compressionBytesOut, client.delivered.reduce((n, d) => n + d.length, 0));
  });

  it("refuses an unknown compression up front", () => {
    assert.throws(
      () => new KinesisProducer({ streamName: "s", compression: "zstd" as "gzip" }),
      RangeError,
    );
  });
});

describe("stats: billing and latency", () => {
  it("provisioned PUT units, the on-demand figure (1 KiB per record) and latency histograms", async () => {
    const { clock, client, producer } = setup(() => "ok", { lingerMs: 100 });
    for (let i = 0; i < 10; i++) await producer.put(new Uint8Array(1500));
    await clock.advance(100);
    await producer.close();
    const s = producer.stats;
    const size = client.chunks[0].data.length + client.chunks[0].partitionKey.length;
    assert.equal(s.chunks, 1);
    assert.equal(s.onDemandBilledBytes, Math.ceil(size / 1024) * 1024);
    assert.equal(
      s.onDemandBilledBytesUnaggregated,
      10 * 2048,
      "1,500 B + a 36-char key: 2 KiB each",
    );
    assert.equal(s.putUnits, 1);
    assert.equal(s.putUnitsUnaggregated, 10);
    assert.equal(s.callLatencyMs.count, s.calls);
    assert.equal(s.recordLatencyMs.count, 10);
    assert.equal(s.recordLatencyMs.maxMs, 100, "the first record waited the linger");
    assert.equal(s.recordLatencyMs.counts.reduce((a, b) => a + b, 0), 10);
  });
});

describe("deliver() with aggregation off", () => {
  it("each record is its own Kinesis record: sub-sequence number 0, its own sequence number", async () => {
    const { clock, producer } = setup(() => "ok", { aggregation: "off", lingerMs: 10 });
    const results = Promise.all(["x", "y", "z"].map((s) => producer.deliver(s)));
    await clock.advance(10);
    const closed = producer.close();
    await clock.advance(10);
    await closed;
    const out = await results;
    assert.deepEqual(out.map((r) => r.subSequenceNumber), [0, 0, 0]);
    assert.equal(new Set(out.map((r) => r.sequenceNumber)).size, 3);
  });
});
