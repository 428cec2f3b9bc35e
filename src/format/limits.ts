/**
 * Kinesis record limits and the byte costs of the aggregation framing.
 * @module
 */

/** Kinesis's default record limit: data + partition key ≤ 1 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/** The largest record limit a stream can opt in to (10 MiB). */
export const MAX_RECORD_BYTES_CEILING = 10 * 1_048_576;

/**
 * Default target size of one aggregate: 250,000 bytes (partition key included),
 * exactly 10 PUT payload units.
 *
 * Provisioned streams bill each record in 25,000-byte units, rounded up, so a
 * target just under a multiple of 25,000 fills every unit it pays for: 256 KiB
 * was 10.49 units billed as 11 (about 5% more than the bytes need); 250,000
 * bills within 0.2% of them. About a quarter of a shard's 1 MiB/s, so chunks
 * fill in a fraction of a second at moderate rates and a retry resends little.
 */
export const DEFAULT_TARGET_BYTES = 250_000;

/** The KPL magic prefix. */
export const MAGIC: Uint8Array = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2]);

/** MD5 digest length appended after the message. */
export const DIGEST_BYTES = 16;

/** Magic + digest: bytes an aggregate adds around its protobuf message. */
export const FRAMING_BYTES: number = MAGIC.length + DIGEST_BYTES;

/** Longest partition key, in Unicode code points. */
export const MAX_PARTITION_KEY_CHARS = 256;

/** Bytes a varint takes for `n` (0 ≤ n < 2^53). */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 0x80);
  }
  return size;
}

/** Bytes a length-delimited field of `length` bytes takes, with its 1-byte tag. */
export function bytesFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}
