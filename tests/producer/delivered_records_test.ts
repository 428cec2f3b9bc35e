import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { Delivery } from "../../src/producer/options.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { ScriptedClient } from "../support/scripted_client.ts";
import { rng } from "../support/random.ts";

describe("KinesisProducer: onDelivered names its records", () => {
  it("hands back the very arrays that were put, each once, through throttled retries", async () => {
    const clock = new FakeClock();
    const client = new ScriptedClient((n) => (n % 3 === 0 ? "throttle" : "ok"), () => clock.now());
    const deliveries: Delivery[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      clock,
      random: rng(7),
      targetBytes: 1024,
      onDelivered: (d) => deliveries.push(d),
    });
    const put: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const data = new TextEncoder().encode(`record-${i}-${"x".repeat(i % 50)}`);
      put.push(data);
      await producer.put(data);
    }
    const done = producer.flush();
    while (deliveries.reduce((n, d) => n + d.records, 0) < put.length) {
      await settle();
      clock.advance(1000);
    }
    await done;
    const seen = new Set<Uint8Array>();
    for (const d of deliveries) {
      assert.equal(d.userRecords.length, d.records);
      for (const r of d.userRecords) {
        assert.ok(!seen.has(r.data), "a record is reported delivered once");
        seen.add(r.data);
      }
    }
    for (const data of put) assert.ok(seen.has(data), "every put array comes back by identity");
    await producer.close();
  });
});
