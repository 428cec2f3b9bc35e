/**
 * Deaggregation as a Web stream: Kinesis records in, user records out.
 * @module
 */
import {
  type ConsumedRecord,
  type DeaggregateRecordsOptions,
  deaggregateRecordSync,
  decompressRecords,
  type KinesisRecordInput,
} from "./records.ts";

/**
 * A `TransformStream` from Kinesis records (any shape `deaggregateRecords`
 * reads) to user records, in order, with the same per-record `error` handling.
 * Input that is not a Kinesis record at all errors the stream with a
 * `TypeError`.
 *
 * @example Pipe records through it
 * ```ts
 * import { aggregate, DeaggregationStream } from "@kpl/kinesis-producer";
 * const [agg] = aggregate([{ data: new Uint8Array([1]) }, { data: new Uint8Array([2]) }]);
 * const source = ReadableStream.from([
 *   { data: agg.data, partitionKey: agg.partitionKey, sequenceNumber: "1" },
 * ]);
 * let n = 0;
 * for await (const record of source.pipeThrough(new DeaggregationStream())) n += record.data.length;
 * if (n !== 2) throw new Error("unexpected");
 * ```
 */
export class DeaggregationStream extends TransformStream<KinesisRecordInput, ConsumedRecord> {
  /** Creates the stream; `decompress` undoes the producer's per-record compression. */
  constructor(options: DeaggregateRecordsOptions = {}) {
    const { decompress } = options;
    super({
      async transform(input, controller) {
        const records = deaggregateRecordSync(input);
        if (decompress) await decompressRecords(records, decompress);
        for (const record of records) controller.enqueue(record);
      },
    });
  }
}
