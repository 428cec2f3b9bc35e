/**
 * The record shapes: what users put, and what one PutRecord sends.
 * @module
 */

/** One user record. Keys are used in keyed mode; otherwise the aggregate's key applies. */
export interface UserRecord {
  /** The payload. May be empty. */
  data: Uint8Array;
  /** 1–256 Unicode characters; Kinesis routes by its MD5. */
  partitionKey?: string;
  /** A decimal in 0..2^128−1 that overrides the partition key's hash. */
  explicitHashKey?: string;
}

/** One Kinesis record in the KPL format: the body of one PutRecord. */
export interface AggregatedRecord {
  /** Magic, protobuf message, MD5. */
  data: Uint8Array;
  /** The PutRecord partition key. */
  partitionKey: string;
  /** The PutRecord explicit hash key, when grouping by shard or by explicit hash key. */
  explicitHashKey?: string;
  /** The user records inside, in order: what a failure report hands back. */
  records: UserRecord[];
  /** Bytes Kinesis counts against the record limit: `data.length` + UTF-8 length of `partitionKey`. */
  size: number;
}

/** A record read back by `deaggregate`. */
export interface DeaggregatedRecord extends UserRecord {
  /** The partition key, resolved from the aggregate's table (or the outer key for pass-through). */
  partitionKey: string;
  /** Position inside the aggregate (KCL's sub-sequence number); 0 for pass-through records. */
  subSequenceNumber: number;
  /** False when the input was not a valid aggregate and came back unchanged. */
  aggregated: boolean;
}
