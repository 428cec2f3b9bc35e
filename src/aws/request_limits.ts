/**
 * Kinesis request limits, as data: the one place the producer and the client
 * read them from.
 *
 * Sources: the Kinesis API reference for PutRecords (500 entries per request;
 * each entry's data + partition key within the stream's record limit). The
 * per-request byte cap was documented as 5 MiB for years; the current API
 * reference allows 10 MiB. The producer defaults to the older cap, since
 * exceeding it fails the whole call, and takes the larger one as an option.
 * @module
 */

const MiB = 1_048_576;

/** Most entries in one PutRecords request. */
export const PUT_RECORDS_MAX_ENTRIES = 500;

/** Default cap on data + partition keys of one PutRecords request: 5 MiB (the long-documented cap). */
export const PUT_RECORDS_DEFAULT_MAX_BYTES = 5 * MiB;

/** The largest per-request cap the current API reference allows: 10 MiB. */
export const PUT_RECORDS_MAX_BYTES_CEILING = 10 * MiB;

/** A shard's write limit in bytes (data + partition keys) per second: 1 MiB. */
export const SHARD_BYTES_PER_SECOND = MiB;

/** A shard's write limit in Kinesis records per second (an aggregate counts as one). */
export const SHARD_RECORDS_PER_SECOND = 1000;

/** The limits one PutRecords request is built under. */
export interface PutRecordsLimits {
  /** Most entries, 1–500. */
  maxEntries: number;
  /** Most bytes of data + partition keys (UTF-8). */
  maxBytes: number;
}

/** The default limits: 500 entries, 5 MiB. */
export const DEFAULT_PUT_RECORDS_LIMITS: Readonly<PutRecordsLimits> = Object.freeze({
  maxEntries: PUT_RECORDS_MAX_ENTRIES,
  maxBytes: PUT_RECORDS_DEFAULT_MAX_BYTES,
});

/** UTF-8 length of `text` without encoding it (lone surrogates count as U+FFFD: 3 bytes). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Bytes one entry counts against the request and record limits: data + UTF-8 partition key. */
export function entryBytes(dataLength: number, partitionKey: string): number {
  return dataLength + utf8Length(partitionKey);
}
