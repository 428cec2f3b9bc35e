/**
 * The queue of entries waiting to go: fresh entries in the order they were
 * cut, and retries. A retry waits out its backoff here, not in an in-flight
 * slot, so slots are only for calls on the wire. Oldest first: a retry whose
 * backoff has passed goes before younger fresh entries, so it is not starved.
 * @module
 */
import type { Entry } from "./entry.ts";

/** What {@link SendQueue.take} may put into one call. */
export interface TakeLimits {
  /** Most entries. */
  maxEntries: number;
  /** Most bytes of data + partition keys. */
  maxBytes: number;
  /** Whether an entry may go now (its shard's window); skipped entries keep their place. */
  admits(entry: Entry): boolean;
  /** Only retries, no fresh entries (strict order while a retry waits). */
  retriesOnly?: boolean;
}

// How far past blocked entries one take may look, so a shard whose window is
// full cannot make every take scan the whole queue.
const SCAN_LIMIT = 2_048;

/** Fresh entries (FIFO), due retries (by age) and retries in backoff (by ready time). */
export class SendQueue {
  #fresh: Entry[] = [];
  #head = 0;
  /** Retries whose backoff has passed, oldest cut first. */
  readonly #due = new Heap((e) => e.cutAt);
  /** Retries in backoff, soonest ready first. */
  readonly #waiting = new Heap((e) => e.readyAt);

  /** Entries queued, waiting ones included. */
  get size(): number {
    return this.#fresh.length - this.#head + this.#due.length + this.#waiting.length;
  }

  /** Retries still waiting out their backoff. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Retries ready or waiting: strict order sends nothing fresh while there are any. */
  get retryCount(): number {
    return this.#waiting.length + this.#due.length;
  }

  /** When the next waiting retry becomes due, or Infinity. */
  get nextReadyAt(): number {
    return this.#waiting.peek()?.readyAt ?? Infinity;
  }

  /** Appends a fresh entry. */
  push(entry: Entry): void {
    this.#fresh.push(entry);
  }

  /** Queues a retry that may go at `entry.readyAt`. */
  retry(entry: Entry): void {
    this.#waiting.push(entry);
  }

  /** Moves retries whose backoff has passed to the due list. */
  promote(now: number): void {
    while ((this.#waiting.peek()?.readyAt ?? Infinity) <= now) this.#due.push(this.#waiting.pop()!);
  }

  /** Takes up to the limits, oldest first, skipping (not removing) entries not admitted. */
  take(limits: TakeLimits): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    let scanned = 0;
    const fits = (e: Entry) =>
      out.length === 0 || (out.length < limits.maxEntries && bytes + e.bytes <= limits.maxBytes);
    // Due retries are taken while they are older than the fresh head.
    const skippedDue: Entry[] = [];
    let f = this.#head;
    const skippedFresh: Entry[] = [];
    while (out.length < limits.maxEntries && scanned < SCAN_LIMIT) {
      const due = this.#due.peek();
      const fresh = !limits.retriesOnly && f < this.#fresh.length ? this.#fresh[f] : undefined;
      if (!due && !fresh) break;
      const fromDue = due !== undefined && (fresh === undefined || due.cutAt <= fresh.cutAt);
      const e = fromDue ? due! : fresh!;
      if (!fits(e)) break;
      scanned++;
      if (fromDue) this.#due.pop();
      else f++;
      if (!limits.admits(e)) {
        if (fromDue) skippedDue.push(e);
        else skippedFresh.push(e);
        continue;
      }
      out.push(e);
      bytes += e.bytes;
    }
    // Skipped entries keep their order and place.
    for (const e of skippedDue) this.#due.push(e);
    if (f > this.#head) {
      if (skippedFresh.length === 0) {
        // Drop the taken slots now: a sent chunk must not stay reachable (with its
        // 250 KB of data) until the next compaction, up to 1,024 chunks later.
        (this.#fresh as (Entry | undefined)[]).fill(undefined, this.#head, f);
        this.#head = f;
      } else this.#fresh.splice(this.#head, f - this.#head, ...skippedFresh);
      if (this.#head > 1024 && this.#head * 2 > this.#fresh.length) {
        this.#fresh = this.#fresh.slice(this.#head);
        this.#head = 0;
      }
    }
    return out;
  }

  /** Removes and returns every entry (close deadline). */
  drain(): Entry[] {
    const all = [...this.#due.clear(), ...this.#waiting.clear(), ...this.#fresh.slice(this.#head)];
    this.#fresh = [];
    this.#head = 0;
    return all;
  }
}

/** A binary min-heap of entries by `key`; ties keep no particular order. */
class Heap {
  readonly #items: Entry[] = [];
  readonly #key: (e: Entry) => number;

  constructor(key: (e: Entry) => number) {
    this.#key = key;
  }

  get length(): number {
    return this.#items.length;
  }

  peek(): Entry | undefined {
    return this.#items[0];
  }

  push(e: Entry): void {
    const items = this.#items;
    const key = this.#key;
    let i = items.length;
    items.push(e);
    const k = key(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (key(items[parent]) <= k) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = e;
  }

  pop(): Entry | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const key = this.#key;
    const k = key(last);
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const c = r < items.length && key(items[r]) < key(items[l]) ? r : l;
      if (key(items[c]) >= k) break;
      items[i] = items[c];
      i = c;
    }
    items[i] = last;
    return top;
  }

  /** Empties the heap, returning what it held. */
  clear(): Entry[] {
    return this.#items.splice(0);
  }
}
