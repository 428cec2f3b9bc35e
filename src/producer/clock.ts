/**
 * Time, injectable: the producer's linger and backoff run on a {@link Clock}
 * so tests can drive them with a fake one instead of sleeping.
 * @module
 */

/** Opaque timer handle. */
export type TimerHandle = unknown;

/** Monotonic time and timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer. */
  clearTimeout(handle: TimerHandle): void;
}

// setTimeout turns a delay past 2^31-1 ms (Infinity included) into about 1 ms;
// clamped, a long linger or backoff wakes after 24.8 days and re-checks instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The runtime's own clock. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, MAX_TIMER_MS)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`, or rejects when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
