/**
 * Unaggregated mode: each user record becomes its own Kinesis record, checked
 * against the same key rules as keyed aggregation and against the stream's
 * record limit (data + UTF-8 partition key).
 * @module
 */
import { entryBytes } from "../aws/request_limits.ts";
import { RecordError, RecordTooLargeError } from "../format/errors.ts";
import { validateExplicitHashKey, validatePartitionKey } from "../format/keys.ts";
import type { UserRecord } from "../format/record.ts";
import type { ShardPredictor } from "./congestion.ts";
import { createEntry, type Entry } from "./entry.ts";

/** What {@link unaggregatedEntry} needs from the producer's options. */
export interface UnaggregatedSettings {
  /** Keyed mode: records carry their own keys. */
  keyed: boolean;
  /** A fixed key for every record; unset (and not keyed): a random UUID per record. */
  partitionKey: string | undefined;
  /** The stream's record limit in bytes. */
  maxRecordBytes: number;
}

/**
 * Checks `record` and returns its Kinesis key and size, or throws the
 * {@link RecordError} that `put` rejects with. Changes nothing.
 */
export function checkUnaggregated(
  record: UserRecord,
  s: UnaggregatedSettings,
): { partitionKey: string; bytes: number } {
  if (s.keyed) {
    validatePartitionKey(record.partitionKey);
    if (record.explicitHashKey !== undefined) validateExplicitHashKey(record.explicitHashKey);
  } else if (record.partitionKey !== undefined || record.explicitHashKey !== undefined) {
    throw new RecordError(
      "InvalidPartitionKey",
      "Cannot use a per-record partitionKey or explicitHashKey unless keyed mode is on",
    );
  }
  const partitionKey = s.keyed ? record.partitionKey! : s.partitionKey ?? crypto.randomUUID();
  const bytes = entryBytes(record.data.length, partitionKey);
  if (bytes > s.maxRecordBytes) throw new RecordTooLargeError(bytes, s.maxRecordBytes);
  return { partitionKey, bytes };
}

/** The entry for one user record sent on its own. */
export function unaggregatedEntry(
  record: UserRecord,
  cost: number,
  now: number,
  s: UnaggregatedSettings,
  predictor: ShardPredictor | undefined,
): Entry {
  const { partitionKey, bytes } = checkUnaggregated(record, s);
  return createEntry({
    data: record.data,
    partitionKey,
    explicitHashKey: record.explicitHashKey,
    records: [record],
    bytes,
    cost,
    cutAt: now,
    shard: predictor?.(partitionKey, record.explicitHashKey),
  });
}
