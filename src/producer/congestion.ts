/**
 * Congestion control: additive increase, multiplicative decrease, at most one
 * decrease per round trip. A stream-wide window bounds calls in flight; when
 * the shard an entry lands on is known (a shard map), a {@link ShardLimiter}
 * per shard holds that shard to the rate it takes, so one hot shard does not
 * slow the others.
 * @module
 */
import { partitionKeyHash } from "../format/keys.ts";
import type { ShardMap } from "../format/shard_map.ts";
import { ShardLimiter } from "./shard_limiter.ts";

/**
 * One AIMD window. `size` grows by 1/size per success (about +1 per window of
 * successes) and halves on a throttle, but only for a call sent after the
 * last decrease: eight throttles from one round of eight calls halve it once.
 */
export class CongestionWindow {
  readonly #max: number;
  #size: number;
  #lastDecreaseAt = -Infinity;
  /** Calls (stream-wide) or entries (per shard) in flight now. */
  inFlight = 0;
  /** Throttles seen. */
  throttles = 0;

  /** A window of at most `max`, starting full. */
  constructor(max: number) {
    this.#max = max;
    this.#size = max;
  }

  /** The current window, 1..max (fractional while growing). */
  get size(): number {
    return this.#size;
  }

  /** Whether one more may go now. */
  isOpen(): boolean {
    return this.inFlight < Math.max(1, Math.floor(this.#size));
  }

  /** A success: grow by 1/size, up to max. */
  onSuccess(): void {
    this.#size = Math.min(this.#max, this.#size + 1 / this.#size);
  }

  /**
   * A throttle answering a call sent at `sentAt`: halve, unless a decrease
   * already happened after that call left. Returns whether it decreased.
   */
  onThrottle(sentAt: number, now: number): boolean {
    this.throttles++;
    if (sentAt <= this.#lastDecreaseAt) return false;
    this.#size = Math.max(1, this.#size / 2);
    this.#lastDecreaseAt = now;
    return true;
  }
}

/**
 * Where each entry's shard comes from: `undefined` means unknown (no shard map),
 * and the stream-wide window alone applies. Stream awareness can install a
 * live shard map through {@link Congestion.predictor}.
 */
export type ShardPredictor = (partitionKey: string, explicitHashKey: string | undefined) =>
  | string
  | undefined;

/** The stream-wide window and the per-shard limiters. */
export class Congestion {
  /** Calls in flight, stream-wide. */
  readonly stream: CongestionWindow;
  readonly #shards = new Map<string, ShardLimiter>();
  /** Predicts an entry's shard; replaceable when the shard map changes. */
  predictor: ShardPredictor | undefined;

  /** `concurrency` bounds calls in flight. */
  constructor(concurrency: number, predictor?: ShardPredictor) {
    this.stream = new CongestionWindow(concurrency);
    this.predictor = predictor;
  }

  /** The limiter of `shard`, created full at `now` on first use. */
  shard(shard: string, now: number): ShardLimiter {
    let w = this.#shards.get(shard);
    if (!w) this.#shards.set(shard, w = new ShardLimiter(now));
    return w;
  }

  /** Rates per shard (fractions of the shard limits), for stats. */
  shardWindows(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, w] of this.#shards) out[id] = Math.round(w.rate * 1000) / 1000;
    return out;
  }

  /** Throttles per shard, for stats. */
  shardThrottles(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, w] of this.#shards) if (w.throttles > 0) out[id] = w.throttles;
    return out;
  }
}

/**
 * Predicts shards from the stream's shard map: the shard id, or `#index` when
 * ranges lack ids. Partition keys repeat, and MD5 plus lookup per record cost
 * more than a map hit (unaggregated mode predicts per user record), so recent
 * keys are remembered (up to 16,384).
 */
export function shardPredictor(map: ShardMap): ShardPredictor {
  const byKey = new Map<string, string | undefined>();
  const shardOf = (hash: bigint) => {
    const i = map.indexOf(hash);
    return i < 0 ? undefined : map.ranges[i].shardId ?? `#${i}`;
  };
  return (partitionKey, explicitHashKey) => {
    if (explicitHashKey !== undefined) return shardOf(BigInt(explicitHashKey));
    if (byKey.has(partitionKey)) return byKey.get(partitionKey);
    const shard = shardOf(partitionKeyHash(partitionKey));
    if (byKey.size >= 16_384) byKey.clear();
    byKey.set(partitionKey, shard);
    return shard;
  };
}
