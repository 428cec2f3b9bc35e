/**
 * Ship records into Amazon Kinesis Data Streams as KPL aggregates: a whole chunk
 * of user records becomes one Kinesis record, sent with one PutRecord.
 *
 * @example Aggregate and read back
 * ```ts
 * import { aggregate, deaggregate } from "./mod.ts";
 * const enc = new TextEncoder();
 * const [agg] = aggregate([{ data: enc.encode("a") }, { data: enc.encode("b") }]);
 * const back = deaggregate(agg.data, agg.partitionKey);
 * console.assert(back.length === 2);
 * ```
 * @module
 */

export type { AggregatedRecord, DeaggregatedRecord, UserRecord } from "./src/format/record.ts";
export { aggregate, type AggregateOptions, Aggregator, type AggregatorOptions } from "./src/format/aggregator.ts";
export { deaggregate, type DeaggregateOptions } from "./src/format/deaggregate.ts";
export { AggregateFormatError, RecordError, type RecordErrorCode, RecordTooLargeError } from "./src/format/errors.ts";
export {
  MAX_HASH_KEY,
  partitionKeyHash,
  recordHashKey,
  validateExplicitHashKey,
  validatePartitionKey,
} from "./src/format/keys.ts";
export { DEFAULT_MAX_RECORD_BYTES, DEFAULT_TARGET_BYTES, MAX_RECORD_BYTES_CEILING } from "./src/format/limits.ts";
export { type ShardHashRange, ShardMap } from "./src/format/shard_map.ts";
