import { it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

it("onFailure that throws: its records count as lost, the error is surfaced, the producer goes on", async () => {
  // The first chunk fails (validation), the next ones are delivered.
  const client = new ScriptedClient((n) => (n === 0 ? "validation" : "ok"));
  const errors: { error: unknown; callback: string; records: number }[] = [];
  let failures = 0;
  const producer = new KinesisProducer({
    streamName: "s",
    client,
    onFailure: () => {
      failures++;
      throw new Error("disk on fire");
    },
    onCallbackError: (error, callback, records) => errors.push({ error, callback, records }),
  });
  await producer.put("a");
  await producer.put("b");
  await producer.flush();
  await producer.put("c");
  await producer.flush();
  assert.equal(failures, 1);
  assert.equal(producer.stats.recordsLost, 2);
  assert.equal(producer.stats.callbackErrors, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].callback, "onFailure");
  assert.equal(errors[0].records, 2);
  assert.equal((errors[0].error as Error).message, "disk on fire");
  assert.deepEqual(client.delivered.map((d) => new TextDecoder().decode(d)), ["c"]);
  assert.equal(producer.stats.recordsDelivered, 1);
  await producer.close();
});

it("onDelivered that throws: counted as a callback error, nothing lost, delivery goes on", async () => {
  const client = new ScriptedClient(() => "ok");
  const errors: string[] = [];
  const producer = new KinesisProducer({
    streamName: "s",
    client,
    onDelivered: () => {
      throw new Error("metrics down");
    },
    onCallbackError: (_e, callback) => errors.push(callback),
  });
  await producer.put("a");
  await producer.flush();
  await producer.put("b");
  await producer.close();
  assert.deepEqual(errors, ["onDelivered", "onDelivered"]);
  assert.equal(producer.stats.recordsDelivered, 2);
  assert.equal(producer.stats.recordsLost, 0);
  assert.equal(producer.stats.callbackErrors, 2);
});

it("without onCallbackError, one line goes to console.error: callback, count, message, no stack", async () => {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    const producer = new KinesisProducer({
      streamName: "s",
      client: new ScriptedClient(() => "validation"),
      onFailure: () => {
        throw new TypeError("oops");
      },
    });
    await producer.put("a");
    await producer.close();
  } finally {
    console.error = original;
  }
  assert.deepEqual(logged, [
    "[kinesis-kpl] onFailure threw; 1 records counted as lost: TypeError: oops",
  ]);
});
