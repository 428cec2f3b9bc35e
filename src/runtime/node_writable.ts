/**
 * The producer as a Node.js `stream.Writable`, for `stream.pipeline`. Node
 * only (Bun and Deno run it too): it imports `node:stream`, so it sits behind
 * the `/node` subpath, away from the Workers bundle.
 * @module
 */
import { Writable } from "node:stream";
import type { RecordKeys } from "../producer/put_options.ts";
import type { WritableRecord } from "../producer/writable.ts";

/** The part of the producer the adapter drives. */
export interface NodeWritableTarget {
  /** `KinesisProducer.put`. */
  put(data: Uint8Array | string, keys?: RecordKeys): Promise<void>;
  /** `KinesisProducer.close`. */
  close(options?: { signal?: AbortSignal }): Promise<void>;
}

/** Options for {@link toNodeWritable}. */
export interface NodeWritableOptions {
  /**
   * Records the stream queues before `write()` returns false, on top of what
   * the producer buffers (`maxBufferedBytes`).
   * @default {16}
   */
  highWaterMark?: number;
  /**
   * Close the producer when the stream ends (`end()`, or the end of a
   * pipeline). On `destroy(error)` the producer closes at once, reporting what
   * it could not deliver to `onFailure`.
   * @default {true}
   */
  closeProducer?: boolean;
}

/**
 * An object-mode `Writable` that puts each chunk (`Buffer`/`Uint8Array`,
 * `string`, or `{ data, partitionKey?, explicitHashKey? }`) and calls back once
 * the producer accepts it, so `put`'s wait while `maxBufferedBytes` is full
 * becomes the stream's backpressure. A refused record (`RecordError`) errors
 * the stream, as a failed write does in Node.
 *
 * @example Pipe a file's lines into Kinesis
 * ```ts ignore
 * import { pipeline } from "node:stream/promises";
 * import { KinesisProducer } from "@kpl/kinesis-producer";
 * import { toNodeWritable } from "@kpl/kinesis-producer/node";
 * const producer = new KinesisProducer({ streamName: "logs" });
 * await pipeline(lines, toNodeWritable(producer)); // ends by closing the producer
 * ```
 */
export function toNodeWritable(
  producer: NodeWritableTarget,
  options: NodeWritableOptions = {},
): Writable {
  const { highWaterMark = 16, closeProducer = true } = options;
  return new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: WritableRecord, _encoding, callback) {
      let put: Promise<void>;
      if (typeof chunk === "string" || chunk instanceof Uint8Array) put = producer.put(chunk);
      else {
        const { data, partitionKey, explicitHashKey } = chunk ?? {};
        put = producer.put(data, { partitionKey, explicitHashKey });
      }
      put.then(() => callback(), callback);
    },
    final(callback) {
      if (!closeProducer) return callback();
      producer.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      if (!closeProducer || !error) return callback(error);
      producer.close({ signal: AbortSignal.abort(error) }).then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}
