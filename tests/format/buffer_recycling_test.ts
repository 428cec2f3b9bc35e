/**
 * Aggregator.release: a released aggregate's buffer is reused by a later
 * aggregate, and only then. Aggregates not released never change while the
 * aggregator goes on; reused output deaggregates and its MD5 is right; a
 * second release, a foreign value, another aggregator's aggregate, a
 * right-sized copy and keyed mode are ignored and never hand one buffer to
 * two aggregates.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Aggregator } from "../../src/format/aggregator.ts";
import type { AggregatedRecord } from "../../src/format/record.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { bytes, int, rng } from "../support/random.ts";

const enc = new TextEncoder();

/** Deaggregates (strict) back to the aggregate's records, and checks the digest independently. */
function assertIntact(agg: AggregatedRecord) {
  const d = agg.data;
  assert.equal(agg.size, d.length + enc.encode(agg.partitionKey).length);
  const digest = createHash("md5").update(d.subarray(4, d.length - 16)).digest();
  assert.deepEqual(new Uint8Array(digest), d.subarray(d.length - 16));
  const back = deaggregate(d, agg.partitionKey, { strict: true });
  assert.equal(back.length, agg.records.length);
  back.forEach((r, i) => assert.deepEqual(r.data, agg.records[i].data));
}

/** Adds records until an aggregate completes. */
function nextFull(aggregator: Aggregator, size = 200): AggregatedRecord {
  for (;;) {
    const done = aggregator.add({ data: new Uint8Array(size).fill(size & 0xff) });
    if (done) return done;
  }
}

describe("Aggregator.release", () => {
  it("a released buffer is written again by a later aggregate, whose output is intact", () => {
    const aggregator = new Aggregator({ targetBytes: 64 * 1024, partitionKey: "p" });
    const first = nextFull(aggregator);
    assertIntact(first);
    const buffer = first.data.buffer;
    assert.equal(aggregator.release(first), true);
    assert.equal(aggregator.spareBuffers, 1);
    // The aggregate open when `first` was cut already had its buffer; the one after it reuses.
    const second = nextFull(aggregator, 300);
    assert.notEqual(second.data.buffer, buffer);
    const third = nextFull(aggregator, 300);
    assert.equal(third.data.buffer, buffer);
    assert.equal(aggregator.spareBuffers, 0);
    assertIntact(second);
    assertIntact(third);
  });

  it("aggregates not released never change while thousands of records go in and others are released", () => {
    const r = rng(21);
    const aggregator = new Aggregator({ targetBytes: 8192 });
    const kept: { agg: AggregatedRecord; copy: Uint8Array }[] = [];
    let released = 0;
    let reused = 0;
    const seen = new Set<ArrayBufferLike>();
    const handle = (done: AggregatedRecord) => {
      assertIntact(done);
      if (seen.has(done.data.buffer)) reused++;
      seen.add(done.data.buffer);
      // Release about half; keep the rest with a copy of their bytes.
      if (int(r, 0, 1) === 0 && aggregator.release(done)) released++;
      else kept.push({ agg: done, copy: done.data.slice() });
    };
    for (let i = 0; i < 20_000; i++) {
      const done = aggregator.add({ data: bytes(r, int(r, 0, 600)) });
      if (done) handle(done);
    }
    for (const done of aggregator.flush()) handle(done);
    assert.ok(released > 100, `released ${released}`);
    assert.ok(reused > 100, `reused ${reused}`);
    assert.ok(kept.length > 100);
    for (const { agg, copy } of kept) {
      assert.deepEqual(agg.data, copy);
      assertIntact(agg);
    }
  });

  it("a second release is ignored: one buffer never goes to two aggregates", () => {
    const aggregator = new Aggregator({ targetBytes: 16 * 1024, partitionKey: "p" });
    const a = nextFull(aggregator);
    assert.equal(aggregator.release(a), true);
    assert.equal(aggregator.release(a), false);
    assert.equal(aggregator.release({ data: a.data }), false);
    assert.equal(aggregator.spareBuffers, 1);
    const live: AggregatedRecord[] = [];
    for (let i = 0; i < 6; i++) {
      const done = nextFull(aggregator, 100 + i);
      live.push(done);
      // Releasing `a` again on every turn must not put its buffer back while it is in use.
      assert.equal(aggregator.release(a), false);
    }
    const buffers = new Set(live.map((x) => x.data.buffer));
    assert.equal(buffers.size, live.length);
    for (const x of live) assertIntact(x);
  });

  it("ignores what it did not lend: other aggregators, copies, foreign values, keyed mode", () => {
    const one = new Aggregator({ targetBytes: 16 * 1024, partitionKey: "p" });
    const other = new Aggregator({ targetBytes: 16 * 1024, partitionKey: "p" });
    const a = nextFull(other);
    assert.equal(one.release(a), false);
    assert.equal(one.spareBuffers, 0);
    for (const value of [undefined, null, 7, "x", {}, { data: new Uint8Array(16 * 1024) }]) {
      assert.equal(one.release(value as unknown as AggregatedRecord), false);
    }
    // A small aggregate is a right-sized copy: releasing it gives nothing back.
    one.add({ data: new Uint8Array(10) });
    const [small] = one.flush();
    assert.equal(small.data.buffer.byteLength, small.data.length);
    assert.equal(one.release(small), false);
    // Keyed mode does not recycle.
    const keyed = new Aggregator({ keyed: true, targetBytes: 16 * 1024 });
    let k: AggregatedRecord | undefined;
    while (!k) k = keyed.add({ data: new Uint8Array(200), partitionKey: "k" });
    assert.equal(keyed.release(k), false);
    assertIntact(a);
  });

  it("keeps at most spareBuffers; 0 turns reuse off", () => {
    const aggregator = new Aggregator({ targetBytes: 16 * 1024, spareBuffers: 2 });
    const aggs = [nextFull(aggregator), nextFull(aggregator), nextFull(aggregator)];
    for (const a of aggs) assert.equal(aggregator.release(a), true);
    assert.equal(aggregator.spareBuffers, 2);
    const off = new Aggregator({ targetBytes: 16 * 1024, spareBuffers: 0 });
    const b = nextFull(off);
    assert.equal(off.release(b), false);
    assert.throws(() => new Aggregator({ spareBuffers: -1 }), RangeError);
    assert.throws(() => new Aggregator({ spareBuffers: 1.5 }), RangeError);
  });
});
