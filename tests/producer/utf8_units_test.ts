import assert from "node:assert/strict";
import { it } from "node:test";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { PUT_PAYLOAD_UNIT_BYTES } from "../../src/producer/stats.ts";
import { ScriptedClient } from "../support/scripted_client.ts";

it("putUnitsUnaggregated counts the partition key in UTF-8 bytes, not UTF-16 units", async () => {
  // 24,700 data bytes + "€" x 150: 150 UTF-16 units (24,850: one 25,000-byte unit) but
  // 450 UTF-8 bytes (25,150: two units).
  const producer = new KinesisProducer({
    streamName: "s",
    client: new ScriptedClient(() => "ok"),
    partitionKey: "€".repeat(150),
  });
  assert.equal(PUT_PAYLOAD_UNIT_BYTES, 25_000);
  await producer.put(new Uint8Array(24_700));
  await producer.close();
  assert.equal(producer.stats.putUnitsUnaggregated, 2);
});
