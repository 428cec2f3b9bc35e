/**
 * Partition keys and explicit hash keys: validation, and the 128-bit hash
 * Kinesis routes by.
 * @module
 */
import { RecordError } from "./errors.ts";
import { MAX_PARTITION_KEY_CHARS } from "./limits.ts";
import { md5Key } from "./md5.ts";

const encoder = new TextEncoder();

/** 2^128 − 1: the top of the Kinesis hash key space. */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;

// AWS's pattern for ExplicitHashKey: no sign, no leading zeros, at most 39 digits.
const HASH_KEY_PATTERN = /^(0|[1-9]\d{0,38})$/;

/** Throws a {@link RecordError} unless `key` is 1–256 Unicode code points of well-formed text. */
export function validatePartitionKey(key: unknown): asserts key is string {
  if (typeof key !== "string") {
    throw new RecordError(
      "InvalidPartitionKey",
      `Cannot use partition key: expected a string, got ${typeof key}`,
    );
  }
  if (key.length === 0) {
    throw new RecordError(
      "InvalidPartitionKey",
      "Cannot use partition key: it is empty (1–256 characters allowed)",
    );
  }
  // UTF-16 length bounds the code-point count from above, so short keys skip the count.
  if (key.length > MAX_PARTITION_KEY_CHARS) {
    let chars = 0;
    for (const _ of key) chars++;
    if (chars > MAX_PARTITION_KEY_CHARS) {
      throw new RecordError(
        "InvalidPartitionKey",
        `Cannot use partition key: it has ${chars} characters, over the ${MAX_PARTITION_KEY_CHARS} allowed`,
      );
    }
  }
  if (!key.isWellFormed()) {
    throw new RecordError(
      "InvalidPartitionKey",
      "Cannot use partition key: it contains a lone UTF-16 surrogate",
    );
  }
}

/** Throws a {@link RecordError} unless `key` is a decimal in 0..2^128−1. */
export function validateExplicitHashKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || !HASH_KEY_PATTERN.test(key) || BigInt(key) > MAX_HASH_KEY) {
    const shown = typeof key === "string" ? JSON.stringify(key.slice(0, 48)) : typeof key;
    throw new RecordError(
      "InvalidExplicitHashKey",
      `Cannot use explicit hash key ${shown}: expected a decimal integer in 0..2^128-1 without leading zeros`,
    );
  }
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The hash Kinesis routes a partition key by: MD5 read as a big-endian 128-bit integer. */
export function partitionKeyHash(partitionKey: string): bigint {
  const digest = md5Key(utf8(partitionKey));
  let hex = "0x";
  for (let i = 0; i < digest.length; i++) hex += digest[i].toString(16).padStart(2, "0");
  return BigInt(hex);
}

/** The hash a record routes by: its explicit hash key, else the hash of its partition key. */
export function recordHashKey(
  record: { partitionKey?: string; explicitHashKey?: string },
  fallbackKey?: string,
): bigint {
  if (record.explicitHashKey !== undefined) return BigInt(record.explicitHashKey);
  const key = record.partitionKey ?? fallbackKey;
  if (key === undefined) {
    throw new RecordError("InvalidPartitionKey", "Cannot hash a record without a partition key");
  }
  return partitionKeyHash(key);
}
