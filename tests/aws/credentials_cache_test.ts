import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cachedProvider, EXPIRY_MARGIN_MS } from "../../src/aws/credentials/cache.ts";
import type { AwsCredentials } from "../../src/aws/types.ts";

const MIN = 60_000;

/** A loader under test control: each call waits for `settle`. */
function controlledLoader(clock: { t: number }, lifetimeMs = 60 * MIN) {
  const calls: { resolve: (c?: AwsCredentials) => void; reject: (e: unknown) => void }[] = [];
  let n = 0;
  const load = () =>
    new Promise<AwsCredentials>((resolve, reject) => {
      const id = ++n;
      calls.push({
        resolve: (c) =>
          resolve(
            c ??
              {
                accessKeyId: `AKID${id}`,
                secretAccessKey: "s",
                expiration: new Date(clock.t + lifetimeMs),
              },
          ),
        reject,
      });
    });
  return { load, calls };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("cachedProvider", () => {
  it("shares one in-flight load among concurrent callers (single flight)", async () => {
    const clock = { t: 1_000_000 };
    const { load, calls } = controlledLoader(clock);
    const provider = cachedProvider(load, { now: () => clock.t });
    const waiting = Array.from({ length: 20 }, () => provider());
    await tick();
    assert.equal(calls.length, 1);
    calls[0].resolve();
    const results = await Promise.all(waiting);
    assert.ok(results.every((c) => c === results[0]));
    assert.equal((await provider()).accessKeyId, "AKID1");
    assert.equal(calls.length, 1);
  });

  it("keeps credentials until the refresh-ahead window, refreshes in the background, then blocks once expired", async () => {
    const clock = { t: 0 };
    const { load, calls } = controlledLoader(clock);
    const provider = cachedProvider(load, { now: () => clock.t, refreshAheadMs: 5 * MIN });
    const first = provider();
    calls[0].resolve();
    assert.equal((await first).accessKeyId, "AKID1");

    clock.t = 54 * MIN; // before the window
    assert.equal((await provider()).accessKeyId, "AKID1");
    assert.equal(calls.length, 1);

    clock.t = 56 * MIN; // inside: served from cache, refresh started
    assert.equal((await provider()).accessKeyId, "AKID1");
    assert.equal(calls.length, 2);
    assert.equal((await provider()).accessKeyId, "AKID1"); // no second background refresh
    assert.equal(calls.length, 2);
    calls[1].resolve();
    await tick();
    assert.equal((await provider()).accessKeyId, "AKID2");

    clock.t = 56 * MIN + 60 * MIN - EXPIRY_MARGIN_MS; // AKID2 is now too close to expiry: callers wait
    const waiting = provider();
    await tick();
    assert.equal(calls.length, 3);
    calls[2].resolve();
    assert.equal((await waiting).accessKeyId, "AKID3");
  });

  it("rejects all waiters when the refresh fails, and the next call tries again", async () => {
    const clock = { t: 0 };
    const { load, calls } = controlledLoader(clock);
    const provider = cachedProvider(load, { now: () => clock.t });
    const waiters = [provider(), provider(), provider()];
    await tick();
    const boom = new Error("sts down");
    calls[0].reject(boom);
    for (const w of waiters) await assert.rejects(w, (e) => e === boom);
    const again = provider();
    await tick();
    assert.equal(calls.length, 2);
    calls[1].resolve();
    assert.equal((await again).accessKeyId, "AKID2");
  });

  it("keeps serving still-valid credentials when a refresh ahead of expiry fails, and waits before retrying it", async () => {
    const clock = { t: 0 };
    const { load, calls } = controlledLoader(clock);
    const provider = cachedProvider(load, {
      now: () => clock.t,
      refreshAheadMs: 5 * MIN,
      retryAheadAfterMs: 10_000,
    });
    const first = provider();
    calls[0].resolve();
    await first;
    clock.t = 57 * MIN;
    assert.equal((await provider()).accessKeyId, "AKID1");
    calls[1].reject(new Error("throttled")); // nobody waits on it: no unhandled rejection either
    await tick();
    assert.equal((await provider()).accessKeyId, "AKID1");
    assert.equal(calls.length, 2, "no new attempt within retryAheadAfterMs");
    clock.t += 10_000;
    assert.equal((await provider()).accessKeyId, "AKID1");
    assert.equal(calls.length, 3);
    calls[2].resolve();
    await tick();
    assert.equal((await provider()).accessKeyId, "AKID3");
  });

  it("forceRefresh bypasses the cache and joins a refresh in flight", async () => {
    const clock = { t: 0 };
    const { load, calls } = controlledLoader(clock);
    const provider = cachedProvider(load, { now: () => clock.t });
    const first = provider();
    calls[0].resolve();
    await first;
    const forced = [provider({ forceRefresh: true }), provider({ forceRefresh: true })];
    await tick();
    assert.equal(calls.length, 2);
    assert.equal(
      (await provider()).accessKeyId,
      "AKID1",
      "others keep the cached credentials meanwhile",
    );
    calls[1].resolve();
    assert.deepEqual((await Promise.all(forced)).map((c) => c.accessKeyId), ["AKID2", "AKID2"]);
    assert.equal((await provider()).accessKeyId, "AKID2");
  });

  it("caches credentials without expiration for good, and loader exceptions reject", async () => {
    let loads = 0;
    const provider = cachedProvider(() => {
      loads++;
      return Promise.resolve({ accessKeyId: "AKID", secretAccessKey: "s" });
    });
    await provider();
    await provider();
    assert.equal(loads, 1);
    const throwing = cachedProvider(() => {
      throw new Error("sync throw");
    });
    await assert.rejects(throwing(), /sync throw/);
    assert.throws(() => cachedProvider(() => Promise.reject(), { refreshAheadMs: -1 }), RangeError);
  });
});
