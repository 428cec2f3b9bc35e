/** Region and endpoint resolution: options, env overrides, China partition, errors. */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { resolveEndpoint, resolveRegion } from "../../src/aws/endpoint.ts";
import { KinesisError } from "../../src/aws/errors.ts";

const VARS = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL"];
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

function setEnv(values: Record<string, string | undefined>): void {
  for (const v of VARS) delete process.env[v];
  for (const [k, v] of Object.entries(values)) if (v !== undefined) process.env[k] = v;
}

describe("endpoint", () => {
  afterEach(() => setEnv(saved));

  it("region: option, then AWS_REGION, then AWS_DEFAULT_REGION", () => {
    setEnv({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-west-2" });
    assert.equal(resolveRegion({ region: "ap-south-1" }), "ap-south-1");
    assert.equal(resolveRegion(), "eu-west-1");
    setEnv({ AWS_DEFAULT_REGION: "us-west-2" });
    assert.equal(resolveRegion(), "us-west-2");
  });

  it("no region is a typed, fatal MissingRegion error", () => {
    setEnv({});
    assert.throws(
      () => resolveRegion(),
      (e: unknown) =>
        e instanceof KinesisError && e.code === "MissingRegion" && !e.retryable &&
        /AWS_REGION/.test(e.message),
    );
  });

  it("rejects a region that is not a host name label", () => {
    assert.throws(
      () => resolveRegion({ region: "us-east-1.evil.com/" }),
      (e: unknown) => e instanceof KinesisError && e.code === "InvalidRegion",
    );
  });

  it("regional endpoints, with .amazonaws.com.cn for China", () => {
    setEnv({});
    assert.equal(resolveEndpoint("us-east-1").href, "https://kinesis.us-east-1.amazonaws.com/");
    assert.equal(
      resolveEndpoint("cn-north-1").href,
      "https://kinesis.cn-north-1.amazonaws.com.cn/",
    );
    assert.equal(
      resolveEndpoint("cn-northwest-1").href,
      "https://kinesis.cn-northwest-1.amazonaws.com.cn/",
    );
  });

  it("option beats AWS_ENDPOINT_URL_KINESIS beats AWS_ENDPOINT_URL", () => {
    setEnv({
      AWS_ENDPOINT_URL_KINESIS: "http://127.0.0.1:4567",
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
    });
    assert.equal(
      resolveEndpoint("us-east-1", { endpoint: "http://localhost:9000" }).href,
      "http://localhost:9000/",
    );
    assert.equal(resolveEndpoint("us-east-1").href, "http://127.0.0.1:4567/");
    setEnv({ AWS_ENDPOINT_URL: "http://127.0.0.1:4566" });
    assert.equal(resolveEndpoint("us-east-1").href, "http://127.0.0.1:4566/");
    assert.equal(
      resolveEndpoint("us-east-1", { endpoint: new URL("https://vpce.example/") }).href,
      "https://vpce.example/",
    );
  });

  it("rejects endpoints that are not plain http(s) URLs", () => {
    for (const bad of ["ftp://x", "not a url", "http://user:pw@host/", "http://host/?q=1"]) {
      assert.throws(
        () => resolveEndpoint("us-east-1", { endpoint: bad }),
        (e: unknown) => e instanceof KinesisError && e.code === "InvalidEndpoint",
        bad,
      );
    }
  });
});
