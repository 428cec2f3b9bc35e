/**
 * Default mode with `placeAggregate`: the chosen explicit hash key is the
 * aggregate's and every inner record's, sizes stay exact, and a record that
 * fits alone is never refused for the table entry it adds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate, Aggregator } from "../../src/format/aggregator.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { RecordTooLargeError } from "../../src/format/errors.ts";
import { bytes, int, rng } from "../support/random.ts";

describe("aggregate: placeAggregate (default mode)", () => {
  it("every inner record carries the outer explicit hash key; sizes exact; round trip", () => {
    const keys = [
      "0",
      "85070591730234615865843651857942052864",
      "340282366920938463463374607431768211455",
    ];
    let n = 0;
    const r = rng(11);
    const records = Array.from({ length: 2000 }, () => ({ data: bytes(r, int(r, 0, 300)) }));
    const out = aggregate(records, { targetBytes: 5_000, placeAggregate: () => keys[n++ % 3] });
    assert.ok(out.length > 10);
    let i = 0;
    for (const [k, agg] of out.entries()) {
      assert.equal(agg.explicitHashKey, keys[k % 3]);
      assert.equal(agg.size, agg.data.length + new TextEncoder().encode(agg.partitionKey).length);
      for (const u of deaggregate(agg.data, agg.partitionKey)) {
        assert.equal(u.explicitHashKey, agg.explicitHashKey);
        assert.equal(u.partitionKey, agg.partitionKey);
        assert.deepEqual(u.data, records[i++].data);
      }
    }
    assert.equal(i, records.length);
  });

  it("undefined from placeAggregate keeps the random key and no hash key", () => {
    const [agg] = aggregate([{ data: new Uint8Array(3) }], { placeAggregate: () => undefined });
    assert.equal(agg.explicitHashKey, undefined);
    assert.equal(deaggregate(agg.data, agg.partitionKey)[0].explicitHashKey, undefined);
  });

  it("check() and add() agree near the limit, and check() spends no placement", () => {
    let calls = 0;
    const a = new Aggregator({
      maxRecordBytes: 1024,
      placeAggregate: () => (calls++, "340282366920938463463374607431768211455"),
    });
    for (let len = 900; len < 1024; len++) {
      const rec = { data: new Uint8Array(len) };
      let checked = true;
      const beforeCheck = calls;
      try {
        a.check(rec);
      } catch (e) {
        assert.ok(e instanceof RecordTooLargeError);
        checked = false;
      }
      assert.equal(calls, beforeCheck, "check() spends no placement");
      let added = true;
      try {
        a.add(rec);
      } catch (e) {
        assert.ok(e instanceof RecordTooLargeError);
        added = false;
      }
      assert.equal(checked, added, `length ${len}`);
    }
    for (const agg of a.flush()) assert.ok(agg.size <= 1024);
  });

  it("refuses placeAggregate in keyed mode", () => {
    assert.throws(() => new Aggregator({ keyed: true, placeAggregate: () => "0" }), TypeError);
  });
});
