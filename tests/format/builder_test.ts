/**
 * Default mode's one-pass builder: aggregates handed out stay intact while the
 * aggregator goes on, a small aggregate never pins a target-sized buffer, the
 * buffer grows correctly past a small `maxRecords` estimate, and `check()`
 * refuses exactly what `add()` refuses.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Aggregator } from "../../src/format/aggregator.ts";
import type { AggregatedRecord } from "../../src/format/record.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import { RecordTooLargeError } from "../../src/format/errors.ts";
import { bytes, int, rng } from "../support/random.ts";

const enc = new TextEncoder();

function assertExact(agg: AggregatedRecord) {
  assert.equal(agg.size, agg.data.length + enc.encode(agg.partitionKey).length);
  const back = deaggregate(agg.data, agg.partitionKey, { strict: true });
  assert.equal(back.length, agg.records.length);
  back.forEach((r, i) => assert.deepEqual(r.data, agg.records[i].data));
}

describe("default mode: one-pass builder", () => {
  it("an aggregate's bytes stay as handed out while later records go in", () => {
    const r = rng(5);
    const aggregator = new Aggregator({ targetBytes: 4096, partitionKey: "p" });
    const out: { agg: AggregatedRecord; copy: Uint8Array }[] = [];
    for (let i = 0; i < 5000; i++) {
      const done = aggregator.add({ data: bytes(r, int(r, 0, 700)) });
      if (done) out.push({ agg: done, copy: done.data.slice() });
    }
    for (const done of aggregator.flush()) out.push({ agg: done, copy: done.data.slice() });
    assert.ok(out.length > 100);
    for (const { agg, copy } of out) {
      assert.deepEqual(agg.data, copy);
      assertExact(agg);
    }
  });

  it("a small aggregate gets a right-sized buffer; a full one wastes at most 1/16 of its own", () => {
    const aggregator = new Aggregator({ targetBytes: 1_000_000, partitionKey: "p" });
    aggregator.add({ data: new Uint8Array(10) });
    const [small] = aggregator.flush();
    assert.equal(small.data.buffer.byteLength, small.data.length);
    let full: AggregatedRecord | undefined;
    for (let i = 0; !full; i++) full = aggregator.add({ data: new Uint8Array(200) });
    assert.ok(full.data.buffer.byteLength - full.data.length <= full.data.buffer.byteLength / 16);
    assertExact(full);
  });

  it("grows its buffer when records outgrow the maxRecords estimate", () => {
    const r = rng(8);
    for (const maxRecords of [1, 2, 3, 7, 50]) {
      const aggregator = new Aggregator({ targetBytes: 100_000, partitionKey: "p", maxRecords });
      const aggs: AggregatedRecord[] = [];
      const input: Uint8Array[] = [];
      for (let i = 0; i < 400; i++) {
        // Small first records, then larger ones: the first sets the estimate.
        const data = bytes(r, i % maxRecords === 0 ? int(r, 0, 5) : int(r, 0, 5000));
        input.push(data);
        const done = aggregator.add({ data });
        if (done) aggs.push(done);
      }
      aggs.push(...aggregator.flush());
      for (const agg of aggs) {
        assert.ok(agg.records.length <= maxRecords);
        assertExact(agg);
      }
      assert.deepEqual(aggs.flatMap((a) => a.records.map((u) => u.data)), input);
    }
  });

  it("a lone record larger than the target ships alone, at its exact size", () => {
    const aggregator = new Aggregator({ targetBytes: 1000, partitionKey: "p" });
    assert.equal(aggregator.add({ data: new Uint8Array(10) }), undefined);
    const first = aggregator.add({ data: new Uint8Array(50_000) });
    assert.equal(first?.records.length, 1);
    const big = aggregator.add({ data: new Uint8Array(10) });
    assert.equal(big?.records.length, 1);
    assert.equal(big.data.buffer.byteLength, big.data.length);
    assertExact(first!);
    assertExact(big);
  });

  for (
    const [name, options] of [
      ["a fixed key", { partitionKey: "key-ü" }],
      ["random UUID keys", {}],
      ["placed aggregates", { placeAggregate: () => "340282366920938463463374607431768211455" }],
    ] as const
  ) {
    it(`check() refuses exactly what add() refuses (${name})`, () => {
      const maxRecordBytes = 5000;
      const seen = new Set<boolean>();
      for (let n = 4850; n < 5000; n++) {
        const aggregator = new Aggregator({ ...options, maxRecordBytes, targetBytes: 1024 });
        const record = { data: new Uint8Array(n) };
        let refused = false;
        try {
          aggregator.add(record);
        } catch (error) {
          assert.ok(error instanceof RecordTooLargeError);
          refused = true;
        }
        assert.equal(
          (() => {
            try {
              aggregator.check(record);
              return false;
            } catch (error) {
              assert.ok(error instanceof RecordTooLargeError);
              return true;
            }
          })(),
          refused,
          `data of ${n} bytes`,
        );
        seen.add(refused);
      }
      assert.equal(seen.size, 2, "the range crosses the limit");
    });
  }
});
