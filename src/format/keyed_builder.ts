/**
 * One keyed-mode aggregate under construction: records keep their own
 * partition keys (and explicit hash keys) through per-aggregate key tables.
 *
 * Key table entries and each record's header (everything but its data) are
 * encoded as the record is added, key bytes straight from the
 * {@link KeyCache}'s buffer; the data is copied once, at build. Copying the
 * data at add time too (into pooled chunks) was measured and dropped: with
 * 1,000 aggregates open it doubled the memory held (64 MB more for 300,000 ×
 * 200 B), which set off a full garbage collection, and keyed mode took about
 * 700 ms CPU against 600 this way (scripts/bench/aggregation.ts, 4 alternating
 * rounds, Deno).
 * @module
 */
import { bytesFieldSize, FRAMING_BYTES, MAGIC, varintSize } from "./limits.ts";
import type { KeyCache } from "./key_cache.ts";
import { md5 } from "./md5.ts";
import type { AggregatedRecord, UserRecord } from "./record.ts";

// Field keys: (field number << 3) | wire type (2: bytes, 0: varint).
const PARTITION_KEY_TABLE_KEY = (1 << 3) | 2;
const EXPLICIT_HASH_KEY_TABLE_KEY = (2 << 3) | 2;
const RECORDS_KEY = (3 << 3) | 2;
const PARTITION_KEY_INDEX_KEY = (1 << 3) | 0;
const EXPLICIT_HASH_KEY_INDEX_KEY = (2 << 3) | 0;
const DATA_KEY = (3 << 3) | 2;
// Below this many bytes a plain loop copies faster than `set` (scripts/bench/
// micro_copy.ts: loop/set 0.53 at 8 B, 1.15 at 16 B, 10.8 at 200 B).
const SMALL_COPY = 16;
const EMPTY = new Uint8Array(0);

// Starts at 1: 0 in KeyCache.tableOwner means "in no table".
let nextBuilderId = 1;

/**
 * Builds one keyed aggregate. The caller passes each record's key ids in a
 * {@link KeyCache}, which also remembers each key's index in the last
 * aggregate that took it, so no per-aggregate map is needed.
 */
export class KeyedAggregateBuilder {
  /** The outer (PutRecord) partition key. */
  readonly partitionKey: string;
  /** The outer explicit hash key, if any. */
  readonly explicitHashKey: string | undefined;
  /** When the first record went in, on the aggregator's clock; for linger. */
  startedAt = 0;

  // A number, not the builder itself, marks table entries: a reference would
  // keep shipped aggregates (and their records) alive from the key cache.
  readonly #id = nextBuilderId++;
  readonly #outerKeyBytes: number;
  readonly #records: UserRecord[] = [];
  // Encoded table entries (fields 1 and 2) and records (field 3), each filled to its `...Used`.
  #keyTable: Uint8Array = EMPTY;
  #keyTableUsed = 0;
  #keyCount = 0;
  #hashKeyTable: Uint8Array = EMPTY;
  #hashKeyTableUsed = 0;
  #hashKeyCount = 0;
  // Each record's encoded header (all of its Record message but the data
  // bytes), back to back, and each header's length.
  #headers: Uint8Array = EMPTY;
  #headersUsed = 0;
  #headerLengths: Uint8Array = EMPTY;
  // Bytes of the records field entries, data included.
  #bodyBytes = 0;

  /**
   * @param partitionKey the outer key
   * @param partitionKeyBytes its length in UTF-8 bytes
   * @param explicitHashKey the outer explicit hash key
   */
  constructor(partitionKey: string, partitionKeyBytes: number, explicitHashKey?: string) {
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    this.#outerKeyBytes = partitionKeyBytes;
  }

  /** Number of user records inside. */
  get count(): number {
    return this.#records.length;
  }

  /** Bytes Kinesis would count for this aggregate now: framing + message + outer key. */
  get size(): number {
    return FRAMING_BYTES + this.#keyTableUsed + this.#hashKeyTableUsed + this.#bodyBytes +
      this.#outerKeyBytes;
  }

