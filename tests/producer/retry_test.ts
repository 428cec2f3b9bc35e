/** The retry policy's pure functions, with a fixed random source. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backoffMs, nextRetry, type RetryPolicy } from "../../src/producer/retry.ts";

const policy: RetryPolicy = {
  maxAttempts: 10,
  baseDelayMs: 100,
  throttleBaseDelayMs: 500,
  maxDelayMs: 20_000,
  deadlineMs: 120_000,
};
const almostOne = () => 0.999999;

describe("retry policy", () => {
  it("backoffMs: full jitter under base·2^(retry−1), capped", () => {
    assert.equal(backoffMs(1, 100, 20_000, almostOne), 99);
    assert.equal(backoffMs(4, 100, 20_000, almostOne), 799);
    assert.equal(backoffMs(30, 100, 20_000, almostOne), 19_999);
    assert.equal(backoffMs(3, 100, 20_000, () => 0), 0);
  });

  it("nextRetry: the backoff exponent can come from the stream's failure streak", () => {
    const throttle = { retryable: true, kind: "throttling" };
    assert.deepEqual(nextRetry(policy, throttle, 8, 0, almostOne), { delayMs: 19_999 });
    // Eight attempts, but the stream failed only once in a row: a short backoff.
    assert.deepEqual(nextRetry(policy, throttle, 8, 0, almostOne, 1), { delayMs: 499 });
    // A streak of 0 still waits one base.
    assert.deepEqual(nextRetry(policy, throttle, 8, 0, almostOne, 0), { delayMs: 499 });
    assert.deepEqual(nextRetry(policy, throttle, 10, 0, almostOne, 1), {
      giveUp: "attempts-exhausted",
    });
    assert.deepEqual(nextRetry(policy, { retryable: false }, 1, 0, almostOne), {
      giveUp: "not-retryable",
    });
    assert.deepEqual(nextRetry(policy, throttle, 1, 119_800, almostOne), {
      giveUp: "deadline-exceeded",
    });
  });
});
