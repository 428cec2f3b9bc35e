import { it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { FakeClock } from "../support/fake_clock.ts";

it("a transport rejecting with undefined or null still gets its records reported", async () => {
  for (const reason of [undefined, null]) {
    const clock = new FakeClock();
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client: { putRecord: () => Promise.reject(reason) },
      clock,
      onFailure: (f) => failures.push(f),
    });
    await producer.put("a");
    const flushed = producer.flush();
    await clock.advance(10);
    await flushed;
    assert.equal(failures.length, 1);
    assert.equal(failures[0].records.length, 1);
    assert.equal(failures[0].reason, "not-retryable");
    assert.equal(producer.stats.recordsFailed, 1);
    await producer.close();
  }
});
