// Metrics in the formats people scrape: CloudWatch EMF lines (function and
// periodic emitter) and an OpenTelemetry-shaped meter the caller passes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  instrumentProducer,
  KinesisProducer,
  type MeterLike,
  type ObservableResultLike,
  startEmfEmitter,
  toEmf,
} from "../../mod.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

async function deliveredProducer(records: number) {
  const client = new ScriptedClient(() => "ok");
  const producer = new KinesisProducer({ streamName: "s", client, lingerMs: 0 });
  for (let i = 0; i < records; i++) await producer.put(`record ${i}`);
  await producer.flush();
  return producer;
}

describe("CloudWatch Embedded Metric Format", () => {
  it("one line: _aws metadata, dimensions, counters, gauges, latency values", async () => {
    const producer = await deliveredProducer(30);
    const line = toEmf(producer.stats, {
      namespace: "MyApp",
      dimensions: { StreamName: "s" },
      timestamp: 1700000000000,
    });
    assert.ok(!line.includes("\n"));
    const doc = JSON.parse(line);
    assert.equal(doc._aws.Timestamp, 1700000000000);
    const [directive] = doc._aws.CloudWatchMetrics;
    assert.equal(directive.Namespace, "MyApp");
    assert.deepEqual(directive.Dimensions, [["StreamName"]]);
    assert.equal(doc.StreamName, "s");
    // Every declared metric has a value at the top level, as EMF requires.
    for (const { Name, Unit } of directive.Metrics) {
      assert.ok(Name in doc, Name);
      assert.ok(["Count", "Bytes", "Milliseconds"].includes(Unit));
    }
    assert.equal(doc.RecordsDelivered, 30);
    assert.equal(doc.ProvisionedPutPayloadUnits, producer.stats.putUnits);
    assert.equal(doc.OnDemandBilledBytes, producer.stats.onDemandBilledBytes);
    assert.equal(doc.OnDemandBilledBytesUnaggregated, 30 * 1024);
    assert.ok(Array.isArray(doc.RecordLatency) && doc.RecordLatency.length > 0);
    assert.ok(doc.RecordLatency.length <= 100);
    assert.ok(Array.isArray(doc.PutRecordLatency));
    await producer.close();
  });

  it("counters are the change since the previous line; empty histograms are left out", async () => {
    const producer = await deliveredProducer(5);
    const before = producer.stats;
    for (let i = 0; i < 7; i++) await producer.put(`more ${i}`);
    await producer.flush();
    const doc = JSON.parse(toEmf(producer.stats, {}, before));
    assert.equal(doc.RecordsDelivered, 7);
    assert.equal(doc.RecordsPut, 7);
    const still = JSON.parse(toEmf(producer.stats, {}, producer.stats));
    assert.equal(still.RecordsDelivered, 0);
    assert.equal(still.RecordLatency, undefined);
    const names = still._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    assert.ok(!names.includes("RecordLatency"));
    await producer.close();
  });

  it("the emitter writes deltas on each emit and a last line on stop", async () => {
    const client = new ScriptedClient(() => "ok");
    const producer = new KinesisProducer({ streamName: "s", client, lingerMs: 0 });
    const lines: string[] = [];
    const emitter = startEmfEmitter(producer, {
      intervalMs: 3_600_000,
      dimensions: { StreamName: "s" },
      write: (l) => lines.push(l),
    });
    await producer.put("a");
    await producer.flush();
    emitter.emit();
    await producer.put("b");
    await producer.put("c");
    await producer.close();
    emitter.stop();
    emitter.stop(); // idempotent
    assert.deepEqual(lines.map((l) => JSON.parse(l).RecordsDelivered), [1, 2]);
    assert.throws(() => startEmfEmitter(producer, { intervalMs: 0 }), RangeError);
  });
});

/** A meter in @opentelemetry/api's shape that keeps what it is given. */
function fakeMeter() {
  const observables = new Map<string, ((r: ObservableResultLike) => void)[]>();
  const units = new Map<string, string | undefined>();
  const recorded = new Map<string, number[]>();
  const observable = (name: string, options?: { unit?: string }) => {
    units.set(name, options?.unit);
    observables.set(name, []);
    return {
      addCallback: (cb: (r: ObservableResultLike) => void) => void observables.get(name)!.push(cb),
      removeCallback: (cb: (r: ObservableResultLike) => void) =>
        void observables.set(name, observables.get(name)!.filter((c) => c !== cb)),
    };
  };
  const meter: MeterLike = {
    createObservableCounter: observable,
    createObservableGauge: observable,
    createHistogram(name, options) {
      units.set(name, options?.unit);
      recorded.set(name, []);
      return { record: (value) => void recorded.get(name)!.push(value) };
    },
  };
  /** One collection: every callback, as the SDK's reader does. */
  function collect(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, callbacks] of observables) {
      for (const cb of callbacks) {
        cb({
          observe: (v, attrs) => {
            assert.deepEqual(attrs, { "aws.kinesis.stream_name": "s" });
            out.set(name, v);
          },
        });
      }
    }
    return out;
  }
  return { meter, collect, recorded, units, observables };
}

describe("OpenTelemetry hook", () => {
  it("counters and gauges through observables; latencies into the caller's histograms", async () => {
    const { meter, collect, recorded, units, observables } = fakeMeter();
    const client = new ScriptedClient(() => "ok");
    const producer = new KinesisProducer({ streamName: "s", client, lingerMs: 0 });
    const instrumentation = instrumentProducer(producer, meter, {
      attributes: { "aws.kinesis.stream_name": "s" },
    });
    for (let i = 0; i < 12; i++) await producer.put(`r${i}`);
    await producer.flush();
    const first = collect();
    assert.equal(first.get("kinesis.producer.records.delivered"), 12);
    assert.equal(first.get("kinesis.producer.calls"), producer.stats.calls);
    assert.equal(first.get("kinesis.producer.billing.on_demand.bytes_unaggregated"), 12 * 1024);
    assert.equal(first.get("kinesis.producer.buffered"), 0);
    assert.equal(units.get("kinesis.producer.bytes.delivered"), "By");
    assert.equal(units.get("kinesis.producer.record.latency"), "ms");
    assert.equal(recorded.get("kinesis.producer.record.latency")!.length, 12);
    assert.equal(recorded.get("kinesis.producer.call.duration")!.length, producer.stats.calls);
    // A second collection records only what is new.
    await producer.put("late");
    await producer.close();
    collect();
    assert.equal(recorded.get("kinesis.producer.record.latency")!.length, 13);
    instrumentation.stop();
    assert.ok([...observables.values()].every((cbs) => cbs.length === 0), "callbacks removed");
  });
});