  /**
   * The size this aggregate would have with `record` added (key `keyId` in
   * `keys`, explicit hash key `hashKeyId` in `hashKeys` or -1), without adding it.
   */
  sizeWith(
    record: UserRecord,
    keys: KeyCache,
    keyId: number,
    hashKeys: KeyCache,
    hashKeyId: number,
  ): number {
    const id = this.#id;
    let size = this.size;
    let keyIndex: number;
    if (keys.tableOwner[keyId] === id) keyIndex = keys.tableIndex[keyId];
    else {
      keyIndex = this.#keyCount;
      size += bytesFieldSize(keys.byteLength[keyId]);
    }
    let hashKeyIndex = -1;
    if (hashKeyId >= 0) {
      if (hashKeys.tableOwner[hashKeyId] === id) hashKeyIndex = hashKeys.tableIndex[hashKeyId];
      else {
        hashKeyIndex = this.#hashKeyCount;
        size += bytesFieldSize(hashKeys.byteLength[hashKeyId]);
      }
    }
    return size + bytesFieldSize(recordSize(keyIndex, hashKeyIndex, record.data.length));
  }

  /**
   * Adds `record` if the aggregate then stays within `cap` bytes, and returns 0.
   * Otherwise changes nothing and returns the size the aggregate would have had.
   */
  tryAdd(
    record: UserRecord,
    cap: number,
    keys: KeyCache,
    keyId: number,
    hashKeys: KeyCache,
    hashKeyId: number,
  ): number {
    const id = this.#id;
    const data = record.data;
    let grown = this.size;
    let keyIndex: number;
    const newKey = keys.tableOwner[keyId] !== id;
    if (newKey) {
      keyIndex = this.#keyCount;
      grown += bytesFieldSize(keys.byteLength[keyId]);
    } else keyIndex = keys.tableIndex[keyId];
    let hashKeyIndex = -1;
    let newHashKey = false;
    if (hashKeyId >= 0) {
      newHashKey = hashKeys.tableOwner[hashKeyId] !== id;
      if (newHashKey) {
        hashKeyIndex = this.#hashKeyCount;
        grown += bytesFieldSize(hashKeys.byteLength[hashKeyId]);
      } else hashKeyIndex = hashKeys.tableIndex[hashKeyId];
    }
    const inner = recordSize(keyIndex, hashKeyIndex, data.length);
    grown += bytesFieldSize(inner);
    if (grown > cap) return grown;

    if (newKey) {
      keys.tableOwner[keyId] = id;
      keys.tableIndex[keyId] = keyIndex;
      this.#keyCount++;
      this.#addKeyEntry(keys, keyId, false);
    }
    if (newHashKey) {
      hashKeys.tableOwner[hashKeyId] = id;
      hashKeys.tableIndex[hashKeyId] = hashKeyIndex;
      this.#hashKeyCount++;
      this.#addKeyEntry(hashKeys, hashKeyId, true);
    }
    // The record's header: tag, length, key index (required even when 0:
    // proto2 parsers such as KCL's reject a record without it), hash key
    // index, data tag and length. The data is copied once, into the aggregate.
    const n = data.length;
    const count = this.#records.length;
    let headers = this.#headers;
    let pos = this.#headersUsed;
    // 5 varints of at most 5 bytes and 4 tags.
    if (pos + 29 > headers.length) headers = this.#headers = grow(headers, pos, pos + 29);
    if (count === this.#headerLengths.length) {
      this.#headerLengths = grow(this.#headerLengths, count, count + 1);
    }
    const start = pos;
    headers[pos++] = RECORDS_KEY;
    pos = writeVarint(headers, pos, inner);
    headers[pos++] = PARTITION_KEY_INDEX_KEY;
    pos = writeVarint(headers, pos, keyIndex);
    if (hashKeyIndex >= 0) {
      headers[pos++] = EXPLICIT_HASH_KEY_INDEX_KEY;
      pos = writeVarint(headers, pos, hashKeyIndex);
    }
    headers[pos++] = DATA_KEY;
    pos = writeVarint(headers, pos, n);
    this.#headerLengths[count] = pos - start;
    this.#headersUsed = pos;
    this.#bodyBytes += pos - start + n;
    this.#records.push(record);
    return 0;
  }

