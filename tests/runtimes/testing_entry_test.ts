// The /testing entry point as a user's test would use it: start an embedded
// Kinesis, produce into it, read it back. Under Node this is the npm package's
// "@kpl/kinesis-producer/testing" export.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { deaggregateRecords, KinesisProducer } from "../../mod.ts";
import { KinesisClient, readStream } from "../../aws.ts";
import {
  createStream,
  EMULATOR_CREDENTIALS,
  emulatorClient,
  type KinesisMock,
  readRecords,
  startKinesisMock,
} from "../../testing.ts";
import { DUMMY_CREDENTIALS, runtime } from "./support.ts";

describe(`the /testing entry point under ${runtime}`, () => {
  // Starting kinesis-mock takes seconds on a loaded machine: past bun test's 5 s default.
  it("startKinesisMock: a stream to produce into and read back", { timeout: 60_000 }, async () => {
    const mock = await startKinesisMock({ streams: [{ name: "t", shards: 1 }] });
    try {
      const options = {
        endpoint: mock.endpoint,
        region: mock.region,
        credentials: DUMMY_CREDENTIALS,
      };
      const producer = new KinesisProducer({ streamName: "t", ...options });
      for (let i = 0; i < 50; i++) await producer.put(`record ${i}`);
      await producer.close();
      const raw = [];
      for await (const { record } of readStream(new KinesisClient(options), { streamName: "t" })) {
        raw.push(record);
      }
      const records = await deaggregateRecords(raw);
      assert.deepEqual(
        records.map((r) => new TextDecoder().decode(r.data)),
        Array.from({ length: 50 }, (_, i) => `record ${i}`),
      );
    } finally {
      await mock.stop();
    }
  });
});

describe(`the /testing helpers under ${runtime}: createStream, readRecords`, () => {
  let mock: KinesisMock;
  before(async () => {
    mock = await startKinesisMock({ streams: [{ name: "given", shards: 2 }] });
  });
  after(() => mock?.stop());

  it("creates a stream, and reads back what the producer shipped, record for record", async () => {
    const client = emulatorClient(mock);
    await createStream(client, "created", { shards: 3 });
    for (const stream of ["given", "created"]) {
      const producer = new KinesisProducer({
        streamName: stream,
        endpoint: mock.endpoint,
        region: mock.region,
        credentials: EMULATOR_CREDENTIALS,
      });
      const sent = Array.from({ length: 50 }, (_, i) => `${stream}-${i}`);
      for (const line of sent) await producer.put(line);
      await producer.close();
      const back = await readRecords(client, stream);
      assert.deepEqual(
        back.map((r) => new TextDecoder().decode(r.data)).sort(),
        [...sent].sort(),
      );
      assert.ok(back.every((r) => r.aggregated && r.shardId.startsWith("shardId-")));
    }
  });
});
