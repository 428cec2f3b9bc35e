/**
 * Redirects are never followed on an AWS call: a 3xx is an error of that call
 * (never a delivery), and the target host receives nothing, not even the
 * session token.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { fromAssumeRole } from "../../src/aws/credentials/sts.ts";
import { fromInstanceMetadata } from "../../src/aws/credentials/imds.ts";
import { fromContainer } from "../../src/aws/credentials/container.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { listenLoopback, type Loopback, readBody } from "../support/http.ts";

const credentials = fromStatic({
  accessKeyId: "AKIDREDIRECT",
  secretAccessKey: "redirect-secret",
  sessionToken: "redirect-session-token",
});

describe("redirects are errors, never followed", () => {
  let target: Loopback;
  const seen: { method: string; headers: Record<string, unknown>; body: number }[] = [];
  const redirectors: Loopback[] = [];
  before(async () => {
    target = await listenLoopback(async (req, res) => {
      const body = await readBody(req);
      seen.push({ method: req.method!, headers: req.headers, body: body.length });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end('{"ShardId":"shardId-000000000000","SequenceNumber":"1"}');
    });
  });
  after(async () => {
    await target.close();
    for (const r of redirectors) await r.close();
  });
  const redirector = async (status: number) => {
    const r = await listenLoopback(async (req, res) => {
      await readBody(req);
      res.writeHead(status, { location: target.url });
      res.end();
    });
    redirectors.push(r);
    return r;
  };

  for (const status of [301, 302, 307, 308]) {
    it(`Kinesis PutRecord answered ${status}: a Redirect error, the target gets nothing`, async () => {
      seen.length = 0;
      const from = await redirector(status);
      const client = new KinesisClient({ region: "us-east-1", endpoint: from.origin, credentials });
      await assert.rejects(
        client.putRecord({ streamName: "s", data: new Uint8Array([1, 2, 3]), partitionKey: "k" }),
        (error: Error & { code?: string; retryable?: boolean }) => {
          assert.equal(error.code, "Redirect");
          assert.equal(error.retryable, false);
          assert.match(error.message, new RegExp(`HTTP ${status}`));
          return true;
        },
      );
      assert.equal(seen.length, 0);
    });
  }

  it("the producer reports a redirected chunk as failed, never delivered", async () => {
    seen.length = 0;
    const from = await redirector(307);
    const failures: DeliveryFailure[] = [];
    const producer = new KinesisProducer({
      streamName: "s",
      region: "us-east-1",
      endpoint: from.origin,
      credentials,
      onFailure: (f) => failures.push(f),
    });
    await producer.put("r1");
    await producer.put("r2");
    await producer.close();
    assert.equal(producer.stats.recordsDelivered, 0);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].records.length, 2);
    assert.equal(failures[0].reason, "not-retryable");
    assert.equal(seen.length, 0);
  });

  it("STS AssumeRole answered 307: an StsError, the target gets nothing", async () => {
    seen.length = 0;
    const from = await redirector(307);
    const provider = fromAssumeRole({
      roleArn: "arn:aws:iam::123456789012:role/r",
      source: credentials,
      region: "us-east-1",
      stsEndpoint: from.origin,
    });
    await assert.rejects(provider(), (error: Error & { code?: string }) => {
      assert.match(`${error.message} ${(error.cause as Error)?.message ?? ""}`, /HTTP 307/);
      return true;
    });
    assert.equal(seen.length, 0);
  });

  it("instance metadata answered 301: no credentials, the target gets nothing", async () => {
    seen.length = 0;
    const from = await redirector(301);
    const provider = fromInstanceMetadata({ endpoint: from.origin, timeoutMs: 2000 });
    await assert.rejects(provider(), /redirect|HTTP 301/);
    assert.equal(seen.length, 0);
  });

  it("container credentials answered 302: no credentials, the token never reaches the target", async () => {
    seen.length = 0;
    const from = await redirector(302);
    const env: Record<string, string> = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${from.origin}/creds`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-auth-token",
    };
    const provider = fromContainer({ env: (name) => env[name], timeoutMs: 2000 });
    await assert.rejects(provider(), /HTTP 302/);
    assert.equal(seen.length, 0);
  });
});
