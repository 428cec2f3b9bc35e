/**
 * One aggregate under construction, with its exact size known at every step.
 *
 * Size accounting mirrors the encoder field by field, so the predicted size is
 * the encoded size: tests assert equality for every case.
 * @module
 */
import { PbfWriter } from "pbf";
import { bytesFieldSize, FRAMING_BYTES, MAGIC, varintSize } from "./limits.ts";
import { utf8 } from "./keys.ts";
import { md5 } from "./md5.ts";
import type { AggregatedRecord, UserRecord } from "./record.ts";

const PARTITION_KEY_TABLE = 1;
const EXPLICIT_HASH_KEY_TABLE = 2;
const RECORDS = 3;
const PARTITION_KEY_INDEX = 1;
const EXPLICIT_HASH_KEY_INDEX = 2;
const DATA = 3;
const WIRE_BYTES = 2;
const WIRE_VARINT = 0;
// Field keys: (field number << 3) | wire type.
const RECORDS_KEY = (RECORDS << 3) | WIRE_BYTES;
const PARTITION_KEY_INDEX_KEY = (PARTITION_KEY_INDEX << 3) | WIRE_VARINT;
const EXPLICIT_HASH_KEY_INDEX_KEY = (EXPLICIT_HASH_KEY_INDEX << 3) | WIRE_VARINT;
const DATA_KEY = (DATA << 3) | WIRE_BYTES;
// Below this many bytes a plain loop copies faster than `set` (scripts/bench/
// micro_copy.ts: loop/set 0.53 at 8 B, 1.15 at 16 B, 10.8 at 200 B).
const SMALL_COPY = 16;

/** A string table (keys or hash keys) with each entry's UTF-8 bytes. */
class KeyTable {
  readonly bytes: Uint8Array[] = [];
  readonly #index = new Map<string, number>();

  /** Index of `key`, or -1. */
  indexOf(key: string): number {
    return this.#index.get(key) ?? -1;
  }

  add(key: string, encoded: Uint8Array): number {
    const index = this.bytes.length;
    this.#index.set(key, index);
    this.bytes.push(encoded);
    return index;
  }
}

/**
 * Builds one aggregate. In shared-key mode every inner record points at the
 * outer key (index 0), which keeps KCL's hash-range check trivially safe. In
 * own-key mode each record's key and explicit hash key go into the tables.
 */
export class AggregateBuilder {
  /** The outer (PutRecord) partition key. */
  readonly partitionKey: string;
  /** The outer explicit hash key, if any. */
  readonly explicitHashKey: string | undefined;
  /** When the first record went in, on the aggregator's clock; for linger. */
  startedAt = 0;

  readonly #ownKeys: boolean;
  readonly #keys = new KeyTable();
  readonly #hashKeys = new KeyTable();
  readonly #records: UserRecord[] = [];
  // Per-record table indices; only own-key mode needs them.
  readonly #keyIndex: number[] = [];
  readonly #hashKeyIndex: number[] = [];
  readonly #outerKeyBytes: number;
  #messageBytes = 0;

  /**
   * @param partitionKey the outer key; in shared-key mode also table entry 0
   * @param explicitHashKey the outer explicit hash key
   * @param ownKeys whether inner records keep their own keys
   */
  constructor(partitionKey: string, explicitHashKey: string | undefined, ownKeys: boolean) {
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    this.#ownKeys = ownKeys;
    const encoded = utf8(partitionKey);
    this.#outerKeyBytes = encoded.length;
    if (!ownKeys) {
      this.#keys.add(partitionKey, encoded);
      this.#messageBytes = bytesFieldSize(encoded.length);
    }
  }

  /** Number of user records inside. */
  get count(): number {
    return this.#records.length;
  }

  /** Bytes Kinesis would count for this aggregate now: framing + message + outer key. */
  get size(): number {
    return FRAMING_BYTES + this.#messageBytes + this.#outerKeyBytes;
  }

