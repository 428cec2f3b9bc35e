/**
 * One default-mode aggregate, encoded as its records arrive, with its exact
 * size known at every step (tests assert predicted = encoded for every case).
 *
 * Every inner record points at the outer key (table index 0), and at the outer
 * explicit hash key when there is one, so the tables are fixed when the
 * aggregate opens: each record is written into the aggregate's buffer at
 * `tryAdd` time, in one pass, and finishing it is one MD5. Layout: magic, key
 * tables, records, digest. Keyed mode has `keyed_builder.ts`.
 *
 * The key tables are written with pbf, once per aggregate. Each record's
 * fields are written inline instead: they are a few constant bytes and two
 * varints into a buffer sized up front, which needs none of pbf's growth
 * checks, and a method call per field cost more than the field on this path.
 * @module
 */
import { PbfWriter } from "pbf";
import { DIGEST_BYTES, MAGIC, varintSize } from "./limits.ts";
import { utf8 } from "./keys.ts";
import { md5 } from "./md5.ts";
import type { BufferRecycler } from "./buffer_recycler.ts";
import type { AggregatedRecord, UserRecord } from "./record.ts";

// AggregatedRecord field numbers.
const PARTITION_KEY_TABLE = 1;
const EXPLICIT_HASH_KEY_TABLE = 2;
// Field keys, (field number << 3) | wire type: AggregatedRecord.records (3);
// Record.partition_key_index (1), .explicit_hash_key_index (2), .data (3).
const RECORDS_KEY = 0x1a;
const PARTITION_KEY_INDEX_KEY = 0x08;
const EXPLICIT_HASH_KEY_INDEX_KEY = 0x10;
const DATA_KEY = 0x1a;
// Below this many bytes a plain loop copies faster than `set` (scripts/bench/
// micro_copy.ts: loop/set 0.53 at 8 B, 1.15 at 16 B, 10.8 at 200 B).
const SMALL_COPY = 16;
// A finished aggregate keeps its buffer (a view, no copy) unless more than this
// share of it is unused; then it gets a right-sized copy, so a small aggregate
// (a linger flush) never pins a target-sized buffer.
const SLACK_SHARE = 1 / 16;

/**
 * Builds one default-mode aggregate: its buffer is allocated at the first
 * record, sized for `capacity` (the target), and the finished aggregate's
 * `data` is a view of it. Outer key and outer explicit hash key are table
 * entry 0; every inner record writes index 0 explicitly (proto2 parsers such
 * as KCL's reject a record without `partition_key_index`).
 */
export class AggregateBuilder {
  /** The outer (PutRecord) partition key. */
  readonly partitionKey: string;
  /** The outer explicit hash key, if any. */
  readonly explicitHashKey: string | undefined;
  /** When the first record went in, on the aggregator's clock; for linger. */
  startedAt = 0;

  // Preallocated at the first record for as many records like it as the
  // buffer holds (growing by push copied each array about twice over), and
  // trimmed to `#count` when the aggregate is built.
  #records: UserRecord[] = [];
  #count = 0;
  readonly #outerKeyBytes: number;
  // Magic and table entries: the first bytes of the buffer.
  readonly #header: Uint8Array;
  // Index fields per record: partition key index, and explicit hash key index
  // when there is an outer explicit hash key (tag + one-byte 0 each).
  readonly #indexBytes: number;
  // Buffer bytes (Kinesis bytes less the outer key) the target allows.
  readonly #capacity: number;
  readonly #maxRecords: number;
  #buf: Uint8Array | undefined;
  // Where a target-sized buffer comes from and goes back to, when recycling.
  readonly #recycler: BufferRecycler | undefined;
  // End of the message so far: magic + tables + records.
  #end: number;

  /**
   * @param partitionKey the outer key, table entry 0
   * @param explicitHashKey the outer explicit hash key, table entry 0 of its table
   * @param capacity the target size in Kinesis bytes (data + outer key): the buffer's size
   * @param maxRecords the aggregator's record limit, to size the buffer when it is small
   * @param recycler spare buffers to start from, and to lend the finished aggregate's buffer to
   */
  constructor(
    partitionKey: string,
    explicitHashKey: string | undefined,
    capacity: number,
    maxRecords = Infinity,
    recycler?: BufferRecycler,
  ) {
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    const key = utf8(partitionKey);
    const hashKey = explicitHashKey === undefined ? undefined : utf8(explicitHashKey);
    this.#outerKeyBytes = key.length;
    const pbf = new PbfWriter();
    pbf.writeBytesField(PARTITION_KEY_TABLE, key);
    if (hashKey) pbf.writeBytesField(EXPLICIT_HASH_KEY_TABLE, hashKey);
    const tables = pbf.finish();
    const header = new Uint8Array(MAGIC.length + tables.length);
    header.set(MAGIC, 0);
    header.set(tables, MAGIC.length);
    this.#header = header;
    this.#end = header.length;
    this.#indexBytes = hashKey ? 4 : 2;
    this.#capacity = capacity - key.length;
    this.#maxRecords = maxRecords;
    this.#recycler = recycler;
  }

