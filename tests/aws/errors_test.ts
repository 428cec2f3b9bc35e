/** Error classification, case by case, and redaction of messages. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  classifyError,
  hasAwsCode,
  KinesisError,
  type KinesisErrorKind,
  redact,
} from "../../src/aws/errors.ts";

// [code, status, message, expected kind]
const TABLE: Array<[string, number, string, KinesisErrorKind]> = [
  ["ProvisionedThroughputExceededException", 400, "Rate exceeded for shard", "throttling"],
  ["KMSThrottlingException", 400, "", "throttling"],
  ["ThrottlingException", 400, "", "throttling"],
  ["LimitExceededException", 400, "Rate exceeded for stream", "throttling"],
  ["Http429", 429, "", "throttling"],
  ["SomethingNew", 429, "", "throttling"],
  ["InternalFailure", 500, "", "transient"],
  ["InternalFailure", 0, "", "transient"],
  ["ServiceUnavailable", 503, "", "transient"],
  ["Http502", 502, "Bad Gateway", "transient"],
  ["Http500", 500, "", "transient"],
  ["NetworkError", 0, "connection reset", "transient"],
  ["TimeoutError", 0, "", "transient"],
  [
    "ExpiredTokenException",
    400,
    "The security token included in the request is expired",
    "expired-credentials",
  ],
  ["ExpiredToken", 403, "", "expired-credentials"],
  [
    "InvalidSignatureException",
    400,
    "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T002500Z - 15 min.)",
    "clock-skew",
  ],
  [
    "InvalidSignatureException",
    400,
    "Signature not yet current: 20260101T010000Z is still later than 20260101T004000Z (20260101T002500Z + 15 min.)",
    "clock-skew",
  ],
  ["RequestExpired", 400, "", "clock-skew"],
  [
    "InvalidSignatureException",
    403,
    "The request signature we calculated does not match the signature you provided.",
    "fatal",
  ],
  ["ValidationException", 400, "", "fatal"],
  ["InvalidArgumentException", 400, "", "fatal"],
  ["ResourceNotFoundException", 400, "", "fatal"],
  ["ResourceInUseException", 400, "", "fatal"],
  ["AccessDeniedException", 400, "", "fatal"],
  ["UnrecognizedClientException", 400, "", "fatal"],
  ["KMSDisabledException", 400, "", "fatal"],
  ["KMSInvalidStateException", 400, "", "fatal"],
  ["KMSAccessDeniedException", 400, "", "fatal"],
  ["KMSNotFoundException", 400, "", "fatal"],
  ["KMSOptInRequired", 400, "", "fatal"],
  ["KMSInvalidStateException", 400, "", "fatal"],
  ["Http404", 404, "", "fatal"],
  ["InvalidResponse", 200, "", "fatal"],
];

describe("classifyError", () => {
  for (const [code, status, message, kind] of TABLE) {
    it(`${code} / ${status}${message ? ` / ${message.slice(0, 24)}` : ""} → ${kind}`, () => {
      assert.deepEqual(classifyError(code, status, message), { kind, retryable: kind !== "fatal" });
      const e = new KinesisError({ code, status, message: message || "x" });
      assert.equal(e.kind, kind);
      assert.equal(e.retryable, kind !== "fatal");
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.equal(e.name, hasAwsCode(code) ? code : "KinesisError");
      assert.equal(e.$metadata.httpStatusCode, status || undefined);
      assert.equal(e.$fault, kind === "transient" ? "server" : "client");
      assert.equal(e.$retryable !== undefined, kind !== "fatal");
      assert.ok(e instanceof Error);
    });
  }

  it("an explicit kind wins, and the cause is kept", () => {
    const cause = new Error("boom");
    const e = new KinesisError({
      code: "AbortError",
      message: "aborted",
      kind: "fatal",
      cause,
      action: "PutRecord",
    });
    assert.equal(e.retryable, false);
    assert.equal(e.cause, cause);
    assert.equal(e.message, "PutRecord: AbortError: aborted");
  });
});

describe("redaction", () => {
  it("scrubs known secrets, signatures, token headers and long hex", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVz";
    const sig = "a".repeat(64);
    const msg =
      `bad ${secret} Signature=${sig}\nx-amz-security-token:${token}\nAuthorization: AWS4 stuff\n${
        "0123456789abcdef".repeat(4)
      }`;
    const out = redact(msg, [secret]);
    for (const s of [secret, token, sig, "AWS4 stuff", "0123456789abcdef".repeat(4)]) {
      assert.ok(!out.includes(s), out);
    }
    const e = new KinesisError({
      code: "InvalidSignatureException",
      status: 403,
      message: msg,
      secrets: [secret, token],
    });
    assert.ok(
      !e.message.includes(secret) && !e.message.includes(token) && !e.message.includes(sig),
    );
    assert.ok(!JSON.stringify(e).includes(secret));
  });

  it("truncates long messages", () => {
    const e = new KinesisError({ code: "X", message: "y".repeat(10_000) });
    assert.ok(e.message.length < 600);
  });
});

describe("KinesisError in the AWS SDK v3's shape", () => {
  it("name is the AWS code; $metadata has httpStatusCode, requestId, attempts", () => {
    const e = new KinesisError({
      code: "ProvisionedThroughputExceededException",
      message: "Rate exceeded for shard shardId-000000000001",
      status: 400,
      requestId: "f00d-1",
      action: "PutRecord",
    });
    // What SDK code checks, exactly as it checks it.
    assert.equal(e.name, "ProvisionedThroughputExceededException");
    assert.deepEqual(e.$metadata, {
      httpStatusCode: 400,
      requestId: "f00d-1",
      attempts: 1,
      totalRetryDelay: 0,
    });
    assert.equal(e.$fault, "client");
    assert.deepEqual(e.$retryable, { throttling: true });
    assert.ok(e instanceof KinesisError && e.kind === "throttling");
  });

  it("server faults, the SDK's TimeoutError/AbortError names, and local failures", () => {
    const server = new KinesisError({ code: "InternalFailure", message: "x", status: 500 });
    assert.equal(server.name, "InternalFailure");
    assert.equal(server.$fault, "server");
    assert.deepEqual(server.$retryable, { throttling: false });
    assert.equal(new KinesisError({ code: "TimeoutError", message: "x" }).name, "TimeoutError");
    assert.equal(new KinesisError({ code: "AbortError", message: "x" }).name, "AbortError");
    for (const code of ["NetworkError", "InvalidResponse", "MissingRegion", "Http502"]) {
      const local = new KinesisError({ code, message: "x" });
      assert.equal(local.name, "KinesisError", code);
      assert.equal(local.$metadata.httpStatusCode, undefined);
    }
    const fatal = new KinesisError({ code: "ValidationException", message: "x", status: 400 });
    assert.equal(fatal.$retryable, undefined);
  });
});