  /**
   * Adds `record` if the aggregate then stays within `cap` bytes, and returns 0.
   * Otherwise changes nothing and returns the size the aggregate would have had.
   */
  tryAdd(record: UserRecord, cap: number): number {
    let tableBytes = 0;
    let keyIndex = 0;
    let hashKeyIndex = -1;
    let newKey: Uint8Array | undefined;
    let newHashKey: Uint8Array | undefined;
    if (this.#ownKeys) {
      const key = record.partitionKey!;
      keyIndex = this.#keys.indexOf(key);
      if (keyIndex < 0) {
        newKey = utf8(key);
        keyIndex = this.#keys.bytes.length;
        tableBytes += bytesFieldSize(newKey.length);
      }
      const hashKey = record.explicitHashKey;
      if (hashKey !== undefined) {
        hashKeyIndex = this.#hashKeys.indexOf(hashKey);
        if (hashKeyIndex < 0) {
          newHashKey = utf8(hashKey);
          hashKeyIndex = this.#hashKeys.bytes.length;
          tableBytes += bytesFieldSize(newHashKey.length);
        }
      }
    }
    const recordBytes = recordMessageSize(keyIndex, hashKeyIndex, record.data.length);
    const grown = this.size + tableBytes + bytesFieldSize(recordBytes);
    if (grown > cap) return grown;

    if (newKey) this.#keys.add(record.partitionKey!, newKey);
    if (newHashKey) this.#hashKeys.add(record.explicitHashKey!, newHashKey);
    if (this.#ownKeys) {
      this.#keyIndex.push(keyIndex);
      this.#hashKeyIndex.push(hashKeyIndex);
    }
    this.#records.push(record);
    this.#messageBytes = grown - FRAMING_BYTES - this.#outerKeyBytes;
    return 0;
  }

  /** Encodes the aggregate into one right-sized buffer: magic, message, MD5. */
  build(): AggregatedRecord {
    const messageBytes = this.#messageBytes;
    const out = new Uint8Array(FRAMING_BYTES + messageBytes);
    out.set(MAGIC, 0);
    // The buffer is exact, so pbf never reallocates: its 4-byte varint headroom
    // always lands inside the 16-byte digest slot that follows the message.
    const pbf = new PbfWriter(out);
    pbf.pos = MAGIC.length;
    for (const key of this.#keys.bytes) pbf.writeBytesField(PARTITION_KEY_TABLE, key);
    for (const key of this.#hashKeys.bytes) pbf.writeBytesField(EXPLICIT_HASH_KEY_TABLE, key);
    const records = this.#records;
    const own = this.#ownKeys;
    const keyIndexes = this.#keyIndex;
    const hashKeyIndexes = this.#hashKeyIndex;
    // Field keys go through writeVarint directly: writeTag would only compute them again.
    for (let i = 0; i < records.length; i++) {
      const data = records[i].data;
      const keyIndex = own ? keyIndexes[i] : 0;
      const hashKeyIndex = own ? hashKeyIndexes[i] : -1;
      pbf.writeVarint(RECORDS_KEY);
      pbf.writeVarint(recordMessageSize(keyIndex, hashKeyIndex, data.length));
      // Required even when 0: proto2 parsers (KCL) reject a record without it.
      pbf.writeVarint(PARTITION_KEY_INDEX_KEY);
      pbf.writeVarint(keyIndex);
      if (hashKeyIndex >= 0) {
        pbf.writeVarint(EXPLICIT_HASH_KEY_INDEX_KEY);
        pbf.writeVarint(hashKeyIndex);
      }
      pbf.writeVarint(DATA_KEY);
      pbf.writeVarint(data.length);
      let pos = pbf.pos;
      if (data.length < SMALL_COPY) { for (let b = 0; b < data.length; b++) out[pos++] = data[b]; }
      else {
        out.set(data, pos);
        pos += data.length;
      }
      pbf.pos = pos;
    }
    const end = MAGIC.length + messageBytes;
    if (pbf.pos !== end || pbf.buf !== out) {
      throw new Error(`Aggregate size accounting is off: predicted ${end}, wrote ${pbf.pos}`);
    }
    out.set(md5(out.subarray(MAGIC.length, end)), end);
    return {
      data: out,
      partitionKey: this.partitionKey,
      explicitHashKey: this.explicitHashKey,
      records,
      size: out.length + this.#outerKeyBytes,
    };
  }
}

/** Bytes of one `Record` message body. */
function recordMessageSize(keyIndex: number, hashKeyIndex: number, dataLength: number): number {
  let size = 1 + varintSize(keyIndex) + bytesFieldSize(dataLength);
  if (hashKeyIndex >= 0) size += 1 + varintSize(hashKeyIndex);
  return size;
}
