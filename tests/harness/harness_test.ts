import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  type LocalStack,
  localStackUnavailable,
  portIsFree,
  startLocalStack,
} from "./localstack.ts";
import { kinesisRaw, stsRaw } from "./raw_aws.ts";
import { startKinesisMock } from "../../src/cli/kinesis_mock.ts";

// With REQUIRE_LOCALSTACK=1 (CI) a missing emulator fails instead of skipping.
const required = process.env.REQUIRE_LOCALSTACK === "1";
const unavailable = required ? undefined : await localStackUnavailable();
if (unavailable) console.log(`skipping startLocalStack: ${unavailable}`);

// Started at load, not in before(): bun's node:test ignores hook timeouts
// (fixed 5 s) and host mode takes ~8 s.
const t0 = Date.now();
const ls: LocalStack | undefined = unavailable ? undefined : await startLocalStack();
if (ls) console.log(`LocalStack (${ls.mode}) ready at ${ls.endpoint} in ${Date.now() - t0} ms`);

describe("startLocalStack", { skip: unavailable ?? false }, () => {
  // Set whenever this suite is not skipped.
  const emu = ls as LocalStack;
  const port = ls ? Number(new URL(ls.endpoint).port) : 0;

  after(async () => {
    await ls?.stop();
  });

  it("serves Kinesis: CreateStream then DescribeStreamSummary", async () => {
    const name = `harness-${Date.now()}`;
    const created = await kinesisRaw(emu.endpoint, emu.region, "CreateStream", {
      StreamName: name,
      ShardCount: 2,
    });
    assert.equal(created.status, 200, created.text);
    let summary: { StreamStatus?: string; OpenShardCount?: number } = {};
    for (let i = 0; i < 50 && summary.StreamStatus !== "ACTIVE"; i++) {
      const d = await kinesisRaw(emu.endpoint, emu.region, "DescribeStreamSummary", {
        StreamName: name,
      });
      assert.equal(d.status, 200, d.text);
      summary = JSON.parse(d.text).StreamDescriptionSummary;
      if (summary.StreamStatus !== "ACTIVE") await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(summary.StreamStatus, "ACTIVE");
    assert.equal(summary.OpenShardCount, 2);
  });

  it("serves STS: AssumeRole returns temporary credentials", async () => {
    const res = await stsRaw(emu.endpoint, emu.region, {
      Action: "AssumeRole",
      RoleArn: "arn:aws:iam::000000000000:role/harness",
      RoleSessionName: "harness",
      DurationSeconds: "900",
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<AccessKeyId>[A-Z0-9]{16,}<\/AccessKeyId>/);
    assert.match(res.text, /<SessionToken>[^<]+<\/SessionToken>/);
    assert.match(res.text, /<Expiration>\d{4}-\d\d-\d\dT[^<]+<\/Expiration>/);
  });

  it("frees its port on stop", async () => {
    await emu.stop();
    if (emu.mode === "external") return; // not ours to stop
    assert.equal(await portIsFree(port), true, `port ${port} still bound`);
    await emu.stop(); // idempotent
  });
});

describe("startKinesisMock", () => {
  it("starts with ACTIVE streams and frees its port on stop", async () => {
    const mock = await startKinesisMock({
      streams: [{ name: "one", shards: 1 }, { name: "three", shards: 3 }],
      region: "eu-west-1",
    });
    const port = Number(new URL(mock.endpoint).port);
    try {
      const d = await kinesisRaw(mock.endpoint, "eu-west-1", "DescribeStreamSummary", {
        StreamName: "three",
      });
      assert.equal(d.status, 200, d.text);
      const s = JSON.parse(d.text).StreamDescriptionSummary;
      assert.equal(s.StreamStatus, "ACTIVE");
      assert.equal(s.OpenShardCount, 3);
      assert.match(s.StreamARN, /^arn:aws:kinesis:eu-west-1:000000000000:stream\/three$/);
    } finally {
      await mock.stop();
    }
    assert.equal(await portIsFree(port), true, `port ${port} still bound`);
  });

  it("rejects bad options before spawning", async () => {
    await assert.rejects(startKinesisMock({ readyTimeoutMs: 0 }), RangeError);
    await assert.rejects(startKinesisMock({ streams: [{ name: "a,b" }] }), RangeError);
    await assert.rejects(startKinesisMock({ streams: [{ name: "a", shards: 0 }] }), RangeError);
  });

  it("reports an early exit with the process output", async () => {
    await assert.rejects(
      startKinesisMock({ packageDir: "/nonexistent-kinesis-local", readyTimeoutMs: 10_000 }),
      /exited early[\s\S]*main\.js/,
    );
  });
});
