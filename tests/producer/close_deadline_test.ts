import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

const dec = new TextDecoder();

describe("close() liveness", () => {
  it("a later close({deadlineMs}) bounds a close() that was called without one", async () => {
    const clock = new FakeClock();
    const client = new ScriptedClient(() => "hang", () => clock.now());
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      client,
      clock,
      onFailure: (f) => failures.push(f),
    });
    await producer.put("a");
    let done = false;
    const first = producer.close().then(() => (done = true));
    const second = producer.close({ deadlineMs: 100 });
    await clock.advance(150);
    await settle();
    assert.equal(done, true, "close() finished once the later deadline passed");
    await Promise.all([first, second]);
    assert.deepEqual(failures.flatMap((f) => f.records.map((r) => dec.decode(r.data))), ["a"]);
    assert.equal(failures[0].reason, "closed");
  });
});
