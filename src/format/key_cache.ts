/**
 * Keyed mode's per-key facts, computed once per key for the working set: the
 * key's UTF-8 bytes, its 128-bit hash as four 32-bit words, and its shard under
 * the current map. A key seen again costs one `Map` lookup: no validation, no
 * encoding, no MD5.
 *
 * Facts live in typed arrays indexed by a small key id, and the keys' UTF-8
 * bytes back to back in one buffer, not in one object or array per key: with
 * 100,000 keys and 1,000 open aggregates the working set does not fit the CPU
 * caches, every object touched per record was a cache miss, and 100,000 small
 * arrays kept the garbage collector busy (scripts/bench/profile.ts --target keyed).
 * @module
 */
import { validateExplicitHashKey, validatePartitionKey } from "./keys.ts";
import { md5Words } from "./key_hash.ts";
import { bigintToWords } from "./shard_map.ts";

const encoder = new TextEncoder();
const INITIAL = 1024;

/**
 * Key → id, with per-id facts. Bounded: when `capacity` keys are held, the
 * next new key clears it (ids restart, buffers are kept). Aggregates copy key
 * bytes into their own tables, so a clear only costs them a repeated table entry.
 */
export class KeyCache {
  readonly #explicit: boolean;
  readonly #capacity: number;
  #ids = new Map<string, number>();
  /** Key texts by id. */
  keys: string[] = [];
  /** Every key's UTF-8 bytes, back to back: key `id` is `utf8[start[id] .. start[id] + byteLength[id]]`. */
  utf8: Uint8Array = new Uint8Array(32 * INITIAL);
  #utf8Used = 0;
  /** Where each key's bytes start in {@link utf8}. */
  start: Int32Array = new Int32Array(INITIAL);
  /** Each key's length in UTF-8 bytes. */
  byteLength: Int32Array = new Int32Array(INITIAL);
  /** Hash words by id: `hash[4 * id .. 4 * id + 3]`, big-endian order. */
  hash: Uint32Array = new Uint32Array(4 * INITIAL);
  /** 1 once `hash` holds the key's hash. */
  hashed: Uint8Array = new Uint8Array(INITIAL);
  /** Shard index under map version `mapVersion[id]`. */
  shard: Int32Array = new Int32Array(INITIAL);
  /** The map version `shard[id]` was computed for; 0 means never. */
  mapVersion: Int32Array = new Int32Array(INITIAL);
  /** Id of the aggregate whose key table last took this key (0: none). */
  tableOwner: Int32Array = new Int32Array(INITIAL);
  /** Index in that aggregate's key table. */
  tableIndex: Int32Array = new Int32Array(INITIAL);

  /**
   * @param explicit whether keys are explicit hash keys (decimal) rather than partition keys
   * @param capacity most keys held before the cache starts over
   */
  constructor(explicit: boolean, capacity = 131_072) {
    this.#explicit = explicit;
    this.#capacity = capacity;
  }

  /** Keys held now. */
  get size(): number {
    return this.keys.length;
  }

  /**
   * The id of `key`, validated on first sight; throws the key's
   * {@link RecordError} for an invalid key (and caches nothing).
   */
  id(key: unknown): number {
    const known = typeof key === "string" ? this.#ids.get(key) : undefined;
    if (known !== undefined) return known;
    if (this.#explicit) validateExplicitHashKey(key);
    else validatePartitionKey(key);
    if (this.keys.length >= this.#capacity) this.clear();
    const id = this.keys.length;
    if (id === this.shard.length) this.#grow();
    this.#ids.set(key, id);
    this.keys.push(key);
    this.#encode(id, key);
    if (this.#explicit) {
      this.hash.set(bigintToWords(BigInt(key)), id * 4);
      this.hashed[id] = 1;
    }
    return id;
  }

  /** Fills the hash words of `id` from the MD5 of its UTF-8 bytes, once. */
  hashOf(id: number): void {
    if (this.hashed[id] === 1) return;
    md5Words(this.utf8, WORDS, this.start[id], this.byteLength[id]);
    const h = this.hash;
    const at = id * 4;
    h[at] = WORDS.w0;
    h[at + 1] = WORDS.w1;
    h[at + 2] = WORDS.w2;
    h[at + 3] = WORDS.w3;
    this.hashed[id] = 1;
  }

  /** A copy of key `id`'s UTF-8 bytes. */
  bytesOf(id: number): Uint8Array {
    const at = this.start[id];
    return this.utf8.slice(at, at + this.byteLength[id]);
  }

  /** Drops every key; the buffers stay for the next ones. */
  clear(): void {
    this.#ids = new Map();
    this.keys = [];
    this.#utf8Used = 0;
    // Ids restart: an old mark would give a new key a stale table index or shard.
    this.hashed.fill(0);
    this.mapVersion.fill(0);
    this.tableOwner.fill(0);
  }

  /** Appends `key`'s UTF-8 bytes to {@link utf8}: ASCII by hand, the rest by `encodeInto`. */
  #encode(id: number, key: string): void {
    const n = key.length;
    // Three bytes per UTF-16 unit at most.
    if (this.#utf8Used + 3 * n > this.utf8.length) {
      const next = new Uint8Array(Math.max(2 * this.utf8.length, this.#utf8Used + 3 * n));
      next.set(this.utf8.subarray(0, this.#utf8Used));
      this.utf8 = next;
    }
    const buf = this.utf8;
    const at = this.#utf8Used;
    let i = 0;
    for (; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    let length = n;
    if (i < n) length = i + encoder.encodeInto(key.slice(i), buf.subarray(at + i)).written;
    this.start[id] = at;
    this.byteLength[id] = length;
    this.#utf8Used = at + length;
  }

  #grow(): void {
    const n = this.shard.length * 2;
    const grow = <T extends Uint32Array | Uint8Array | Int32Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (n: number) => T)(size);
      next.set(old);
      return next;
    };
    this.start = grow(this.start, n);
    this.byteLength = grow(this.byteLength, n);
    this.hash = grow(this.hash, 4 * n);
    this.hashed = grow(this.hashed, n);
    this.shard = grow(this.shard, n);
    this.mapVersion = grow(this.mapVersion, n);
    this.tableOwner = grow(this.tableOwner, n);
    this.tableIndex = grow(this.tableIndex, n);
  }
}

const WORDS = { w0: 0, w1: 0, w2: 0, w3: 0 };
