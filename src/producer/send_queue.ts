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
  readonly #due: Entry[] = [];
  /** Retries in backoff, soonest ready first. */
  readonly #waiting: Entry[] = [];

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
    return this.#waiting.length > 0 ? this.#waiting[0].readyAt : Infinity;
  }

  /** Appends a fresh entry. */
  push(entry: Entry): void {
    this.#fresh.push(entry);
  }

  /** Queues a retry that may go at `entry.readyAt`. */
  retry(entry: Entry): void {
    insertSorted(this.#waiting, entry, (e) => e.readyAt);
  }

  /** Moves retries whose backoff has passed to the due list. */
  promote(now: number): void {
    let n = 0;
    while (n < this.#waiting.length && this.#waiting[n].readyAt <= now) n++;
    if (n === 0) return;
    for (const e of this.#waiting.splice(0, n)) insertSorted(this.#due, e, (x) => x.cutAt);
  }

  /** Takes up to the limits, oldest first, skipping (not removing) entries not admitted. */
  take(limits: TakeLimits): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    let scanned = 0;
    const fits = (e: Entry) =>
      out.length === 0 || (out.length < limits.maxEntries && bytes + e.bytes <= limits.maxBytes);
    // Due retries are taken while they are older than the fresh head.
    let d = 0;
    const skippedDue: number[] = [];
    let f = this.#head;
    const skippedFresh: Entry[] = [];
    while (out.length < limits.maxEntries && scanned < SCAN_LIMIT) {
      const due = d < this.#due.length ? this.#due[d] : undefined;
      const fresh = !limits.retriesOnly && f < this.#fresh.length ? this.#fresh[f] : undefined;
      if (!due && !fresh) break;
      const fromDue = due !== undefined && (fresh === undefined || due.cutAt <= fresh.cutAt);
      const e = fromDue ? due! : fresh!;
      if (!fits(e)) break;
      scanned++;
      if (fromDue) d++;
      else f++;
      if (!limits.admits(e)) {
        if (fromDue) skippedDue.push(d - 1);
        else skippedFresh.push(e);
        continue;
      }
      out.push(e);
      bytes += e.bytes;
    }
    // Remove what was taken; skipped entries keep their order and place.
    if (d > 0) {
      const kept = skippedDue.map((i) => this.#due[i]);
      this.#due.splice(0, d, ...kept);
    }
    if (f > this.#head) {
      if (skippedFresh.length === 0) this.#head = f;
      else this.#fresh.splice(this.#head, f - this.#head, ...skippedFresh);
      if (this.#head > 1024 && this.#head * 2 > this.#fresh.length) {
        this.#fresh = this.#fresh.slice(this.#head);
        this.#head = 0;
      }
    }
    return out;
  }

  /** Removes and returns every entry (close deadline). */
  drain(): Entry[] {
    const all = [...this.#due, ...this.#waiting, ...this.#fresh.slice(this.#head)];
    this.#due.length = 0;
    this.#waiting.length = 0;
    this.#fresh = [];
    this.#head = 0;
    return all;
  }
}

function insertSorted(list: Entry[], entry: Entry, key: (e: Entry) => number): void {
  const k = key(entry);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]) <= k) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
}
