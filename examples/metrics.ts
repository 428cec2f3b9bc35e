// Metrics: CloudWatch Embedded Metric Format lines, and an OpenTelemetry hook
// (pass `metrics.getMeter("my-app")` from @opentelemetry/api; a tiny stand-in here).
import {
  instrumentProducer,
  KinesisProducer,
  type MeterLike,
  type PutRecordClient,
  startEmfEmitter,
} from "@kpl/kinesis-producer";

// Stands in for Kinesis so the example runs anywhere; drop `client` for the real thing.
const client: PutRecordClient = {
  putRecord: () => Promise.resolve({ shardId: "shardId-000000000000", sequenceNumber: "1" }),
};
const producer = new KinesisProducer({ streamName: "logs", client });

// EMF: one JSON line per minute on stdout (Lambda, ECS awslogs, the CloudWatch agent).
const lines: string[] = [];
const emf = startEmfEmitter(producer, {
  dimensions: { StreamName: "logs" },
  write: (line) => lines.push(line),
});

// OpenTelemetry: counters and gauges as observables, latencies as histograms.
const seen = new Map<string, number>();
const meter: MeterLike = {
  createObservableCounter: (name) => ({
    addCallback: (cb) => cb({ observe: (value) => void seen.set(name, value) }),
    removeCallback() {},
  }),
  createObservableGauge: () => ({ addCallback() {}, removeCallback() {} }),
  createHistogram: () => ({ record() {} }),
};
const otel = instrumentProducer(producer, meter);

for (let i = 0; i < 500; i++) await producer.put(`event ${i}`);
await producer.close();
emf.stop(); // writes the last line
otel.stop();

const last = JSON.parse(lines.at(-1)!);
console.log(
  `EMF: ${last.RecordsDelivered} records delivered, ${last.ProvisionedPutPayloadUnits} PUT payload unit(s)`,
);
console.log(
  `on-demand: ${last.OnDemandBilledBytes} bytes billed vs ${last.OnDemandBilledBytesUnaggregated} unaggregated`,
);
console.log(`OpenTelemetry: ${seen.size} counters registered`);
