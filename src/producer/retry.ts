/**
 * Retry policy as data plus small pure functions: exponential backoff with full
 * jitter, a larger base for throttling, and a per-chunk deadline.
 * @module
 */

/** Retry settings for one chunk. */
export interface RetryPolicy {
  /** Most PutRecord attempts per chunk, the first included. */
  maxAttempts: number;
  /** Base backoff for transient faults (5xx, network, timeouts), in ms. */
  baseDelayMs: number;
  /** Base backoff for throttling, in ms: larger, since the shard needs time to drain. */
  throttleBaseDelayMs: number;
  /** Cap on any single backoff, in ms. */
  maxDelayMs: number;
  /** A chunk not delivered this many ms after it was cut is reported failed. */
  deadlineMs: number;
}

/** Why a failed attempt is not retried. */
export type GiveUpReason = "not-retryable" | "attempts-exhausted" | "deadline-exceeded" | "closed";

/**
 * Backoff before retry number `retry` (1 = the first retry): a uniform draw
 * from [0, min(cap, base·2^(retry−1))] ("full jitter"), which spreads
 * competing producers apart better than any fixed schedule.
 */
export function backoffMs(
  retry: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Decides what follows a failed attempt: a delay in ms, or a reason to give up.
 * `attempts` counts attempts made so far; `elapsedMs` is the chunk's age.
 * `backoffRetry` sets the backoff's exponent when it should not be the
 * chunk's own attempt count (the producer passes how long the stream has been
 * failing, so random faults do not push a chunk toward the cap); default `attempts`.
 */
export function nextRetry(
  policy: RetryPolicy,
  error: { retryable?: boolean; kind?: string } | null | undefined,
  attempts: number,
  elapsedMs: number,
  random: () => number,
  backoffRetry: number = attempts,
): { delayMs: number } | { giveUp: GiveUpReason } {
  // Anything may be thrown, undefined and null included: never retryable.
  if (error?.retryable !== true) return { giveUp: "not-retryable" };
  if (attempts >= policy.maxAttempts) return { giveUp: "attempts-exhausted" };
  const base = error.kind === "throttling" ? policy.throttleBaseDelayMs : policy.baseDelayMs;
  const delayMs = backoffMs(Math.max(1, backoffRetry), base, policy.maxDelayMs, random);
  if (elapsedMs + delayMs >= policy.deadlineMs) return { giveUp: "deadline-exceeded" };
  return { delayMs };
}
