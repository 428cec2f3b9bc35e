/** KinesisClient against a scripted loopback fake: wire format, errors, retries, redaction. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { encodeCbor } from "../../src/aws/cbor.ts";
import type { DebugEvent } from "../../src/aws/debug.ts";
import { hasAwsCode, KinesisError } from "../../src/aws/errors.ts";
import {
  defaultTimeoutMs,
  KinesisClient,
  type KinesisClientOptions,
} from "../../src/aws/kinesis_client.ts";
import type { AwsCredentials } from "../../src/aws/types.ts";
import { nodeHttpFetch } from "../../src/runtime/node_http_fetch.ts";
import { amzDate, verifySigV4 } from "../support/sigv4_verifier.ts";
import { type Fake, type FakeRequest, type FakeResponse, json, startFake } from "./fake_kinesis.ts";

const SECRET = "kS3cr3tV4lu3/that+must/never+leak0000000";
const TOKEN = "FwoGZXIvYXdzEJr//////////session/token/never+leak==";
const CREDS: AwsCredentials = {
  accessKeyId: "ASIATESTKEY",
  secretAccessKey: SECRET,
  sessionToken: TOKEN,
};
const PUT_OK = { ShardId: "shardId-000000000001", SequenceNumber: "4968", EncryptionType: "NONE" };

// The fake's script for the current test.
let script: (req: FakeRequest, i: number) => FakeResponse | Promise<FakeResponse> = () =>
  json(200, {});
let fake: Fake;
// Every signature seen, to prove none leaks.
const signatures = new Set<string>();

before(async () => {
  fake = await startFake((req, i) => {
    const sig = /Signature=([0-9a-f]{64})/.exec(String(req.headers.authorization))?.[1];
    if (sig) signatures.add(sig);
    return script(req, i);
  });
});
after(() => fake.stop());

// Every suite runs twice: over the runtime's fetch and over the node:http adapter
// (the default in Node), so both keep the same timeouts, aborts, errors and signatures.
const TRANSPORTS: [string, KinesisClientOptions["fetch"]][] = [
  ["fetch", (input, init) => globalThis.fetch(input, init)],
  ["node:http", nodeHttpFetch({ force: true })],
];
let transport: KinesisClientOptions["fetch"];

function client(options: Partial<KinesisClientOptions> = {}): KinesisClient {
  return new KinesisClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: CREDS,
    fetch: transport,
    ...options,
  });
}

function mark(): number {
  return fake.requests.length;
}

async function rejects(
  p: Promise<unknown>,
  check: (e: KinesisError) => void,
): Promise<KinesisError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KinesisError, `expected KinesisError, got ${e}`);
    check(e);
    return e;
  }
  assert.fail("expected a rejection");
}

for (const [name, fetchFn] of TRANSPORTS) {
  describe(`over ${name}`, () => {
    before(() => void (transport = fetchFn));
    describe("KinesisClient wire format", () => {
      it("JSON PutRecord: headers, base64 Data, a signature aws4 accepts", async () => {
        script = () => json(200, PUT_OK);
        const start = mark();
        const data = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, 0, 255]);
        const out = await client().putRecord({
          streamName: "s1",
          data,
          partitionKey: "pk",
          explicitHashKey: "42",
        });
        assert.deepEqual(out, {
          shardId: "shardId-000000000001",
          sequenceNumber: "4968",
          encryptionType: "NONE",
        });
        const req = fake.requests[start];
        assert.equal(req.method, "POST");
        assert.equal(req.path, "/");
        assert.equal(req.headers["content-type"], "application/x-amz-json-1.1");
        assert.equal(req.headers["x-amz-target"], "Kinesis_20131202.PutRecord");
        assert.equal(req.headers["x-amz-security-token"], TOKEN);
        assert.equal(req.headers["x-amz-content-sha256"], undefined);
        assert.notEqual(req.headers.connection, "close");
        assert.deepEqual(req.params, {
          StreamName: "s1",
          Data: "84mawgD/",
          PartitionKey: "pk",
          ExplicitHashKey: "42",
        });
        const verified = verifySigV4(
          { method: req.method, path: req.path, headers: req.headers, body: req.body },
          [{ ...CREDS }],
          { region: "us-east-1", service: "kinesis" },
        );
        assert.deepEqual(verified, { ok: true, accessKeyId: "ASIATESTKEY" });
        assert.match(
          String(req.headers.authorization),
          /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,/,
        );
      });

      it("CBOR PutRecord: content type, byte-string Data, no smithy-protocol header", async () => {
        script = () => ({
          status: 200,
          headers: { "content-type": "application/x-amz-cbor-1.1" },
          body: encodeCbor(PUT_OK),
        });
        const start = mark();
        const data = new Uint8Array(1000).fill(7);
        const out = await client({ protocol: "cbor" }).putRecord({
          streamARN: "arn:aws:kinesis:us-east-1:1:stream/s1",
          data,
          partitionKey: "pk",
        });
        assert.equal(out.shardId, "shardId-000000000001");
        const req = fake.requests[start];
        assert.equal(req.headers["content-type"], "application/x-amz-cbor-1.1");
        assert.equal(req.headers["x-amz-target"], "Kinesis_20131202.PutRecord");
        assert.equal(req.headers["smithy-protocol"], undefined);
        assert.deepEqual(req.params, {
          StreamARN: "arn:aws:kinesis:us-east-1:1:stream/s1",
          Data: data,
          PartitionKey: "pk",
        });
        assert.equal(
          verifySigV4({ method: "POST", path: "/", headers: req.headers, body: req.body }, [{
            ...CREDS,
          }]).ok,
          true,
        );
      });

      it("listShards follows NextToken and sends only the token on later pages", async () => {
        const shard = (n: number) => ({
          ShardId: `shardId-00000000000${n}`,
          ParentShardId: null,
          HashKeyRange: { StartingHashKey: String(n * 10), EndingHashKey: String(n * 10 + 9) },
          SequenceNumberRange: { StartingSequenceNumber: "1", EndingSequenceNumber: null },
        });
        script = (req) =>
          req.params.NextToken
            ? json(200, { Shards: [shard(2)], NextToken: null })
            : json(200, { Shards: [shard(0), shard(1)], NextToken: "t1" });
        const start = mark();
        const shards = await client().listShards({ streamName: "s1" });
        assert.deepEqual(shards.map((s) => s.shardId), [
          "shardId-000000000000",
          "shardId-000000000001",
          "shardId-000000000002",
        ]);
        assert.deepEqual(shards[2].hashKeyRange, { startingHashKey: "20", endingHashKey: "29" });
        assert.equal(shards[0].parentShardId, undefined);
        assert.equal(shards[0].sequenceNumberRange.endingSequenceNumber, undefined);
        assert.deepEqual(fake.requests[start].params, { StreamName: "s1" });
        assert.deepEqual(fake.requests[start + 1].params, { NextToken: "t1" });
      });

      it("listShards stops on a repeated NextToken", async () => {
        script = () => json(200, { Shards: [], NextToken: "same" });
        await rejects(
          client().listShards({ streamName: "s1" }),
          (e) => assert.equal(e.code, "InvalidResponse"),
        );
      });

      it("getRecords decodes base64 (JSON) and byte strings with tag-1 dates (CBOR)", async () => {
        script = () =>
          json(200, {
            Records: [{
              SequenceNumber: "1",
              ApproximateArrivalTimestamp: 1773500966.535,
              Data: "AQID",
              PartitionKey: "k",
              EncryptionType: null,
            }],
            NextShardIterator: "it2",
            MillisBehindLatest: 0,
            ChildShards: null,
          });
        const j = await client().getRecords({ shardIterator: "it1", limit: 10 });
        assert.deepEqual(j.records[0].data, new Uint8Array([1, 2, 3]));
        assert.equal(
          j.records[0].approximateArrivalTimestamp?.toISOString(),
          "2026-03-14T15:09:26.535Z",
        );
        assert.equal(j.records[0].encryptionType, undefined);
        assert.equal(j.nextShardIterator, "it2");
        script = () => ({
          status: 200,
          headers: { "content-type": "application/x-amz-cbor-1.1" },
          body: encodeCbor({
            Records: [{
              SequenceNumber: "1",
              ApproximateArrivalTimestamp: new Date("2026-03-14T15:09:26.535Z"),
              Data: new Uint8Array([4, 5]),
              PartitionKey: "k",
            }],
            NextShardIterator: null,
            MillisBehindLatest: 12,
          }),
        });
        const c = await client({ protocol: "cbor" }).getRecords({ shardIterator: "it1" });
        assert.deepEqual(c.records[0].data, new Uint8Array([4, 5]));
        assert.equal(
          c.records[0].approximateArrivalTimestamp?.toISOString(),
          "2026-03-14T15:09:26.535Z",
        );
        assert.equal(c.nextShardIterator, undefined);
        assert.equal(c.millisBehindLatest, 12);
      });

      it("getShardIterator sends AT_TIMESTAMP as epoch seconds (JSON) or tag 1 (CBOR)", async () => {
        script = () => json(200, { ShardIterator: "it" });
        const start = mark();
        const ts = new Date("2026-03-14T15:09:26.5Z");
        assert.equal(
          await client().getShardIterator({
            streamName: "s1",
            shardId: "shardId-0",
            shardIteratorType: "AT_TIMESTAMP",
            timestamp: ts,
          }),
          "it",
        );
        assert.equal(fake.requests[start].params.Timestamp, 1773500966.5);
        script = () => ({
          status: 200,
          headers: { "content-type": "application/x-amz-cbor-1.1" },
          body: encodeCbor({ ShardIterator: "it" }),
        });
        await client({ protocol: "cbor" }).getShardIterator({
          streamName: "s1",
          shardId: "shardId-0",
          shardIteratorType: "AT_TIMESTAMP",
          timestamp: ts,
        });
        assert.deepEqual(fake.requests[start + 1].params.Timestamp, ts);
      });

      it("createStream (empty 200 body is fine) and waitForStreamActive", async () => {
        let describes = 0;
        script = (req) => {
          if (req.action === "CreateStream") {
            return { status: 200, headers: { "content-type": "application/x-amz-json-1.1" } };
          }
          describes++;
          if (describes === 1) {
            return json(400, { __type: "ResourceNotFoundException", message: "not yet" });
          }
          return json(200, {
            StreamDescriptionSummary: {
              StreamName: "s2",
              StreamARN: "arn:s2",
              StreamStatus: describes < 3 ? "CREATING" : "ACTIVE",
              StreamModeDetails: { StreamMode: "PROVISIONED" },
              OpenShardCount: 3,
              MaxRecordSizeInKiB: 10240,
              StreamCreationTimestamp: 1773500966,
              KeyId: null,
            },
          });
        };
        const start = mark();
        const c = client();
        await c.createStream({ streamName: "s2", shardCount: 3, maxRecordSizeInKiB: 10240 });
        assert.deepEqual(fake.requests[start].params, {
          StreamName: "s2",
          ShardCount: 3,
          StreamModeDetails: { StreamMode: "PROVISIONED" },
          MaxRecordSizeInKiB: 10240,
        });
        const summary = await c.waitForStreamActive({ streamName: "s2", intervalMs: 5 });
        assert.equal(summary.streamStatus, "ACTIVE");
        assert.equal(summary.maxRecordSizeInKiB, 10240);
        assert.equal(summary.keyId, undefined);
        assert.equal(describes, 3);
      });

      it("validates inputs before sending", async () => {
        const c = client();
        await assert.rejects(
          c.putRecord({ data: new Uint8Array(1), partitionKey: "k" }),
          TypeError,
        );
        await assert.rejects(
          c.putRecord({ streamName: "s", data: "x" as unknown as Uint8Array, partitionKey: "k" }),
          TypeError,
        );
        await assert.rejects(
          c.putRecord({ streamName: "s", data: new Uint8Array(1), partitionKey: "" }),
          TypeError,
        );
        assert.throws(() => client({ protocol: "xml" as "json" }), RangeError);
        assert.throws(() => client({ timeoutMs: 0 }), RangeError);
        assert.throws(
          () =>
            new KinesisClient({
              region: "us-east-1",
              credentials: undefined as unknown as AwsCredentials,
            }),
          TypeError,
        );
      });
    });

    describe("KinesisClient errors", () => {
      const cases: Array<[string, FakeResponse, Partial<KinesisError>]> = [
        ["explicit null ShardId", json(200, { ShardId: null, SequenceNumber: "1" }), {
          code: "InvalidResponse",
          kind: "fatal",
        }],
        ["empty 200 body", { status: 200 }, { code: "InvalidResponse", kind: "fatal" }],
        ["JSON null body", json(200, null), { code: "InvalidResponse", kind: "fatal" }],
        ["JSON array body", json(200, []), { code: "InvalidResponse", kind: "fatal" }],
        [
          "HTML 200",
          { status: 200, headers: { "content-type": "text/html" }, body: "<html>hi</html>" },
          { code: "InvalidResponse", kind: "fatal", status: 200 },
        ],
        ["HTML 502", {
          status: 502,
          headers: { "content-type": "text/html" },
          body: "<html>Bad Gateway</html>",
        }, { code: "Http502", kind: "transient", status: 502 }],
        ["empty 500", { status: 500 }, { code: "Http500", kind: "transient" }],
        ["InternalFailure 500", json(500, { __type: "InternalFailure" }), {
          code: "InternalFailure",
          kind: "transient",
          retryable: true,
        }],
        [
          "throttling",
          json(400, { __type: "ProvisionedThroughputExceededException", message: "Rate exceeded" }),
          {
            code: "ProvisionedThroughputExceededException",
            kind: "throttling",
            retryable: true,
            requestId: "req-400",
          },
        ],
        [
          "namespaced __type",
          json(400, {
            __type: "com.amazonaws.kinesis.v20131202#ResourceNotFoundException",
            message: "nope",
          }),
          { code: "ResourceNotFoundException", kind: "fatal" },
        ],
        ["JSON error with text/plain type", {
          status: 400,
          headers: { "content-type": "text/plain" },
          body: '{"__type":"ValidationException","message":"bad"}',
        }, { code: "ValidationException", kind: "fatal" }],
        ["code only in x-amzn-ErrorType", {
          status: 400,
          headers: { "x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/" },
        }, { code: "AccessDeniedException", kind: "fatal" }],
        ["CBOR error body", {
          status: 400,
          headers: { "content-type": "application/x-amz-cbor-1.1" },
          body: encodeCbor({ __type: "KMSThrottlingException", message: "slow" }),
        }, { code: "KMSThrottlingException", kind: "throttling" }],
        ["garbage CBOR", {
          status: 200,
          headers: { "content-type": "application/x-amz-cbor-1.1" },
          body: new Uint8Array([0xbf, 0x61]),
        }, { code: "InvalidResponse" }],
        [
          "bad base64 record",
          json(200, { Records: [{ SequenceNumber: "1", Data: "!!", PartitionKey: "k" }] }),
          { code: "InvalidResponse" },
        ],
      ];
      for (const [name, response, want] of cases) {
        it(name, async () => {
          script = () => response;
          const c = client();
          const call = name.includes("record")
            ? c.getRecords({ shardIterator: "x" })
            : c.putRecord({ streamName: "s1", data: new Uint8Array(3), partitionKey: "k" });
          await rejects(call, (e) => {
            for (const [k, v] of Object.entries(want)) {
              assert.equal((e as unknown as Record<string, unknown>)[k], v, `${k} in ${e.message}`);
            }
            const error = e as KinesisError;
            // The SDK v3 shape: name is the AWS code, $metadata the response.
            assert.equal(error.name, hasAwsCode(error.code) ? error.code : "KinesisError");
            assert.equal(error.$metadata.httpStatusCode, error.status || undefined);
            assert.equal(error.$metadata.requestId, error.requestId);
            assert.equal(error.$metadata.attempts, 1);
          });
        });
      }

      it("expired token: refreshes with forceRefresh and retries once", async () => {
        const calls: Array<boolean | undefined> = [];
        let n = 0;
        const provider = (o?: { forceRefresh?: boolean }) => {
          calls.push(o?.forceRefresh);
          n++;
          return Promise.resolve({
            accessKeyId: `ASIAKEY${n}`,
            secretAccessKey: SECRET,
            sessionToken: `${TOKEN}${n}`,
          });
        };
        script = (req) =>
          String(req.headers.authorization).includes("ASIAKEY1/")
            ? json(400, {
              __type: "ExpiredTokenException",
              message: "The security token included in the request is expired",
            })
            : json(200, PUT_OK);
        const events: DebugEvent[] = [];
        const start = mark();
        const out = await client({ credentials: provider, debug: (e) => events.push(e) }).putRecord(
          {
            streamName: "s1",
            data: new Uint8Array(1),
            partitionKey: "k",
          },
        );
        assert.equal(out.sequenceNumber, "4968");
        assert.deepEqual(calls, [undefined, true]);
        assert.equal(fake.requests.length - start, 2);
        assert.equal(fake.requests[start + 1].headers["x-amz-security-token"], `${TOKEN}2`);
        assert.deepEqual(events.map((e) => [e.status, e.retry, e.error]), [[
          400,
          0,
          "ExpiredTokenException",
        ], [200, 1, undefined]]);
      });

      it("expired token twice, or with static credentials: the error surfaces", async () => {
        script = () => json(400, { __type: "ExpiredTokenException", message: "expired" });
        let calls = 0;
        const provider = () => (calls++, Promise.resolve(CREDS));
        const start = mark();
        await rejects(
          client({ credentials: provider }).putRecord({
            streamName: "s1",
            data: new Uint8Array(1),
            partitionKey: "k",
          }),
          (e) => {
            assert.equal(e.kind, "expired-credentials");
            assert.equal(e.retryable, true);
          },
        );
        assert.equal(calls, 2);
        assert.equal(fake.requests.length - start, 2);
        await rejects(
          client().putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }),
          (e) => assert.equal(e.code, "ExpiredTokenException"),
        );
        assert.equal(fake.requests.length - start, 3);
      });

      it("clock skew: corrects the offset from the Date header and retries with a good date", async () => {
        const serverNow = () => new Date(Date.now() + 3_600_000);
        // A signature-checking fake whose clock is an hour ahead.
        script = (req) => {
          const v = verifySigV4(
            { method: "POST", path: req.path, headers: req.headers, body: req.body },
            [{ ...CREDS }],
            { now: serverNow() },
          );
          return v.ok ? json(200, PUT_OK) : json(400, { __type: v.code, message: v.message }, {
            date: serverNow().toUTCString(),
          });
        };
        const start = mark();
        const c = client();
        await c.putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" });
        assert.equal(fake.requests.length - start, 2);
        assert.ok(Math.abs(c.clockOffsetMs - 3_600_000) < 2_000, String(c.clockOffsetMs));
        const second = String(fake.requests[start + 1].headers["x-amz-date"]);
        assert.ok(
          Math.abs(
            Date.parse(
              second.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, "$1-$2-$3T$4:$5:$6Z"),
            ) - serverNow().getTime(),
          ) < 5_000,
        );
        // The offset sticks: the next call needs one request.
        await c.putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" });
        assert.equal(fake.requests.length - start, 3);
      });

      it("clock skew without a Date header uses the time quoted in the message", async () => {
        const server = new Date(Date.now() - 7_200_000);
        script = (req, i) =>
          i === start
            ? {
              status: 400,
              headers: { "content-type": "application/x-amz-json-1.1", date: "" },
              body: JSON.stringify({
                __type: "InvalidSignatureException",
                message: `Signature not yet current: ${
                  req.headers["x-amz-date"]
                } is still later than x (${amzDate(server)} + 15 min.)`,
              }),
            }
            : json(200, PUT_OK);
        const start = mark();
        const c = client();
        await c.putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" });
        assert.ok(Math.abs(c.clockOffsetMs + 7_200_000) < 2_000, String(c.clockOffsetMs));
      });

      it("clock skew that persists surfaces after one retry", async () => {
        script = () =>
          json(400, {
            __type: "InvalidSignatureException",
            message: "Signature expired: a is now earlier than b (c - 15 min.)",
          }, { date: new Date().toUTCString() });
        const start = mark();
        await rejects(
          client().putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }),
          (e) => assert.equal(e.kind, "clock-skew"),
        );
        assert.equal(fake.requests.length - start, 2);
      });

      it("timeout: a hanging server gives a transient TimeoutError", async () => {
        script = () => ({ hang: true });
        const t = performance.now();
        await rejects(
          client({ timeoutMs: 150 }).putRecord({
            streamName: "s1",
            data: new Uint8Array(1),
            partitionKey: "k",
          }),
          (e) => {
            assert.equal(e.code, "TimeoutError");
            assert.equal(e.kind, "transient");
            assert.equal(e.status, 0);
          },
        );
        assert.ok(performance.now() - t < 2_000);
      });

      it("caller abort gives a fatal AbortError, before or during the call", async () => {
        script = () => ({ hang: true });
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error("stop")), 50);
        await rejects(
          client().putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }, {
            signal: ac.signal,
          }),
          (e) => {
            assert.equal(e.code, "AbortError");
            assert.equal(e.retryable, false);
          },
        );
        await rejects(
          client().putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }, {
            signal: AbortSignal.abort(),
          }),
          (e) => assert.equal(e.code, "AbortError"),
        );
      });

      it("connection refused gives a transient NetworkError", async () => {
        const dead = await startFake(() => json(200, {}));
        const url = dead.url;
        await dead.stop();
        const c = new KinesisClient({
          region: "us-east-1",
          endpoint: url,
          credentials: CREDS,
          fetch: transport,
        });
        await rejects(
          c.putRecord({ streamName: "s1", data: new Uint8Array(1), partitionKey: "k" }),
          (e) => {
            assert.equal(e.code, "NetworkError");
            assert.equal(e.kind, "transient");
            assert.ok(e.cause);
          },
        );
      });

      it("a failing credential provider gives a CredentialsError that keeps the provider's retryable flag", async () => {
        const failing = () =>
          Promise.reject(Object.assign(new Error("imds timed out"), { retryable: true }));
        await rejects(
          client({ credentials: failing }).putRecord({
            streamName: "s1",
            data: new Uint8Array(1),
            partitionKey: "k",
          }),
          (e) => {
            assert.equal(e.code, "CredentialsError");
            assert.equal(e.kind, "transient");
          },
        );
      });

      it("default timeout scales with the body", () => {
        assert.equal(defaultTimeoutMs(0), 10_000);
        assert.equal(defaultTimeoutMs(1024), 11_000);
        assert.equal(defaultTimeoutMs(1 << 20), 26_000);
      });
    });

    describe("KinesisClient redaction", () => {
      it("no secret, token or signature in debug output, errors or inspect()", async () => {
        const logged: string[] = [];
        const original = console.error;
        console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
        const texts: string[] = [];
        try {
          const echoes = [
            // A server (or proxy) that echoes the canonical request, token and signature.
            (req: FakeRequest) =>
              json(403, {
                __type: "InvalidSignatureException",
                message:
                  `The Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:${
                    req.headers["x-amz-security-token"]
                  }\n' ${req.headers.authorization} secret ${SECRET}`,
              }),
            () => json(400, { __type: "ExpiredTokenException", message: `token ${TOKEN} expired` }),
            () => ({
              status: 500,
              headers: { "content-type": "text/html" },
              body: `<pre>${SECRET} ${TOKEN}</pre>`,
            }),
            () => json(200, PUT_OK),
          ];
          for (const protocol of ["json", "cbor"] as const) {
            const c = client({ protocol, debug: true });
            for (const echo of echoes) {
              script = echo;
              try {
                await c.putRecord({ streamName: "s1", data: new Uint8Array(4), partitionKey: "k" });
              } catch (e) {
                const err = e as KinesisError;
                texts.push(
                  err.message,
                  String(err),
                  err.stack ?? "",
                  JSON.stringify(err),
                  inspect(err, { depth: 5 }),
                );
              }
            }
            texts.push(inspect(c, { depth: 10, showHidden: true }), JSON.stringify(c), String(c));
            const deno =
              (globalThis as { Deno?: { inspect(v: unknown, o?: unknown): string } }).Deno;
            if (deno) texts.push(deno.inspect(c, { depth: 10, showHidden: true }));
          }
        } finally {
          console.error = original;
        }
        assert.ok(logged.length >= 8, "debug lines were written");
        assert.ok(signatures.size > 0);
        const all = [...logged, ...texts].join("\n");
        assert.match(all, /InvalidSignatureException/);
        assert.match(all, /\[redacted\]/, "the echoed secrets were scrubbed, not absent");
        for (const secret of [SECRET, TOKEN, ...signatures]) {
          assert.ok(!all.includes(secret), `leaked ${secret.slice(0, 8)}…`);
        }
        assert.ok(!/authorization:|Signature=[0-9a-f]/i.test(all));
      });
    });
  });
}