  /** Number of user records inside. */
  get count(): number {
    return this.#count;
  }

  /** Bytes Kinesis would count for this aggregate now: framing + message + outer key. */
  get size(): number {
    return this.#end + DIGEST_BYTES + this.#outerKeyBytes;
  }

  /** The size this aggregate would have with `record` added, without adding it. */
  sizeWith(record: UserRecord): number {
    const n = record.data.length;
    const inner = this.#indexBytes + 1 + varintSize(n) + n;
    return this.#end + 1 + varintSize(inner) + inner + DIGEST_BYTES + this.#outerKeyBytes;
  }

  /**
   * Adds `record` if the aggregate then stays within `cap` bytes, and returns 0.
   * Otherwise changes nothing and returns the size the aggregate would have had.
   */
  tryAdd(record: UserRecord, cap: number): number {
    const data = record.data;
    const n = data.length;
    const inner = this.#indexBytes + 1 + varintSize(n) + n;
    const start = this.#end;
    const end = start + 1 + varintSize(inner) + inner;
    const grown = end + DIGEST_BYTES + this.#outerKeyBytes;
    if (grown > cap) return grown;
    let buf = this.#buf;
    if (buf === undefined || end + DIGEST_BYTES > buf.length) buf = this.#grow(end + DIGEST_BYTES);
    let pos = start;
    buf[pos++] = RECORDS_KEY;
    // Two-byte lengths (128 B..16 KiB records) inline: the common case.
    if (inner >= 0x80 && inner < 0x4000) {
      buf[pos++] = inner | 0x80;
      buf[pos++] = inner >>> 7;
    } else pos = writeVarint(buf, pos, inner);
    buf[pos++] = PARTITION_KEY_INDEX_KEY;
    buf[pos++] = 0;
    if (this.#indexBytes === 4) {
      buf[pos++] = EXPLICIT_HASH_KEY_INDEX_KEY;
      buf[pos++] = 0;
    }
    buf[pos++] = DATA_KEY;
    if (n >= 0x80 && n < 0x4000) {
      buf[pos++] = n | 0x80;
      buf[pos++] = n >>> 7;
    } else pos = writeVarint(buf, pos, n);
    if (n < SMALL_COPY) { for (let b = 0; b < n; b++) buf[pos++] = data[b]; }
    else buf.set(data, pos);
    this.#end = end;
    const count = this.#count;
    if (count < this.#records.length) this.#records[count] = record;
    else this.#records.push(record);
    this.#count = count + 1;
    return 0;
  }

  /**
   * A buffer with room for `needed` bytes, holding what is written so far.
   * The first one is target-sized (or sized for `maxRecords` records like the
   * first, when that is less), so growing happens only past a small
   * `maxRecords` estimate or for a lone record over the target.
   */
  #grow(needed: number): Uint8Array {
    const old = this.#buf;
    let length: number;
    if (old === undefined) {
      const perRecord = needed - this.#end;
      const expected = this.#end + perRecord * this.#maxRecords + DIGEST_BYTES;
      length = Math.max(needed, Math.min(this.#capacity, expected));
      this.#records = new Array(Math.min(Math.ceil((length - this.#end) / perRecord), 65536));
    } else {
      length = Math.max(needed, Math.min(this.#capacity, old.length * 2));
    }
    // A spare holds an earlier aggregate's bytes: all of them up to `#end` are
    // written again here and in tryAdd, and the digest at build.
    const buf = (old === undefined ? this.#recycler?.take(length) : undefined) ??
      new Uint8Array(length);
    if (old === undefined) buf.set(this.#header, 0);
    else {
      buf.set(old.subarray(0, this.#end), 0);
      this.#recycler?.give(old);
    }
    this.#buf = buf;
    return buf;
  }

  /** The records, in order, without the preallocated tail. */
  #trimmedRecords(): UserRecord[] {
    const records = this.#records;
    if (records.length !== this.#count) records.length = this.#count;
    return records;
  }

  /** Finishes the aggregate: appends the MD5 of the message and hands out the bytes. */
  build(): AggregatedRecord {
    const end = this.#end;
    const length = end + DIGEST_BYTES;
    const buf = this.#buf ?? this.#grow(length);
    buf.set(md5(buf.subarray(MAGIC.length, end)), end);
    let data: Uint8Array;
    if (buf.length - length > buf.length * SLACK_SHARE) {
      // A right-sized copy: the buffer itself is free again at once.
      data = buf.slice(0, length);
      this.#recycler?.give(buf);
    } else {
      data = buf.subarray(0, length);
      this.#recycler?.lend(data, buf);
    }
    // The buffer now belongs to the aggregate: this builder must not write again.
    this.#buf = undefined;
    return {
      data,
      partitionKey: this.partitionKey,
      explicitHashKey: this.explicitHashKey,
      records: this.#trimmedRecords(),
      size: length + this.#outerKeyBytes,
    };
  }
}

/** Writes `n` (0 ≤ n < 2^31) as a varint at `pos`; returns the position after it. */
function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}
