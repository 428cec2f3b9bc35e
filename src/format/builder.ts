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
const PARTITION_KEY_TABLE_KEY = (PARTITION_KEY_TABLE << 3) | WIRE_BYTES;
const EXPLICIT_HASH_KEY_TABLE_KEY = (EXPLICIT_HASH_KEY_TABLE << 3) | WIRE_BYTES;
const PARTITION_KEY_INDEX_KEY = (PARTITION_KEY_INDEX << 3) | WIRE_VARINT;
const EXPLICIT_HASH_KEY_INDEX_KEY = (EXPLICIT_HASH_KEY_INDEX << 3) | WIRE_VARINT;
const DATA_KEY = (DATA << 3) | WIRE_BYTES;
// Below this many bytes a plain loop copies faster than `set` (scripts/bench/
// micro_copy.ts: loop/set 0.53 at 8 B, 1.15 at 16 B, 10.8 at 200 B).
const SMALL_COPY = 16;

/**
 * Builds one default-mode aggregate: every inner record points at the outer
 * key (index 0), and at the outer explicit hash key (index 0) when there is
 * one, which keeps KCL's hash-range check trivially safe. Keyed mode, where
 * records keep their own keys, uses {@link KeyedAggregateBuilder}.
 */
export class AggregateBuilder {
  /** The outer (PutRecord) partition key. */
  readonly partitionKey: string;
  /** The outer explicit hash key, if any. */
  readonly explicitHashKey: string | undefined;
  /** When the first record went in, on the aggregator's clock; for linger. */
  startedAt = 0;

  readonly #keys: Uint8Array[] = [];
  readonly #hashKeys: Uint8Array[] = [];
  readonly #records: UserRecord[] = [];
  readonly #outerKeyBytes: number;
  // With an outer explicit hash key every inner record points at hash key
  // entry 0 too, so all of them hash where the aggregate lands.
  readonly #sharedHashKey: boolean;
  #messageBytes = 0;

  /**
   * @param partitionKey the outer key, also table entry 0
   * @param explicitHashKey the outer explicit hash key, also hash key table entry 0
   */
  constructor(partitionKey: string, explicitHashKey: string | undefined) {
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    const encodedKey = utf8(partitionKey);
    this.#outerKeyBytes = encodedKey.length;
    this.#sharedHashKey = explicitHashKey !== undefined;
    this.#keys.push(encodedKey);
    this.#messageBytes = bytesFieldSize(encodedKey.length);
    if (explicitHashKey !== undefined) {
      const hashKey = utf8(explicitHashKey);
      this.#hashKeys.push(hashKey);
      this.#messageBytes += bytesFieldSize(hashKey.length);
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
    const grown = this.sizeWith(record);
    if (grown > cap) return grown;
    this.#records.push(record);
    this.#messageBytes = grown - FRAMING_BYTES - this.#outerKeyBytes;
    return 0;
  }

  /** The size this aggregate would have with `record` added, without adding it. */
  sizeWith(record: UserRecord): number {
    const recordBytes = recordMessageSize(0, this.#sharedHashKey ? 0 : -1, record.data.length);
    return this.size + bytesFieldSize(recordBytes);
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
    for (const key of this.#keys) writeTableEntry(pbf, out, PARTITION_KEY_TABLE_KEY, key);
    for (const key of this.#hashKeys) writeTableEntry(pbf, out, EXPLICIT_HASH_KEY_TABLE_KEY, key);
    const records = this.#records;
    const keyIndex = 0;
    const hashKeyIndex = this.#sharedHashKey ? 0 : -1;
    // Field keys go through writeVarint directly: writeTag would only compute them again.
    for (let i = 0; i < records.length; i++) {
      const data = records[i].data;
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

/**
 * One key table entry. pbf's writeBytesField copies through a property per
 * byte; a local loop is several times faster for short keys.
 */
function writeTableEntry(pbf: PbfWriter, out: Uint8Array, fieldKey: number, key: Uint8Array) {
  pbf.writeVarint(fieldKey);
  pbf.writeVarint(key.length);
  let pos = pbf.pos;
  if (key.length < SMALL_COPY) { for (let b = 0; b < key.length; b++) out[pos++] = key[b]; }
  else {
    out.set(key, pos);
    pos += key.length;
  }
  pbf.pos = pos;
}

/** Bytes of one `Record` message body. */
function recordMessageSize(keyIndex: number, hashKeyIndex: number, dataLength: number): number {
  let size = 1 + varintSize(keyIndex) + bytesFieldSize(dataLength);
  if (hashKeyIndex >= 0) size += 1 + varintSize(hashKeyIndex);
  return size;
}
