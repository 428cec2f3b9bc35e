/**
 * A fixed-bucket latency histogram: one array increment per observation, no
 * allocation, so the producer can keep it on always.
 * @module
 */

/**
 * Upper bounds of the buckets, in ms; a last, open bucket catches the rest.
 * Roughly 1-2-5 steps from 1 ms to 2 minutes (the default chunk deadline).
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  30_000,
  60_000,
  120_000,
];

/** A snapshot of a latency histogram, in ms. */
export interface LatencyHistogram {
  /** Upper bounds of the buckets (inclusive); `counts` has one more entry, for larger values. */
  boundsMs: readonly number[];
  /** Observations per bucket: `counts[i]` counts values ≤ `boundsMs[i]` and > `boundsMs[i - 1]`. */
  counts: number[];
  /** Number of observations. */
  count: number;
  /** Sum of the observations, in ms. */
  sumMs: number;
  /** Smallest observation (`Infinity` when none). */
  minMs: number;
  /** Largest observation (`0` when none). */
  maxMs: number;
}

/** An empty histogram over {@link LATENCY_BUCKETS_MS}. */
export function emptyHistogram(): LatencyHistogram {
  return {
    boundsMs: LATENCY_BUCKETS_MS,
    counts: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    count: 0,
    sumMs: 0,
    minMs: Infinity,
    maxMs: 0,
  };
}

/** Adds `n` observations of `ms` to `h`. */
export function observe(h: LatencyHistogram, ms: number, n = 1): void {
  if (!(ms >= 0)) ms = 0; // a clock that stepped back
  const bounds = h.boundsMs;
  let i = 0;
  while (i < bounds.length && ms > bounds[i]) i++;
  h.counts[i] += n;
  h.count += n;
  h.sumMs += ms * n;
  if (ms < h.minMs) h.minMs = ms;
  if (ms > h.maxMs) h.maxMs = ms;
}

/** A copy of `h` that later observations do not change. */
export function copyHistogram(h: LatencyHistogram): LatencyHistogram {
  return { ...h, counts: h.counts.slice() };
}

/**
 * The value below which `q` (0–1) of the observations fall, as the upper
 * bound of the bucket holding it (capped at `maxMs`); 0 when empty.
 */
export function quantile(h: LatencyHistogram, q: number): number {
  if (h.count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * h.count));
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i];
    if (seen >= rank) return Math.min(h.boundsMs[i] ?? h.maxMs, h.maxMs);
  }
  return h.maxMs;
}

/**
 * Adds `n` observations spread evenly over `[lo, hi]` ms: records put at an
 * even pace between an aggregate's opening and its cut. O(buckets), not O(n).
 */
export function observeSpread(h: LatencyHistogram, lo: number, hi: number, n: number): void {
  if (n <= 0) return;
  if (!(lo >= 0)) lo = 0;
  if (!(hi >= lo)) hi = lo;
  if (n === 1 || hi === lo) return observe(h, n === 1 ? hi : lo, n);
  const bounds = h.boundsMs;
  const width = hi - lo;
  let assigned = 0;
  for (let i = 0; i <= bounds.length && assigned < n; i++) {
    const top = i < bounds.length ? bounds[i] : Infinity;
    // Observations ≤ top, rounded so the buckets add up to n exactly.
    const upTo = top >= hi ? n : top < lo ? 0 : Math.round(((top - lo) / width) * n);
    if (upTo > assigned) {
      h.counts[i] += upTo - assigned;
      assigned = upTo;
    }
  }
  h.count += n;
  h.sumMs += ((lo + hi) / 2) * n;
  if (lo < h.minMs) h.minMs = lo;
  if (hi > h.maxMs) h.maxMs = hi;
}
