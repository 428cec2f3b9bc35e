/**
 * `producer.writable`: the producer as a Web `WritableStream`.
 * @module
 */
import type { RecordKeys } from "./put_options.ts";

/** What `producer.writable` accepts: bytes, text, or a record with its keys. */
export type WritableRecord =
  | Uint8Array
  | string
  | ({ data: Uint8Array | string } & RecordKeys);

/** The part of the producer the stream drives. */
export interface WritableTarget {
  /** `KinesisProducer.put`. */
  put(data: Uint8Array | string, keys?: RecordKeys): Promise<void>;
  /** `KinesisProducer.close`. */
  close(options?: { signal?: AbortSignal }): Promise<void>;
}

function sizeOf(chunk: WritableRecord): number {
  if (typeof chunk === "string") return chunk.length;
  if (chunk instanceof Uint8Array) return chunk.length;
  return typeof chunk?.data === "string" || chunk?.data instanceof Uint8Array
    ? chunk.data.length
    : 1;
}

/**
 * A `WritableStream` that puts each chunk. Backpressure has two stages: each
 * `write` waits for `put`, which waits while the producer holds
 * `maxBufferedBytes`; and the stream's own queue, sized in bytes, holds at
 * most `highWaterMark` bytes more (one chunk's worth), so `writer.ready` and
 * `pipeTo` pause when the producer is full. Closing the stream closes the
 * producer (flushing everything); aborting it closes at once,
 * which reports undelivered records to `onFailure`.
 */
export function producerWritable(
  producer: WritableTarget,
  highWaterMark: number,
): WritableStream<WritableRecord> {
  return new WritableStream<WritableRecord>({
    write(chunk) {
      if (typeof chunk === "string" || chunk instanceof Uint8Array) return producer.put(chunk);
      if (chunk === null || typeof chunk !== "object") {
        return producer.put(chunk as unknown as string); // put's own TypeError-shaped refusal
      }
      const { data, partitionKey, explicitHashKey } = chunk;
      return producer.put(data, { partitionKey, explicitHashKey });
    },
    close() {
      return producer.close();
    },
    abort(reason) {
      return producer.close({ signal: AbortSignal.abort(reason) });
    },
  }, { highWaterMark, size: sizeOf });
}
