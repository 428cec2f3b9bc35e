import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { successXml } from "../support/fake_sts.ts";

const SOURCE = { accessKeyId: "AKIDSOURCE000000", secretAccessKey: "source-secret-0000" };
const TEMP = {
  accessKeyId: "ASIATEMP00000000",
  secretAccessKey: "temp-secret-0000",
  sessionToken: "temp-session-token-0000",
  expiration: new Date(Date.now() + 3_600_000),
};

describe("producer transport", () => {
  it("assumes the role with static source credentials and one fetch for STS and Kinesis", async () => {
    const seen: { url: string; headers: Headers; body: string }[] = [];
    const fetch = (input: Request | string | URL, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      const body = typeof init?.body === "string"
        ? init.body
        : new TextDecoder().decode(init?.body as Uint8Array);
      seen.push({ url, headers: new Headers(init?.headers), body });
      if (url.startsWith("https://sts.")) {
        return Promise.resolve(new Response(successXml("AssumeRole", TEMP), { status: 200 }));
      }
      return Promise.resolve(
        new Response(
          JSON.stringify({ ShardId: "shardId-000000000000", SequenceNumber: "1" }),
          {
            headers: { "content-type": "application/x-amz-json-1.1" },
          },
        ),
      );
    };
    const failures: unknown[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      region: "eu-west-1",
      credentials: SOURCE,
      roleArn: "arn:aws:iam::123456789012:role/r",
      externalId: "ext-42",
      fetch,
      onFailure: (f) => failures.push(f.error),
    });
    await producer.put("x");
    await producer.close();
    assert.deepEqual(failures, []);
    const [sts, kinesis] = seen;
    assert.equal(sts.url, "https://sts.eu-west-1.amazonaws.com/");
    assert.match(sts.body, /Action=AssumeRole/);
    assert.match(sts.body, /ExternalId=ext-42/);
    assert.match(sts.headers.get("authorization")!, /Credential=AKIDSOURCE000000\//);
    assert.equal(kinesis.url, "https://kinesis.eu-west-1.amazonaws.com/");
    assert.match(kinesis.headers.get("authorization")!, /Credential=ASIATEMP00000000\//);
    assert.equal(kinesis.headers.get("x-amz-security-token"), TEMP.sessionToken);
  });
});
