/**
 * Producer stats as CloudWatch Embedded Metric Format (EMF) lines: one JSON
 * object per line, which CloudWatch Logs (Lambda's stdout, the CloudWatch
 * agent, Fluent Bit's `cloudwatch_logs`) turns into metrics, no API calls.
 * @module
 */
import type { LatencyHistogram } from "../producer/histogram.ts";
import type { ProducerStats } from "../producer/stats.ts";

/** Options for {@link toEmf} and {@link startEmfEmitter}. */
export interface EmfOptions {
  /**
   * CloudWatch namespace.
   * @default {"KinesisProducer"}
   */
  namespace?: string;
  /**
   * Dimension names and values, for example `{ StreamName: "logs" }`; one
   * dimension set with all of them.
   * @default {{}}
   */
  dimensions?: Record<string, string>;
  /**
   * The line's timestamp, in ms since the epoch.
   * @default {Date.now()}
   */
  timestamp?: number;
}

type Unit = "Count" | "Bytes" | "Milliseconds" | "None";

/**
 * Counters, EMF name and unit. Counters are emitted as the change since the
 * previous line (CloudWatch sums them); gauges (`inFlight`, `bufferedBytes`)
 * as they are.
 */
const COUNTERS: ReadonlyArray<[keyof ProducerStats, string, Unit]> = [
  ["records", "RecordsPut", "Count"],
  ["recordsRejected", "RecordsRejected", "Count"],
  ["recordsDelivered", "RecordsDelivered", "Count"],
  ["recordsFailed", "RecordsFailed", "Count"],
  ["chunks", "ChunksDelivered", "Count"],
  ["chunksFailed", "ChunksFailed", "Count"],
  ["bytes", "BytesDelivered", "Bytes"],
  ["calls", "PutRecordCalls", "Count"],
  ["retries", "Retries", "Count"],
  ["throttles", "Throttles", "Count"],
  ["putUnits", "ProvisionedPutPayloadUnits", "Count"],
  ["putUnitsUnaggregated", "ProvisionedPutPayloadUnitsUnaggregated", "Count"],
  ["onDemandBilledBytes", "OnDemandBilledBytes", "Bytes"],
  ["onDemandBilledBytesUnaggregated", "OnDemandBilledBytesUnaggregated", "Bytes"],
];
const GAUGES: ReadonlyArray<[keyof ProducerStats, string, Unit]> = [
  ["inFlight", "CallsInFlight", "Count"],
  ["bufferedBytes", "BufferedBytes", "Bytes"],
];
const HISTOGRAMS: ReadonlyArray<[keyof ProducerStats, string]> = [
  ["callLatencyMs", "PutRecordLatency"],
  ["recordLatencyMs", "RecordLatency"],
];

/** EMF allows at most 100 values per metric. */
const MAX_VALUES = 100;

/** Observations in `now` not in `before`, per bucket. */
function delta(now: LatencyHistogram, before?: LatencyHistogram): number[] {
  return now.counts.map((c, i) => c - (before?.counts[i] ?? 0));
}

/**
 * Up to 100 values standing for a histogram's observations: each bucket's
 * upper bound (the largest observation for the open bucket), repeated in
 * proportion to its count. CloudWatch computes percentiles from them.
 */
function histogramValues(h: LatencyHistogram, counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const scale = Math.min(1, MAX_VALUES / total);
  const values: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    const value = Math.min(h.boundsMs[i] ?? h.maxMs, h.maxMs);
    const n = Math.max(1, Math.round(counts[i] * scale));
    for (let k = 0; k < n && values.length < MAX_VALUES; k++) values.push(value);
  }
  return values;
}

/**
 * One EMF line (without the newline) for `stats`. With `previous` (the stats
 * of the last line), counters and histograms are the change since then, as
 * CloudWatch expects; without it, totals since the producer started.
 * Latencies are approximated by bucket (see `LatencyHistogram`), at most 100
 * values per metric.
 *
 * @example Print a line
 * ```ts
 * import { KinesisProducer, toEmf } from "@kpl/kinesis-producer";
 * const producer = new KinesisProducer({ streamName: "logs", region: "us-east-1" });
 * const line = toEmf(producer.stats, { dimensions: { StreamName: "logs" }, timestamp: 0 });
 * if (!line.startsWith('{"_aws":')) throw new Error("unexpected");
 * await producer.close();
 * ```
 */
export function toEmf(
  stats: ProducerStats,
  options: EmfOptions = {},
  previous?: ProducerStats,
): string {
  const { namespace = "KinesisProducer", dimensions = {}, timestamp = Date.now() } = options;
  const metrics: { Name: string; Unit: Unit }[] = [];
  const values: Record<string, number | number[]> = {};
  for (const [key, name, unit] of COUNTERS) {
    metrics.push({ Name: name, Unit: unit });
    values[name] = (stats[key] as number) - ((previous?.[key] as number | undefined) ?? 0);
  }
  for (const [key, name, unit] of GAUGES) {
    metrics.push({ Name: name, Unit: unit });
    values[name] = stats[key] as number;
  }
  for (const [key, name] of HISTOGRAMS) {
    const h = stats[key] as LatencyHistogram;
    const v = histogramValues(h, delta(h, previous?.[key] as LatencyHistogram | undefined));
    if (v.length === 0) continue; // an empty array is not a valid EMF value
    metrics.push({ Name: name, Unit: "Milliseconds" });
    values[name] = v;
  }
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: namespace,
        Dimensions: [Object.keys(dimensions)],
        Metrics: metrics,
      }],
    },
    ...dimensions,
    ...values,
  });
}

/** Options for {@link startEmfEmitter}. */
export interface EmfEmitterOptions extends Omit<EmfOptions, "timestamp"> {
  /**
   * Ms between lines.
   * @default {60000}
   */
  intervalMs?: number;
  /**
   * Where lines go.
   * @default {console.log}
   */
  write?: (line: string) => void;
}

/** A running EMF emitter. */
export interface EmfEmitter {
  /** Writes a line now with the change since the last one. */
  emit(): void;
  /** Writes a last line and stops the timer. */
  stop(): void;
}

/**
 * Writes an EMF line for `producer.stats` every `intervalMs`, each with the
 * change since the one before. Call `stop()` after `producer.close()` for the
 * final figures. The timer does not keep a Deno or Node process alive.
 *
 * @example Every minute to stdout (Lambda, ECS with awslogs)
 * ```ts
 * import { KinesisProducer, startEmfEmitter } from "@kpl/kinesis-producer";
 * const producer = new KinesisProducer({ streamName: "logs", region: "us-east-1" });
 * const lines: string[] = [];
 * const emitter = startEmfEmitter(producer, { write: (l) => lines.push(l) });
 * await producer.close();
 * emitter.stop();
 * if (lines.length !== 1) throw new Error("unexpected");
 * ```
 */
export function startEmfEmitter(
  producer: { readonly stats: ProducerStats },
  options: EmfEmitterOptions = {},
): EmfEmitter {
  const { intervalMs = 60_000, write = (line: string) => console.log(line), ...emf } = options;
  if (!(intervalMs > 0)) {
    throw new RangeError(`Cannot set intervalMs to ${intervalMs}: it must be a positive number`);
  }
  let previous: ProducerStats | undefined;
  const emit = () => {
    const stats = producer.stats;
    write(toEmf(stats, emf, previous));
    previous = stats;
  };
  let timer: ReturnType<typeof setInterval> | undefined = setInterval(emit, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    emit,
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      emit();
    },
  };
}
