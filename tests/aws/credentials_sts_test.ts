import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  fromAssumeRole,
  fromWebIdentity,
  stsBackoffMs,
  stsEndpointFor,
} from "../../src/aws/credentials/sts.ts";
import { StsError } from "../../src/aws/credentials/errors.ts";
import { fromStatic } from "../../src/aws/credentials/static.ts";
import type { DebugEvent } from "../../src/aws/debug.ts";
import type { CredentialProvider } from "../../src/aws/types.ts";
import { errorXml, type FakeSts, startFakeSts } from "../support/fake_sts.ts";

const SOURCE = {
  accessKeyId: "AKIASOURCE0001",
  secretAccessKey: "source/secret+KEY=",
  sessionToken: "source-session-token-xyz",
};
const ROLE = "arn:aws:iam::123456789012:role/producer";
const noEnv = () => undefined;

describe("fromAssumeRole against a loopback STS that verifies SigV4 with aws4", () => {
  let sts: FakeSts;
  before(async () => {
    sts = await startFakeSts({
      known: [SOURCE],
      region: "eu-west-1",
      webIdentityToken: "oidc.jwt.token",
    });
  });
  after(() => sts.close());

  it("sends a signed, form-encoded AssumeRole with ExternalId, session name, duration and policy", async () => {
    const events: DebugEvent[] = [];
    const provider = fromAssumeRole({
      roleArn: ROLE,
      externalId: "ext-id & more",
      roleSessionName: "kpl-test",
      durationSeconds: 900,
      policy: '{"Version":"2012-10-17"}',
      region: "eu-west-1",
      stsEndpoint: sts.url,
      source: fromStatic(SOURCE),
      debug: (e) => events.push(e),
      env: noEnv,
    });
    const creds = await provider();
    const req = sts.requests.at(-1)!;
    assert.deepEqual(req.verified, { ok: true, accessKeyId: SOURCE.accessKeyId });
    assert.deepEqual(req.params, {
      Action: "AssumeRole",
      Version: "2011-06-15",
      RoleArn: ROLE,
      RoleSessionName: "kpl-test",
      DurationSeconds: "900",
      ExternalId: "ext-id & more",
      Policy: '{"Version":"2012-10-17"}',
    });
    assert.match(String(req.headers["content-type"]), /^application\/x-www-form-urlencoded/);
    assert.equal(req.headers["x-amz-security-token"], SOURCE.sessionToken);
    assert.match(
      String(req.headers.authorization),
      /Credential=AKIASOURCE0001\/\d{8}\/eu-west-1\/sts\/aws4_request/,
    );
    const issued = sts.issued.at(-1)!;
    assert.equal(creds.accessKeyId, issued.accessKeyId);
    assert.equal(creds.secretAccessKey, issued.secretAccessKey);
    assert.equal(creds.sessionToken, issued.sessionToken);
    assert.equal(creds.expiration?.getTime(), Math.floor(issued.expiration.getTime()));
    assert.equal(events.length, 1);
    assert.equal(events[0].service, "sts");
    assert.equal(events[0].action, "AssumeRole");
    assert.equal(events[0].status, 200);
    assert.equal(events[0].retry, 0);
    assert.equal(events[0].requestId, "hdr-" + sts.requests.length);
    // Cached: a second call does not reach STS.
    const before = sts.requests.length;
    assert.equal(await provider(), creds);
    assert.equal(sts.requests.length, before);
  });

  it("gets the STS endpoint from AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, else the regional one", async () => {
    assert.equal(stsEndpointFor("us-west-2", noEnv), "https://sts.us-west-2.amazonaws.com");
    assert.equal(
      stsEndpointFor("cn-northwest-1", noEnv),
      "https://sts.cn-northwest-1.amazonaws.com.cn",
    );
    assert.equal(
      stsEndpointFor("us-west-2", (n) => (n === "AWS_ENDPOINT_URL" ? "http://a" : undefined)),
      "http://a",
    );
    const env = (n: string) =>
      ({
        AWS_ENDPOINT_URL_STS: sts.url,
        AWS_ENDPOINT_URL: "http://127.0.0.1:9/",
        AWS_REGION: "eu-west-1",
      })[n];
    const creds = await fromAssumeRole({ roleArn: ROLE, source: fromStatic(SOURCE), env })();
    assert.equal(creds.accessKeyId, sts.issued.at(-1)!.accessKeyId);
    assert.match(sts.requests.at(-1)!.params.RoleSessionName, /^kinesis-kpl-\d+$/);
  });

  it("a bad signature comes back as a typed, non-retryable StsError without secrets", async () => {
    const wrong = { ...SOURCE, secretAccessKey: "not-the-secret" };
    const n = sts.requests.length;
    await assert.rejects(
      fromAssumeRole({
        roleArn: ROLE,
        region: "eu-west-1",
        stsEndpoint: sts.url,
        source: fromStatic(wrong),
        env: noEnv,
      })(),
      (error: unknown) => {
        assert.ok(error instanceof StsError);
        assert.equal(error.code, "SignatureDoesNotMatch");
        assert.equal(error.status, 403);
        assert.equal(error.retryable, false);
        assert.ok(error.requestId);
        assert.ok(
          !error.message.includes("not-the-secret") && !error.message.includes(SOURCE.sessionToken),
        );
        return true;
      },
    );
    assert.equal(sts.requests.length, n + 1, "not retried");
  });

  it("AssumeRoleWithWebIdentity is unsigned and carries the token", async () => {
    let reads = 0;
    const provider = fromWebIdentity({
      roleArn: ROLE,
      roleSessionName: "web",
      webIdentityToken: () => {
        reads++;
        return Promise.resolve("oidc.jwt.token\n"); // trailing newline as in token files
      },
      region: "eu-west-1",
      stsEndpoint: sts.url,
      env: noEnv,
    });
    const creds = await provider();
    const req = sts.requests.at(-1)!;
    assert.equal(req.action, "AssumeRoleWithWebIdentity");
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.params.WebIdentityToken, "oidc.jwt.token");
    assert.equal(req.params.RoleSessionName, "web");
    assert.equal(creds.accessKeyId, sts.issued.at(-1)!.accessKeyId);
    assert.equal(reads, 1);
  });

  it("a rejected web identity token never appears in the error", async () => {
    await assert.rejects(
      fromWebIdentity({
        roleArn: ROLE,
        webIdentityToken: "wrong.secret.jwt",
        region: "eu-west-1",
        stsEndpoint: sts.url,
        env: noEnv,
      })(),
      (error: StsError) =>
        error.code === "InvalidIdentityToken" && !error.message.includes("wrong.secret.jwt"),
    );
  });

  it("validates options up front", () => {
    const base = { roleArn: ROLE, source: fromStatic(SOURCE), env: noEnv };
    assert.throws(() => fromAssumeRole({ ...base, roleArn: "producer" }), TypeError);
    assert.throws(() => fromAssumeRole({ ...base, durationSeconds: 60 }), RangeError);
    assert.throws(() => fromAssumeRole({ ...base, roleSessionName: "has space" }), TypeError);
    assert.throws(() => fromAssumeRole({ ...base, region: "eu-west-1.evil.com/" }), TypeError);
    assert.throws(() => fromAssumeRole({ ...base, stsEndpoint: "ftp://x" }), TypeError);
    assert.throws(
      () => fromAssumeRole({ ...base, source: undefined as unknown as CredentialProvider }),
      TypeError,
    );
  });
});

