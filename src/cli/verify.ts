/**
 * `--local` verification: read the whole stream back, deaggregate, and compare
 * with what was shipped, in constant memory: a count and an order-free digest
 * (the sum mod 2^128 of each record's MD5), so a 1 GB run needs 20 bytes.
 * A sum, not an XOR: a record read twice must not cancel itself out.
 * @module
 */
import type { KinesisClient } from "../aws/kinesis_client.ts";
import { readStream } from "../aws/read_stream.ts";
import { deaggregate } from "../format/deaggregate.ts";
import { md5 } from "../format/md5.ts";

/** A multiset digest of records: count plus the sum of their MD5s mod 2^128. */
export class RecordDigest {
  /** Records added minus records removed. */
  count = 0;
  readonly #words = new Uint32Array(4);

  /** Adds one record. */
  add(data: Uint8Array): void {
    this.count++;
    this.#apply(md5(data), 1);
  }

  /** Removes one record added before. */
  remove(data: Uint8Array): void {
    this.count--;
    this.#apply(md5(data), -1);
  }

  /** The sum as 32 hex digits. */
  get hex(): string {
    return Array.from(this.#words, (w) => w.toString(16).padStart(8, "0")).join("");
  }

  /** True when both hold the same multiset (with overwhelming probability). */
  equals(other: RecordDigest): boolean {
    return this.count === other.count && this.hex === other.hex;
  }

  #apply(digest: Uint8Array, sign: 1 | -1): void {
    let carry = 0;
    for (let i = 3; i >= 0; i--) {
      const o = i * 4;
      const word =
        ((digest[o] << 24) | (digest[o + 1] << 16) | (digest[o + 2] << 8) | digest[o + 3]) >>> 0;
      const sum = this.#words[i] + sign * word + carry;
      // Carry (or borrow) into the next word keeps this a true 128-bit sum.
      carry = Math.floor(sum / 0x1_0000_0000);
      this.#words[i] = sum >>> 0;
    }
  }
}

/** What reading the stream back found. */
export interface ReadBack {
  /** Every user record read, as a digest. */
  digest: RecordDigest;
  /** Kinesis records (aggregates) read. */
  kinesisRecords: number;
}

/**
 * Reads every shard of `streamName` from TRIM_HORIZON until caught up (see
 * {@linkcode readStream}), and deaggregates each record into the digest.
 */
export async function readBack(
  client: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
): Promise<ReadBack> {
  const digest = new RecordDigest();
  let kinesisRecords = 0;
  for await (const { record } of readStream(client, { streamName }, signal)) {
    kinesisRecords++;
    for (const user of deaggregate(record.data, record.partitionKey)) digest.add(user.data);
  }
  return { digest, kinesisRecords };
}
