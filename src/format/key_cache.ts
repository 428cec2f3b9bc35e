/**
 * Keyed mode's per-key facts, computed once per key for the working set: the
 * key's UTF-8 bytes, its 128-bit hash as four 32-bit words, and its shard under
 * the current map. A key seen again costs one `Map` lookup: no validation, no
 * encoding, no MD5.
 *
 * Facts live in typed arrays indexed by a small key id, not in one object per
 * key: with 100,000 keys and 1,000 open aggregates the working set no longer
 * fits the CPU caches, and every object touched per record was a cache miss
 * (scripts/bench/keyed.ts).
 * @module
 */
import { validateExplicitHashKey, validatePartitionKey } from "./keys.ts";
import { md5Words } from "./key_hash.ts";
import { bigintToWords } from "./shard_map.ts";

const encoder = new TextEncoder();
const INITIAL = 1024;

/**
 * Key → id, with per-id facts. Bounded: when `capacity` keys are held, the
 * next new key clears it (ids restart). Aggregates keep their own references
 * to key bytes, so a clear only costs them a repeated table entry.
 */
export class KeyCache {
  readonly #explicit: boolean;
  readonly #capacity: number;
  #ids = new Map<string, number>();
  /** Key texts by id. */
  keys: string[] = [];
  /** UTF-8 bytes by id. */
  bytes: Uint8Array[] = [];
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
  /** Group name for keyed mode without a map, once computed. */
  group: (string | undefined)[] = [];

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
    this.bytes.push(encoder.encode(key));
    this.group.push(undefined);
    if (this.#explicit) {
      this.hash.set(bigintToWords(BigInt(key)), id * 4);
      this.hashed[id] = 1;
    }
    return id;
  }

  /** Fills the hash words of `id` from the MD5 of its UTF-8 bytes, once. */
  hashOf(id: number): void {
    if (this.hashed[id] === 1) return;
    md5Words(this.bytes[id], WORDS);
    const h = this.hash;
    const at = id * 4;
    h[at] = WORDS.w0;
    h[at + 1] = WORDS.w1;
    h[at + 2] = WORDS.w2;
    h[at + 3] = WORDS.w3;
    this.hashed[id] = 1;
  }

  /** Drops every key. */
  clear(): void {
    this.#ids = new Map();
    this.keys = [];
    this.bytes = [];
    this.group = [];
    this.hash = new Uint32Array(4 * INITIAL);
    this.hashed = new Uint8Array(INITIAL);
    this.shard = new Int32Array(INITIAL);
    this.mapVersion = new Int32Array(INITIAL);
    this.tableOwner = new Int32Array(INITIAL);
    this.tableIndex = new Int32Array(INITIAL);
  }

  #grow(): void {
    const n = this.shard.length * 2;
    const grow = <T extends Uint32Array | Uint8Array | Int32Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (n: number) => T)(size);
      next.set(old);
      return next;
    };
    this.hash = grow(this.hash, 4 * n);
    this.hashed = grow(this.hashed, n);
    this.shard = grow(this.shard, n);
    this.mapVersion = grow(this.mapVersion, n);
    this.tableOwner = grow(this.tableOwner, n);
    this.tableIndex = grow(this.tableIndex, n);
  }
}

const WORDS = { w0: 0, w1: 0, w2: 0, w3: 0 };