describe("STS retries and failures", () => {
  it("retries throttling and 5xx, then succeeds; each attempt is a debug event", async () => {
    const sts = await startFakeSts({
      known: [SOURCE],
      reply: (_r, n) =>
        n === 1
          ? { status: 400, body: errorXml("Throttling", "Rate exceeded") }
          : n === 2
          ? { status: 503, body: "<html>unavailable</html>" }
          : undefined,
    });
    try {
      const events: DebugEvent[] = [];
      const creds = await fromAssumeRole({
        roleArn: ROLE,
        stsEndpoint: sts.url,
        source: fromStatic(SOURCE),
        debug: (e) => events.push(e),
        env: noEnv,
      })();
      assert.equal(creds.accessKeyId, sts.issued[0].accessKeyId);
      assert.deepEqual(events.map((e) => [e.retry, e.status, e.error]), [[0, 400, "Throttling"], [
        1,
        503,
        "Http503",
      ], [2, 200, undefined]]);
    } finally {
      await sts.close();
    }
  });

  it("on ExpiredToken, refreshes the source credentials once and retries", async () => {
    const old = { accessKeyId: "AKIAOLD", secretAccessKey: "old-secret" };
    const fresh = { accessKeyId: "AKIANEW", secretAccessKey: "new-secret" };
    const sts = await startFakeSts({
      known: [old, fresh],
      reply: (
        r,
      ) => (r.verified?.accessKeyId === "AKIAOLD"
        ? {
          status: 400,
          body: errorXml("ExpiredToken", "The security token included in the request is expired"),
        }
        : undefined),
    });
    try {
      const forced: boolean[] = [];
      const source: CredentialProvider = (opts) => {
        forced.push(Boolean(opts?.forceRefresh));
        return Promise.resolve(opts?.forceRefresh ? fresh : old);
      };
      const creds = await fromAssumeRole({
        roleArn: ROLE,
        stsEndpoint: sts.url,
        source,
        env: noEnv,
      })();
      assert.equal(creds.accessKeyId, sts.issued[0].accessKeyId);
      assert.deepEqual(forced, [false, true]);
    } finally {
      await sts.close();
    }
  });

  it("a skewed local clock is corrected from the answer and the call retried once, signed right", async () => {
    for (const [offsetMs, withDate] of [[40 * 60_000, true], [-40 * 60_000, false]] as const) {
      // Without a Date header, the time quoted in the message sets the clock.
      const sts = await startFakeSts({
        known: [SOURCE],
        clockOffsetMs: offsetMs,
        reply: (r) =>
          r.verified && !r.verified.ok && !withDate
            ? {
              status: 403,
              body: errorXml("SignatureDoesNotMatch", r.verified.message),
              headers: { date: "" },
            }
            : undefined,
      });
      try {
        const creds = await fromAssumeRole({
          roleArn: ROLE,
          stsEndpoint: sts.url,
          source: fromStatic(SOURCE),
          env: noEnv,
          maxAttempts: 1,
        })();
        assert.equal(creds.accessKeyId, sts.issued[0].accessKeyId);
        assert.equal(sts.requests.length, 2, "one refused, one retried");
        assert.equal(sts.requests[0].verified?.ok, false);
        assert.match(String(sts.requests[0].verified?.message), /Signature (expired|not yet)/);
        assert.deepEqual(sts.requests[1].verified, { ok: true, accessKeyId: SOURCE.accessKeyId });
      } finally {
        await sts.close();
      }
    }
  });

  it("network errors and timeouts are retryable StsErrors", async () => {
    // A closed loopback port: connection refused.
    const closed = await startFakeSts({ known: [] });
    const url = closed.url;
    await closed.close();
    await assert.rejects(
      fromAssumeRole({
        roleArn: ROLE,
        stsEndpoint: url,
        source: fromStatic(SOURCE),
        maxAttempts: 1,
        env: noEnv,
      })(),
      (e: StsError) => e.code === "NetworkError" && e.retryable && e.status === 0,
    );
    const hanging = await startFakeSts({
      known: [SOURCE],
      reply: () => ({ status: 200, body: "" }),
    });
    const slowFetch = (input: Request | string | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
        void input;
      });
    try {
      await assert.rejects(
        fromAssumeRole({
          roleArn: ROLE,
          stsEndpoint: hanging.url,
          source: fromStatic(SOURCE),
          fetch: slowFetch,
          timeoutMs: 50,
          maxAttempts: 2,
          env: noEnv,
        })(),
        (e: StsError) =>
          e.code === "TimeoutError" && e.retryable && /timed out after 50 ms/.test(e.message),
      );
    } finally {
      await hanging.close();
    }
  });

  it("scrubs secrets that an endpoint echoes into its message", async () => {
    const sts = await startFakeSts({
      known: [SOURCE],
      reply: () => ({
        status: 400,
        body: errorXml(
          "ValidationError",
          `bad token ${SOURCE.sessionToken} and key ${SOURCE.secretAccessKey}`,
        ),
      }),
    });
    try {
      await assert.rejects(
        fromAssumeRole({
          roleArn: ROLE,
          stsEndpoint: sts.url,
          source: fromStatic(SOURCE),
          env: noEnv,
        })(),
        (e: StsError) => {
          assert.ok(
            !e.message.includes(SOURCE.sessionToken) && !e.message.includes(SOURCE.secretAccessKey),
            e.message,
          );
          assert.match(e.message, /\[REDACTED\]/);
          return true;
        },
      );
    } finally {
      await sts.close();
    }
  });

  it("backoff is full jitter, capped", () => {
    assert.equal(stsBackoffMs(0, () => 1), 100);
    assert.equal(stsBackoffMs(3, () => 0.5), 400);
    assert.equal(stsBackoffMs(10, () => 1), 2000);
  });

  it("concurrent callers share one AssumeRole call", async () => {
    const sts = await startFakeSts({ known: [SOURCE] });
    try {
      const provider = fromAssumeRole({
        roleArn: ROLE,
        stsEndpoint: sts.url,
        source: fromStatic(SOURCE),
        env: noEnv,
      });
      const all = await Promise.all(Array.from({ length: 25 }, () => provider()));
      assert.equal(sts.requests.length, 1);
      assert.ok(all.every((c) => c === all[0]));
      await provider({ forceRefresh: true });
      assert.equal(sts.requests.length, 2);
    } finally {
      await sts.close();
    }
  });
});
