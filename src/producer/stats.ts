/**
 * Live producer counters, for metrics.
 * @module
 */

/** Bytes in one PUT payload unit, the provisioned-mode billing unit (25 KiB). */
export const PUT_PAYLOAD_UNIT_BYTES = 25 * 1024;

/** PUT payload units one record of `bytes` (data + partition key) costs. */
export function putPayloadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PUT_PAYLOAD_UNIT_BYTES));
}

/** A snapshot of what a producer has done. */
export interface ProducerStats {
  /** Records accepted by `put`. */
  records: number;
  /** Records refused by `put` (invalid or too large). */
  recordsRejected: number;
  /** Records delivered. */
  recordsDelivered: number;
  /** Records reported to `onFailure`. */
  recordsFailed: number;
  /**
   * Records whose `onFailure` call threw: the caller may not have kept them,
   * so they count as lost (they are also in {@link recordsFailed}).
   */
  recordsLost: number;
  /** Calls of `onFailure` or `onDelivered` that threw. */
  callbackErrors: number;
  /** Chunks (aggregates) delivered. */
  chunks: number;
  /** Chunks reported failed. */
  chunksFailed: number;
  /** Bytes delivered: aggregate data plus partition keys, as Kinesis counts them. */
  bytes: number;
  /** PutRecord calls made, retries included. */
  calls: number;
  /** Retries made. */
  retries: number;
  /** Attempts answered with throttling. */
  throttles: number;
  /** PutRecord calls in flight now. */
  inFlight: number;
  /** Bytes held now: buffered, queued and in flight. */
  bufferedBytes: number;
  /** PUT payload units of the delivered aggregates. */
  putUnits: number;
  /** PUT payload units the same records would have cost as one PutRecord each. */
  putUnitsUnaggregated: number;
}

/** Fresh, zeroed counters. */
export function emptyStats(): ProducerStats {
  return {
    records: 0,
    recordsRejected: 0,
    recordsDelivered: 0,
    recordsFailed: 0,
    recordsLost: 0,
    callbackErrors: 0,
    chunks: 0,
    chunksFailed: 0,
    bytes: 0,
    calls: 0,
    retries: 0,
    throttles: 0,
    inFlight: 0,
    bufferedBytes: 0,
    putUnits: 0,
    putUnitsUnaggregated: 0,
  };
}
