import { it } from "node:test";
import assert from "node:assert/strict";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { systemClock } from "../../src/producer/clock.ts";

const CREDS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

// setTimeout turns a delay past 2^31-1 ms (Infinity included) into ~1 ms.
for (const timeoutMs of [Infinity, 2 ** 32]) {
  it(`KinesisClient with timeoutMs ${timeoutMs} does not time out at once`, async () => {
    const client = new KinesisClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      credentials: CREDS,
      timeoutMs,
      fetch: async (_input, init) => {
        await new Promise((r) => setTimeout(r, 40));
        if (init?.signal?.aborted) throw new DOMException("aborted", "AbortError");
        return new Response(JSON.stringify({ ShardId: "shardId-0", SequenceNumber: "1" }), {
          headers: { "content-type": "application/x-amz-json-1.1" },
        });
      },
    });
    const out = await client.putRecord({
      streamName: "s",
      partitionKey: "k",
      data: new Uint8Array(1),
    });
    assert.equal(out.sequenceNumber, "1");
  });
}

it("systemClock does not fire a timer set past 2^31-1 ms (Infinity included) at once", async () => {
  let fired = 0;
  const handles = [Infinity, 2 ** 32].map((ms) => systemClock.setTimeout(() => fired++, ms));
  await new Promise((r) => setTimeout(r, 40));
  for (const h of handles) systemClock.clearTimeout(h);
  assert.equal(fired, 0);
});
