/**
 * Congestion control: additive increase, multiplicative decrease, at most one
 * decrease per round trip. A stream-wide window bounds calls in flight; when
 * the shard an entry lands on is known (a shard map), a window per shard
 * bounds that shard's entries in flight and pauses the shard briefly after a
 * throttle, as KPL's per-shard limiter does, so one hot shard does not slow
 * the others.
 * @module
 */
import { partitionKeyHash } from "../format/keys.ts";
import type { ShardMap } from "../format/shard_map.ts";

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
  /** The window takes nothing before this time (clock ms): a pause after a throttle. */
  pausedUntil = 0;

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
  isOpen(now: number): boolean {
    return now >= this.pausedUntil && this.inFlight < Math.max(1, Math.floor(this.#size));
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

/** The stream-wide window and the per-shard windows. */
export class Congestion {
  /** Calls in flight, stream-wide. */
  readonly stream: CongestionWindow;
  readonly #shards = new Map<string, CongestionWindow>();
  readonly #shardMax: number;
  /** Predicts an entry's shard; replaceable when the shard map changes. */
  predictor: ShardPredictor | undefined;

  /** `concurrency` bounds calls in flight; `shardMax` bounds entries in flight per shard. */
  constructor(concurrency: number, shardMax: number, predictor?: ShardPredictor) {
    this.stream = new CongestionWindow(concurrency);
    this.#shardMax = shardMax;
    this.predictor = predictor;
  }

  /** The window of `shard`, created on first use. */
  shard(shard: string): CongestionWindow {
    let w = this.#shards.get(shard);
    if (!w) this.#shards.set(shard, w = new CongestionWindow(this.#shardMax));
    return w;
  }

  /** Whether an entry bound for `shard` (or an unknown shard) may go now. */
  admits(shard: string | undefined, now: number): boolean {
    return shard === undefined || this.shard(shard).isOpen(now);
  }

  /** The earliest time a paused shard opens again, or Infinity. */
  nextOpenAt(now: number): number {
    let at = Infinity;
    for (const w of this.#shards.values()) {
      if (w.pausedUntil > now) at = Math.min(at, w.pausedUntil);
    }
    return at;
  }

  /** Window sizes per shard, for stats. */
  shardWindows(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, w] of this.#shards) out[id] = Math.round(w.size * 100) / 100;
    return out;
  }

  /** Throttles per shard, for stats. */
  shardThrottles(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, w] of this.#shards) if (w.throttles > 0) out[id] = w.throttles;
    return out;
  }
}

/** Predicts shards from the stream's hash ranges: the shard id, or `#index` when ranges lack ids. */
export function shardPredictor(map: ShardMap): ShardPredictor {
  return (partitionKey, explicitHashKey) => {
    const hash = explicitHashKey !== undefined
      ? BigInt(explicitHashKey)
      : partitionKeyHash(partitionKey);
    const i = map.indexOf(hash);
    return i < 0 ? undefined : map.ranges[i].shardId ?? `#${i}`;
  };
}