  /** Encodes the aggregate into one right-sized buffer: magic, message, MD5. */
  build(): AggregatedRecord {
    const keysEnd = MAGIC.length + this.#keyTableUsed;
    const hashKeysEnd = keysEnd + this.#hashKeyTableUsed;
    const end = hashKeysEnd + this.#bodyBytes;
    const out = new Uint8Array(end + 16);
    out.set(MAGIC, 0);
    out.set(this.#keyTable.subarray(0, this.#keyTableUsed), MAGIC.length);
    out.set(this.#hashKeyTable.subarray(0, this.#hashKeyTableUsed), keysEnd);
    const records = this.#records;
    const headers = this.#headers;
    const lengths = this.#headerLengths;
    let pos = hashKeysEnd;
    let h = 0;
    for (let i = 0; i < records.length; i++) {
      const hEnd = h + lengths[i];
      while (h < hEnd) out[pos++] = headers[h++];
      const data = records[i].data;
      const n = data.length;
      if (n < SMALL_COPY) { for (let b = 0; b < n; b++) out[pos++] = data[b]; }
      else {
        out.set(data, pos);
        pos += n;
      }
    }
    if (pos !== end) {
      throw new Error(`Aggregate size accounting is off: predicted ${end}, wrote ${pos}`);
    }
    out.set(md5(out.subarray(MAGIC.length, end)), end);
    // Built once: the buffers go now, the records travel with the aggregate.
    this.#keyTable =
      this.#hashKeyTable =
      this.#headers =
      this.#headerLengths =
        EMPTY;
    return {
      data: out,
      partitionKey: this.partitionKey,
      explicitHashKey: this.explicitHashKey,
      records: this.#records,
      size: out.length + this.#outerKeyBytes,
    };
  }

  /** Appends key `id` of `cache` to the partition key table, or the explicit hash key table. */
  #addKeyEntry(cache: KeyCache, id: number, hashKey: boolean): void {
    const n = cache.byteLength[id];
    let table = hashKey ? this.#hashKeyTable : this.#keyTable;
    let pos = hashKey ? this.#hashKeyTableUsed : this.#keyTableUsed;
    const need = pos + bytesFieldSize(n);
    if (need > table.length) {
      table = grow(table, pos, need);
      if (hashKey) this.#hashKeyTable = table;
      else this.#keyTable = table;
    }
    table[pos++] = hashKey ? EXPLICIT_HASH_KEY_TABLE_KEY : PARTITION_KEY_TABLE_KEY;
    pos = writeVarint(table, pos, n);
    const src = cache.utf8;
    const at = cache.start[id];
    if (n < SMALL_COPY) { for (let b = 0; b < n; b++) table[pos++] = src[at + b]; }
    else {
      table.set(src.subarray(at, at + n), pos);
      pos += n;
    }
    if (hashKey) this.#hashKeyTableUsed = pos;
    else this.#keyTableUsed = pos;
  }
}

/** A buffer of at least `need` bytes holding `buf[0..used]`, doubled. */
function grow(buf: Uint8Array, used: number, need: number): Uint8Array {
  const size = Math.max(need, 2 * buf.length, 256);
  const next = new Uint8Array(size);
  if (used > 0) next.set(buf.subarray(0, used));
  return next;
}

/** Writes `n` (below 2^31) as a varint at `pos`; returns the position after it. */
function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Bytes of one `Record` message body. */
function recordSize(keyIndex: number, hashKeyIndex: number, dataLength: number): number {
  let size = 1 + varintSize(keyIndex) + bytesFieldSize(dataLength);
  if (hashKeyIndex >= 0) size += 1 + varintSize(hashKeyIndex);
  return size;
}
