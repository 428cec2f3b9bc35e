// The producer as a stream: Web streams everywhere (Deno, Bun, Node, Workers),
// and a Node stream.Writable for stream.pipeline.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KinesisProducer, type PutRecordClient } from "@kpl/kinesis-producer";
import { toNodeWritable } from "@kpl/kinesis-producer/node";

// Stands in for Kinesis so the example runs anywhere; drop `client` for the real thing.
const client: PutRecordClient = {
  putRecord: () => Promise.resolve({ shardId: "shardId-000000000000", sequenceNumber: "1" }),
};

// Web: backpressure comes from maxBufferedBytes; closing the stream closes the producer.
const web = new KinesisProducer({ streamName: "logs", client });
const lines = ReadableStream.from(["GET /", "GET /health", { data: "POST /login" }]);
await lines.pipeTo(web.writable);
console.log(`web stream: ${web.stats.recordsDelivered} records delivered`);

// Node: the same through stream.pipeline.
const node = new KinesisProducer({ streamName: "logs", client });
await pipeline(Readable.from(["a", "b", "c", "d"]), toNodeWritable(node));
console.log(`node stream: ${node.stats.recordsDelivered} records delivered`);
