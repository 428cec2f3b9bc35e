/**
 * No runtime warnings at default settings. Node printed
 * `MaxListenersExceededWarning` when every call in flight added listeners to
 * the producer's one close signal (8 calls × 2 listeners > Node's limit of 10).
 * Any warning the runtime emits while a busy producer runs fails this test.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { json, startFake } from "../aws/fake_kinesis.ts";

describe("runtime warnings", () => {
  it("a producer with 16 calls in flight, retries and a close deadline emits none", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    // Every call waits, so they pile up in flight; every third one is throttled first.
    const fake = await startFake(async (req, i) => {
      await new Promise((r) => setTimeout(r, 30));
      if (i % 3 === 0) return json(400, { __type: "ProvisionedThroughputExceededException" });
      if (req.action === "PutRecords") {
        const n = (req.params.Records as unknown[]).length;
        return json(200, {
          FailedRecordCount: 0,
          Records: Array.from({ length: n }, (_, k) => ({
            ShardId: "shardId-000000000000",
            SequenceNumber: String(i * 1000 + k),
          })),
        });
      }
      return json(200, { ShardId: "shardId-000000000000", SequenceNumber: String(i) });
    });
    try {
      const producer = new KinesisProducer({
        streamName: "s",
        region: "us-east-1",
        endpoint: fake.url,
        credentials: { accessKeyId: "AKID", secretAccessKey: "secret-secret" },
        concurrency: 16,
        // On, not auto: no stream check first, so calls start at once and pile up.
        aggregation: "on",
        targetBytes: 2048,
        lingerMs: 0,
        baseDelayMs: 1,
        throttleBaseDelayMs: 1,
        onFailure: () => {},
      });
      const payload = "x".repeat(500);
      for (let i = 0; i < 400; i++) await producer.put(payload);
      await producer.flush();
      await producer.close({ deadlineMs: 5_000 });
      assert.ok(producer.stats.recordsDelivered > 0);
      assert.ok(producer.stats.calls > 16, `${producer.stats.calls} calls`);
      // Warnings are emitted on the next tick.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off("warning", onWarning);
      await fake.stop();
    }
    assert.deepEqual(warnings, []);
  });
});
