// Per-record gzip, as the Fluent Bit and Fluentd Kinesis plugins offer:
// compressed before aggregation, undone by the consumer helpers.
import { deaggregateRecords, KinesisProducer, type PutRecordInput } from "@kpl/kinesis-producer";

// Stands in for Kinesis and keeps what was sent, to read it back below.
const stored: PutRecordInput[] = [];
const producer = new KinesisProducer({
  streamName: "logs",
  compression: "gzip",
  client: {
    putRecord: (input) => {
      stored.push(input);
      return Promise.resolve({ shardId: "shardId-000000000000", sequenceNumber: "1" });
    },
  },
});
// Worth it for records of a few hundred bytes and more; gzip adds ~20 bytes to each.
const stack = Array.from(
  { length: 8 },
  (_, i) => `    at handler (src/routes/orders.ts:${40 + i}:7)`,
);
for (let i = 0; i < 100; i++) {
  await producer.put(JSON.stringify({ level: "error", msg: "order failed", order: i, stack }));
}
await producer.close();
const { compressionBytesIn, compressionBytesOut } = producer.stats;
console.log(`gzip: ${compressionBytesIn} bytes -> ${compressionBytesOut} bytes`);

const records = await deaggregateRecords(
  stored.map((r) => ({ data: r.data, partitionKey: r.partitionKey, sequenceNumber: "1" })),
  { decompress: "gzip" },
);
const first = JSON.parse(new TextDecoder().decode(records[0].data));
console.log(`read back ${records.length} records; first: order ${first.order}, ${first.msg}`);
