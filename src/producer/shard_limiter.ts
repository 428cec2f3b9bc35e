/**
 * A per-shard rate limiter with additive increase and multiplicative
 * decrease, like KPL's per-shard limiter: two token buckets (bytes and
 * records) filled at a fraction `rate` of the shard's write limits (1 MiB/s
 * and 1,000 records/s), each holding at most one second's worth. A throttle
 * from the shard halves `rate` (at most once per round trip) and empties the
 * buckets; each success adds 1/16 of the limits back. Entries bound for a
 * shard whose buckets are short wait in the queue and never reach the wire,
 * so one hot shard throttles alone while the others keep their full rate.
 * @module
 */
import { SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND } from "../aws/request_limits.ts";

/** The lowest rate a shard is held to, as a fraction of its limits. */
const MIN_RATE = 1 / 64;
/** Added to the rate per success. */
const INCREASE = 1 / 16;

/** One shard's limiter. */
export class ShardLimiter {
  #rate = 1;
  #bytes: number;
  #records: number;
  #refilledAt: number;
  #lastDecreaseAt = -Infinity;
  readonly #bytesPerSecond: number;
  readonly #recordsPerSecond: number;
  /** Throttles the shard answered. */
  throttles = 0;

  /** A limiter starting full at `now` (clock ms). */
  constructor(
    now: number,
    bytesPerSecond = SHARD_BYTES_PER_SECOND,
    recordsPerSecond = SHARD_RECORDS_PER_SECOND,
  ) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#recordsPerSecond = recordsPerSecond;
    this.#bytes = bytesPerSecond;
    this.#records = recordsPerSecond;
    this.#refilledAt = now;
  }

  /** The current rate as a fraction of the shard's limits (the "window"), 1/64..1. */
  get rate(): number {
    return this.#rate;
  }

  #refill(now: number): void {
    // Callers may hold a slightly older `now`: time never runs backwards here.
    if (now <= this.#refilledAt) return;
    const dt = (now - this.#refilledAt) / 1000;
    this.#refilledAt = now;
    const r = this.#rate;
    this.#bytes = Math.min(r * this.#bytesPerSecond, this.#bytes + dt * r * this.#bytesPerSecond);
    this.#records = Math.min(
      r * this.#recordsPerSecond,
      this.#records + dt * r * this.#recordsPerSecond,
    );
  }

  /**
   * Whether an entry of `bytes` may go now. One larger than a full bucket
   * goes once the bucket is full (it then runs the bucket into debt).
   */
  admits(bytes: number, now: number): boolean {
    this.#refill(now);
    const cap = this.#rate * this.#bytesPerSecond;
    return this.#records >= 1 && (this.#bytes >= bytes || this.#bytes >= cap);
  }

  /** Takes the tokens of an entry of `bytes` that is about to go. */
  take(bytes: number): void {
    this.#bytes -= bytes;
    this.#records -= 1;
  }

  /** When an entry of `bytes` could go (clock ms), assuming nothing else takes tokens. */
  readyAt(bytes: number, now: number): number {
    this.#refill(now);
    const r = this.#rate;
    const needBytes = Math.min(bytes, r * this.#bytesPerSecond) - this.#bytes;
    const needRecords = 1 - this.#records;
    const wait = Math.max(
      0,
      needBytes / (r * this.#bytesPerSecond),
      needRecords / (r * this.#recordsPerSecond),
    );
    return now + Math.ceil(wait * 1000);
  }

  /** An entry was stored: additive increase. */
  onSuccess(): void {
    this.#rate = Math.min(1, this.#rate + INCREASE);
  }

  /**
   * The shard throttled an entry sent at `sentAt`: halve the rate and empty
   * the buckets, unless a decrease happened after that entry left. Returns
   * whether it decreased.
   */
  onThrottle(sentAt: number, now: number): boolean {
    this.throttles++;
    if (sentAt <= this.#lastDecreaseAt) return false;
    this.#refill(now);
    this.#rate = Math.max(MIN_RATE, this.#rate / 2);
    this.#bytes = 0;
    this.#records = 0;
    this.#lastDecreaseAt = now;
    return true;
  }
}
