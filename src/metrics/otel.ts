/**
 * Producer metrics through an OpenTelemetry `Meter` the caller passes in. The
 * interfaces below are the subset of `@opentelemetry/api` this uses, so the
 * real `Meter` fits and there is no dependency.
 * @module
 */
import type { LatencyHistogram } from "../producer/histogram.ts";
import type { ProducerStats } from "../producer/stats.ts";

/** Attributes on a measurement (OpenTelemetry `Attributes`). */
export type MetricAttributes = Record<string, string | number | boolean>;

/** What an observable callback gets (OpenTelemetry `ObservableResult`). */
export interface ObservableResultLike {
  /** Reports the current value. */
  observe(value: number, attributes?: MetricAttributes): void;
}

/** An asynchronous instrument (OpenTelemetry `Observable*`). */
export interface ObservableLike {
  /** Registers the function called at each collection. */
  addCallback(callback: (result: ObservableResultLike) => void): void;
  /** Unregisters it. */
  removeCallback(callback: (result: ObservableResultLike) => void): void;
}

/** A histogram (OpenTelemetry `Histogram`). */
export interface HistogramLike {
  /** Records one value. */
  record(value: number, attributes?: MetricAttributes): void;
}

/** Options of an instrument (OpenTelemetry `MetricOptions`). */
export interface InstrumentOptions {
  /** What it measures. */
  description?: string;
  /** UCUM unit: `"{record}"`, `"By"`, `"ms"`. */
  unit?: string;
}

/** The part of an OpenTelemetry `Meter` this uses. */
export interface MeterLike {
  /** A monotonic counter read at collection time. */
  createObservableCounter(name: string, options?: InstrumentOptions): ObservableLike;
  /** A gauge read at collection time. */
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableLike;
  /** A histogram. */
  createHistogram(name: string, options?: InstrumentOptions): HistogramLike;
}

/** Options for {@link instrumentProducer}. */
export interface InstrumentOptionsForProducer {
  /**
   * Prefix of every instrument name.
   * @default {"kinesis.producer."}
   */
  prefix?: string;
  /**
   * Attributes on every measurement, for example `{ "aws.kinesis.stream_name": "logs" }`.
   * @default {{}}
   */
  attributes?: MetricAttributes;
}

/** Stops an instrumentation. */
export interface Instrumentation {
  /** Records the latencies observed since the last collection, then unregisters. */
  stop(): void;
}

/** Most `record` calls per histogram per collection; above it, bucket counts are scaled down. */
export const MAX_RECORDS_PER_COLLECTION = 1000;

const COUNTERS: ReadonlyArray<[keyof ProducerStats, string, string, string]> = [
  ["records", "records.put", "{record}", "Records accepted by put"],
  ["recordsRejected", "records.rejected", "{record}", "Records refused by put"],
  ["recordsDelivered", "records.delivered", "{record}", "Records delivered"],
  ["recordsFailed", "records.failed", "{record}", "Records reported to onFailure"],
  ["chunks", "chunks.delivered", "{chunk}", "Aggregates delivered"],
  ["chunksFailed", "chunks.failed", "{chunk}", "Aggregates reported failed"],
  ["bytes", "bytes.delivered", "By", "Bytes delivered (data + partition keys)"],
  ["calls", "calls", "{call}", "PutRecord calls, retries included"],
  ["retries", "retries", "{call}", "Retries"],
  ["throttles", "throttles", "{call}", "Attempts answered with throttling"],
  ["putUnits", "billing.provisioned.put_units", "{unit}", "Provisioned-mode PUT payload units"],
  [
    "putUnitsUnaggregated",
    "billing.provisioned.put_units_unaggregated",
    "{unit}",
    "Provisioned-mode PUT payload units without aggregation",
  ],
  ["onDemandBilledBytes", "billing.on_demand.bytes", "By", "On-demand billed bytes"],
  [
    "onDemandBilledBytesUnaggregated",
    "billing.on_demand.bytes_unaggregated",
    "By",
    "On-demand billed bytes without aggregation",
  ],
];
const GAUGES: ReadonlyArray<[keyof ProducerStats, string, string, string]> = [
  ["inFlight", "calls.in_flight", "{call}", "PutRecord calls in flight"],
  ["bufferedBytes", "buffered", "By", "Bytes held: buffered, queued and in flight"],
];
const HISTOGRAMS: ReadonlyArray<[keyof ProducerStats, string, string]> = [
  ["callLatencyMs", "call.duration", "Time of each PutRecord call"],
  ["recordLatencyMs", "record.latency", "Time from put to delivery of each record"],
];

