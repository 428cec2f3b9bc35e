import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregate } from "../../src/format/aggregator.ts";
import { DEFAULT_TARGET_BYTES } from "../../src/format/limits.ts";
import { PUT_PAYLOAD_UNIT_BYTES, putPayloadUnits } from "../../src/producer/stats.ts";
import { bytes, rng } from "../support/random.ts";

describe("default aggregates fill whole PUT payload units", () => {
  it("bills in 25,000-byte units: 5 KB is 1, 45 KB is 2, 1 MB is 40 (AWS's examples)", () => {
    assert.equal(PUT_PAYLOAD_UNIT_BYTES, 25_000);
    assert.equal(putPayloadUnits(5_000), 1);
    assert.equal(putPayloadUnits(45_000), 2);
    assert.equal(putPayloadUnits(1_000_000), 40);
    assert.equal(putPayloadUnits(25_001), 2);
  });

  it("targets a whole number of units, partition key included", () => {
    assert.equal(DEFAULT_TARGET_BYTES % PUT_PAYLOAD_UNIT_BYTES, 0);
  });

  it("packs 200 B records into 10-unit aggregates within 0.5% of the bytes' floor", () => {
    const rand = rng(16);
    const records = Array.from({ length: 20_000 }, () => ({ data: bytes(rand, 200) }));
    const out = aggregate(records);
    let units = 0;
    let total = 0;
    for (const [i, a] of out.entries()) {
      // size counts data + outer partition key, as Kinesis does.
      assert.ok(a.size <= DEFAULT_TARGET_BYTES, `aggregate ${i}: ${a.size} bytes`);
      if (i < out.length - 1) {
        assert.equal(putPayloadUnits(a.size), 10);
        assert.ok(a.size > DEFAULT_TARGET_BYTES - 250, `aggregate ${i} is full: ${a.size}`);
      }
      units += putPayloadUnits(a.size);
      total += a.size;
    }
    const floor = Math.ceil(total / PUT_PAYLOAD_UNIT_BYTES);
    assert.ok(units <= floor * 1.005, `${units} units against a floor of ${floor}`);
  });
});
