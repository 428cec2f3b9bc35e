/**
 * The options of the producer's calls: `put`/`deliver` (keys and a signal),
 * `flush` and `close`.
 * @module
 */

/** Per-record keys for keyed mode. */
export interface RecordKeys {
  /** 1–256 characters. */
  partitionKey?: string;
  /** Decimal in 0..2^128−1. */
  explicitHashKey?: string;
}

/** Options for `KinesisProducer.put` and `KinesisProducer.deliver`: keys, and a signal. */
export interface PutOptions extends RecordKeys {
  /**
   * Gives up waiting for room in the buffer: the call rejects with the
   * signal's reason and the record is not taken. A record already accepted is
   * not recalled.
   */
  signal?: AbortSignal;
}

/** Options for `KinesisProducer.flush`. */
export interface FlushOptions {
  /** Stops waiting (rejecting with the signal's reason); delivery goes on. */
  signal?: AbortSignal;
}

/** Options for `KinesisProducer.close`. */
export interface CloseOptions {
  /**
   * Aborting acts as a deadline reached now: in-flight calls are aborted and
   * every record not yet delivered is reported to `onFailure`.
   */
  signal?: AbortSignal;
  /**
   * Give up after this many ms: in-flight calls are aborted and every record
   * not yet delivered is reported to `onFailure`.
   * @default {Infinity}
   */
  deadlineMs?: number;
}
