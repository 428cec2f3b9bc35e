// Node ≥ 20: ship 1,000 JSON lines as KPL aggregates (npm install @kpl/kinesis-producer).
// Region, endpoint and credentials come from the environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, …) or the other default sources, unless set here.
import process from "node:process";
import { KinesisProducer } from "@kpl/kinesis-producer";

const producer = new KinesisProducer({
  streamName: process.env.STREAM_NAME ?? "my-stream",
  onFailure: (f) => console.error(`lost ${f.records.length} records: ${f.error.message}`),
});
for (let i = 0; i < 1000; i++) {
  await producer.put(JSON.stringify({ i, runtime: "node" }));
}
await producer.close(); // flushes and waits for every PutRecord
const { recordsDelivered, chunks, recordsFailed } = producer.stats;
console.log(`delivered ${recordsDelivered} records in ${chunks} PutRecord calls`);
if (recordsFailed > 0) process.exitCode = 1;