/**
 * Reports a producer's counters and gauges through `meter`'s observable
 * instruments (read at each collection), and its latency histograms through
 * `meter.createHistogram`: at each collection, the observations since the last
 * one are recorded, each at its bucket's upper bound (match the SDK's bucket
 * boundaries to `LATENCY_BUCKETS_MS`). Above
 * {@link MAX_RECORDS_PER_COLLECTION} observations per collection the counts are
 * scaled down, keeping the distribution; exact counts are in the counters.
 *
 * @example With a meter from `@opentelemetry/api`
 * ```ts ignore
 * import { metrics } from "@opentelemetry/api";
 * import { instrumentProducer, KinesisProducer } from "@kpl/kinesis-producer";
 * const producer = new KinesisProducer({ streamName: "logs" });
 * const instrumentation = instrumentProducer(producer, metrics.getMeter("my-app"), {
 *   attributes: { "aws.kinesis.stream_name": "logs" },
 * });
 * ```
 */
export function instrumentProducer(
  producer: { readonly stats: ProducerStats },
  meter: MeterLike,
  options: InstrumentOptionsForProducer = {},
): Instrumentation {
  const { prefix = "kinesis.producer.", attributes = {} } = options;
  let snapshot: ProducerStats | undefined;
  let snapshotAt = -1;
  let collection = 0;
  // One stats read per collection, however many instruments ask.
  const read = (): ProducerStats => {
    if (snapshotAt !== collection || snapshot === undefined) {
      snapshot = producer.stats;
      snapshotAt = collection;
      queueMicrotask(() => collection++);
    }
    return snapshot;
  };
  const registrations: [ObservableLike, (r: ObservableResultLike) => void][] = [];
  const observeAll = (
    list: ReadonlyArray<[keyof ProducerStats, string, string, string]>,
    counter: boolean,
  ) => {
    for (const [key, name, unit, description] of list) {
      const instrument = counter
        ? meter.createObservableCounter(prefix + name, { unit, description })
        : meter.createObservableGauge(prefix + name, { unit, description });
      const callback = (result: ObservableResultLike) =>
        result.observe(read()[key] as number, attributes);
      instrument.addCallback(callback);
      registrations.push([instrument, callback]);
    }
  };
  observeAll(COUNTERS, true);
  observeAll(GAUGES, false);

  // Histograms: a gauge-less hook on the first observable's collection records
  // the new bucket counts into the caller's histograms.
  const recorded = new Map<keyof ProducerStats, number[]>();
  const histograms = HISTOGRAMS.map(([key, name, description]) =>
    [key, meter.createHistogram(prefix + name, { unit: "ms", description })] as const
  );
  const flushHistograms = () => {
    const stats = read();
    for (const [key, histogram] of histograms) {
      const h = stats[key] as LatencyHistogram;
      const before = recorded.get(key) ?? new Array(h.counts.length).fill(0);
      const fresh = h.counts.map((c, i) => c - before[i]);
      const total = fresh.reduce((a, b) => a + b, 0);
      // OpenTelemetry records one value per call: keep the shape, cap the calls.
      const scale = Math.min(1, MAX_RECORDS_PER_COLLECTION / Math.max(1, total));
      for (let i = 0; i < fresh.length; i++) {
        if (fresh[i] === 0) continue;
        const value = Math.min(h.boundsMs[i] ?? h.maxMs, h.maxMs);
        for (let n = Math.max(1, Math.round(fresh[i] * scale)); n > 0; n--) {
          histogram.record(value, attributes);
        }
      }
      recorded.set(key, h.counts.slice());
    }
  };
  const [first, firstCallback] = registrations[0];
  const withHistograms = (result: ObservableResultLike) => {
    flushHistograms();
    firstCallback(result);
  };
  first.removeCallback(firstCallback);
  first.addCallback(withHistograms);
  registrations[0] = [first, withHistograms];

  return {
    stop() {
      flushHistograms();
      for (const [instrument, callback] of registrations) instrument.removeCallback(callback);
      registrations.length = 0;
    },
  };
}
