/**
 * Typed errors for records that cannot be aggregated, and for aggregates that
 * cannot be read in strict mode. None of them carries record data.
 * @module
 */

/** Why a single user record was refused. */
export type RecordErrorCode =
  | "RecordTooLarge"
  | "InvalidPartitionKey"
  | "InvalidExplicitHashKey"
  | "InvalidData";

/** A user record was refused; its neighbours are unaffected. */
export class RecordError extends Error {
  /** Machine-readable reason. */
  readonly code: RecordErrorCode;
  /** Refusing the same record again gives the same answer. */
  readonly retryable = false;
  /** Position of the record in the batch given to `aggregate`, when known. */
  index?: number;

  /** Creates the error; `message` must not contain record data. */
  constructor(code: RecordErrorCode, message: string) {
    super(message);
    this.name = "RecordError";
    this.code = code;
  }
}

/** A record that cannot fit in one Kinesis record even on its own. */
export class RecordTooLargeError extends RecordError {
  /** Bytes Kinesis would count for the record alone in an aggregate (data, key, framing). */
  readonly size: number;
  /** The configured record limit in bytes. */
  readonly limit: number;

  /** `size` is what the record needs alone, `limit` the configured record limit. */
  constructor(size: number, limit: number, label = "record") {
    super(
      "RecordTooLarge",
      `Cannot aggregate ${label}: it needs ${size} bytes on its own, over the ${limit}-byte record limit`,
    );
    this.name = "RecordTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/** An aggregate that failed to parse or verify, thrown only in strict mode. */
export class AggregateFormatError extends Error {
  /** What was wrong. */
  readonly code: "ChecksumMismatch" | "MalformedProtobuf";

  /** Creates the error with its reason. */
  constructor(code: "ChecksumMismatch" | "MalformedProtobuf", message: string) {
    super(message);
    this.name = "AggregateFormatError";
    this.code = code;
  }
}
