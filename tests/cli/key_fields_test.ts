/**
 * Calculated keys: `--partition-key-field` / `--explicit-hash-key-field` read
 * each line's keys from JSON, put the run in keyed mode with the stream's
 * shard map, and count lines that lack the field.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lineKeys, parseFieldPath } from "../../src/cli/key_fields.ts";
import { partitionKeyHash } from "../../src/format/keys.ts";
import { startFakeStream } from "../support/fake_stream.ts";
import { runShip } from "./run_ship.ts";

const enc = new TextEncoder();

describe("key fields", () => {
  it("reads a dotted path, strings and numbers; anything else is missing with a random key", () => {
    const path = parseFieldPath("user.id");
    assert.deepEqual(lineKeys(enc.encode('{"user":{"id":"u-1"}}'), path, undefined), {
      partitionKey: "u-1",
      missing: false,
    });
    assert.equal(lineKeys(enc.encode('{"user":{"id":42}}'), path, undefined).partitionKey, "42");
    const safe = '{"user":{"id":9007199254740991}}';
    assert.equal(lineKeys(enc.encode(safe), path, undefined).partitionKey, "9007199254740991");
    // Beyond 2^53 JSON.parse has already rounded the number: not the key that was written.
    for (
      const line of [
        "not json",
        '{"user":{}}',
        '{"user":{"id":null}}',
        '{"user":[1]}',
        "[]",
        '{"user":{"id":12345678901234567890}}',
        '{"user":{"id":170141183460469231731687303715884105728}}',
      ]
    ) {
      const keys = lineKeys(enc.encode(line), path, undefined);
      assert.equal(keys.missing, true, line);
      assert.match(keys.partitionKey, /^[0-9a-f-]{36}$/);
    }
    const both = lineKeys(enc.encode('{"k":"a","h":"123"}'), ["k"], ["h"]);
    assert.deepEqual(both, { partitionKey: "a", explicitHashKey: "123", missing: false });
    assert.throws(() => parseFieldPath("a..b"), RangeError);
  });

  it("ship --partition-key-field: keyed by the field, packed per shard, missing fields counted", async () => {
    const fake = await startFakeStream({
      shards: 4,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret-key" },
    });
    try {
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) {
        lines.push(JSON.stringify({ user: { id: `user-${i % 500}` }, n: i, pad: "x".repeat(100) }));
      }
      lines.push("not json at all", '{"user":{}}');
      const r = await runShip(
        [
          "--endpoint",
          fake.url,
          "--stream-name",
          "fake",
          "--partition-key-field",
          "user.id",
          "--json",
        ],
        { stdin: lines.join("\n") + "\n" },
      );
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.recordsDelivered, 3002);
      assert.equal(summary.keyFieldMissing, 2);
      assert.equal(fake.calls.DescribeStreamSummary, 1);
      assert.ok(fake.calls.ListShards >= 1);
      // Per shard, not per key: a handful of aggregates, not 500.
      assert.ok(fake.stored.length <= 12, `${fake.stored.length} Kinesis records`);
      const { records, dropped } = fake.readBack();
      assert.equal(dropped, 0);
      assert.equal(records.length, 3002);
      for (const rec of records.slice(0, 50)) {
        const line = JSON.parse(new TextDecoder().decode(rec.data));
        assert.equal(rec.partitionKey, line.user.id);
        assert.ok(partitionKeyHash(rec.partitionKey) >= 0n);
      }
      assert.equal(fake.badSignatures, 0);
    } finally {
      await fake.stop();
    }
  });
});
