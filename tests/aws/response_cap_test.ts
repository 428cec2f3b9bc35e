import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { KinesisError } from "../../src/aws/errors.ts";

const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "cap-test-secret" };

describe("KinesisClient response size cap", () => {
  it("stops reading a body without a length once it passes 64 MiB", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(1024 * 1024);
    const fetch = () => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          if (pulled > 1000) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return Promise.resolve(
        new Response(body, { headers: { "content-type": "application/x-amz-json-1.1" } }),
      );
    };
    const client = new KinesisClient({ region: "us-east-1", credentials: CREDENTIALS, fetch });
    await assert.rejects(
      client.putRecord({ streamName: "s", data: new Uint8Array(1), partitionKey: "k" }),
      (e: unknown) => e instanceof KinesisError && e.code === "InvalidResponse" && !e.retryable,
    );
    assert.ok(pulled <= 70, `read ${pulled} MiB before giving up`);
  });
});
