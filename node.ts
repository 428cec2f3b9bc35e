/**
 * Node.js adapters (they also run in Bun and Deno, never in Workers): the
 * producer as a `stream.Writable`.
 *
 * @example
 * ```ts
 * import { Readable } from "node:stream";
 * import { pipeline } from "node:stream/promises";
 * import { KinesisProducer } from "@kpl/kinesis-producer";
 * import { toNodeWritable } from "@kpl/kinesis-producer/node";
 * const producer = new KinesisProducer({
 *   streamName: "logs",
 *   client: { putRecord: () => Promise.resolve({ shardId: "shardId-0", sequenceNumber: "1" }) },
 * });
 * await pipeline(Readable.from(["a", "b"]), toNodeWritable(producer));
 * if (producer.stats.recordsDelivered !== 2) throw new Error("unexpected");
 * ```
 * @module
 */

export {
  type NodeWritableOptions,
  type NodeWritableTarget,
  toNodeWritable,
} from "./src/runtime/node_writable.ts";
