/** Region from the shared config profile: lazy, signed for and sent to that region's endpoint. */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { KinesisError } from "../../src/aws/errors.ts";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import type { FetchLike } from "../../src/aws/types.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { DeliveryFailure } from "../../src/producer/options.ts";
import { verifySigV4 } from "../support/sigv4_verifier.ts";
import { type Fake, type FakeRequest, json, startFake } from "./fake_kinesis.ts";

const CREDS = { accessKeyId: "AKIDPROFILETEST", secretAccessKey: "pr0file/secret+never0leak" };
const PUT_OK = { ShardId: "shardId-000000000000", SequenceNumber: "1" };
const VARS = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_KINESIS",
];
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

function setEnv(values: Record<string, string>): void {
  for (const v of VARS) delete process.env[v];
  Object.assign(process.env, values);
}

let dir: string;
let config: string;
let fake: Fake;
// Per request: the URL the client asked for, and the verifier's verdict for the region it names.
let seen: { url: string; verdict: string }[] = [];
let fetchCalls = 0;

// Records the URL the client chose, then sends the request to the loopback fake, which
// verifies the signature as that URL's host would (Host header of the regional endpoint).
const viaFake: FetchLike = (input, init) => {
  fetchCalls++;
  const url = String(input instanceof Request ? input.url : input);
  return fetch(fake.url, { ...init, headers: { ...init?.headers as object, "x-test-url": url } });
};

function verdict(req: FakeRequest): string {
  const url = new URL(String(req.headers["x-test-url"]));
  const region = /^kinesis\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  const headers: FakeRequest["headers"] = { ...req.headers, host: url.host };
  delete headers["x-test-url"];
  const r = verifySigV4(
    { method: req.method, path: req.path, headers, body: req.body },
    [CREDS],
    { region, service: "kinesis" },
  );
  return r.ok ? "ok" : r.code;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kpl-region-"));
  config = join(dir, "config");
  writeFileSync(
    config,
    "[default]\nregion = us-west-1\n\n[profile dev]\nregion = eu-west-2\n\n" +
      "[profile noregion]\noutput = json\n\n[profile bad]\nregion = eu-west-2.evil.example/\n",
  );
  fake = await startFake((req) => {
    seen.push({ url: String(req.headers["x-test-url"]), verdict: verdict(req) });
    return json(200, PUT_OK);
  });
});
after(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const v of VARS) delete process.env[v];
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  seen = [];
  fetchCalls = 0;
});

function client(options: { region?: string } = {}): KinesisClient {
  return new KinesisClient({ credentials: CREDS, fetch: viaFake, ...options });
}

const put = (c: KinesisClient) =>
  c.putRecord({ streamName: "s", partitionKey: "k", data: new Uint8Array([1, 2, 3]) });

describe("region from the shared config profile", () => {
  it("AWS_PROFILE + AWS_CONFIG_FILE: resolved on the first call, once, then signed for and sent there", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "dev" });
    const c = client();
    assert.equal(c.region, undefined);
    // Concurrent first calls share the one lookup and all land in eu-west-2.
    await Promise.all([put(c), put(c), put(c)]);
    assert.equal(c.region, "eu-west-2");
    assert.equal(c.endpoint?.href, "https://kinesis.eu-west-2.amazonaws.com/");
    assert.deepEqual(seen.map((s) => s.url), Array(3).fill(c.endpoint?.href));
    assert.deepEqual(seen.map((s) => s.verdict), ["ok", "ok", "ok"]);
    // Resolved once: a later AWS_PROFILE does not move this client.
    process.env.AWS_PROFILE = "default";
    await put(c);
    assert.equal(seen[3].url, "https://kinesis.eu-west-2.amazonaws.com/");
  });

  it("the default profile when AWS_PROFILE is unset", async () => {
    setEnv({ AWS_CONFIG_FILE: config });
    await put(client());
    assert.deepEqual(seen, [{ url: "https://kinesis.us-west-1.amazonaws.com/", verdict: "ok" }]);
  });

  it("the region option, then AWS_REGION, then AWS_DEFAULT_REGION beat the profile", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "dev", AWS_DEFAULT_REGION: "ca-central-1" });
    assert.equal(client().region, "ca-central-1");
    process.env.AWS_REGION = "ap-south-1";
    const fromEnv = client();
    assert.equal(fromEnv.region, "ap-south-1");
    const explicit = client({ region: "sa-east-1" });
    assert.equal(explicit.region, "sa-east-1");
    await put(fromEnv);
    await put(explicit);
    assert.deepEqual(seen, [
      { url: "https://kinesis.ap-south-1.amazonaws.com/", verdict: "ok" },
      { url: "https://kinesis.sa-east-1.amazonaws.com/", verdict: "ok" },
    ]);
  });

  it("no region anywhere: the call fails with MissingRegion naming every source, nothing sent", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "noregion" });
    const c = client(); // no throw: the profile is read on the first call
    for (let i = 0; i < 2; i++) {
      await assert.rejects(put(c), (e: unknown) => {
        assert.ok(e instanceof KinesisError);
        assert.equal(e.code, "MissingRegion");
        assert.equal(e.kind, "fatal");
        assert.equal(e.retryable, false);
        for (const source of ["`region` option", "AWS_REGION", "AWS_DEFAULT_REGION"]) {
          assert.ok(e.message.includes(source), `${source} named in: ${e.message}`);
        }
        assert.ok(
          e.message.includes(`profile "noregion" in ${config} (no region in that profile)`),
          e.message,
        );
        return true;
      });
    }
    setEnv({ AWS_CONFIG_FILE: join(dir, "absent"), AWS_PROFILE: "dev" });
    await assert.rejects(
      put(client()),
      (e: unknown) =>
        e instanceof KinesisError && e.code === "MissingRegion" &&
        e.message.includes(`profile "dev" in ${join(dir, "absent")}`) &&
        e.message.includes("does not exist"),
    );
    assert.equal(fetchCalls, 0);
  });

  it("explicit bad values still throw in the constructor; a bad profile region fails the call", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "bad" });
    assert.throws(
      () => client({ region: "us-east-1.evil.example/" }),
      (e: unknown) => e instanceof KinesisError && e.code === "InvalidRegion",
    );
    assert.throws(
      () => new KinesisClient({ credentials: CREDS, endpoint: "ftp://x" }),
      (e: unknown) => e instanceof KinesisError && e.code === "InvalidEndpoint",
    );
    await assert.rejects(
      put(client()),
      (e: unknown) =>
        e instanceof KinesisError && e.code === "InvalidRegion" &&
        e.message.includes(`from profile "bad" in ${config}`),
    );
    assert.equal(fetchCalls, 0);
  });

  it("an explicit endpoint is kept; the profile gives only the signing region", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "dev" });
    const c = new KinesisClient({
      credentials: CREDS,
      endpoint: "https://kinesis.eu-west-2.amazonaws.com",
      fetch: viaFake,
    });
    assert.equal(c.endpoint?.href, "https://kinesis.eu-west-2.amazonaws.com/");
    await put(c);
    assert.equal(c.region, "eu-west-2");
    assert.deepEqual(seen.map((s) => s.verdict), ["ok"]);
  });

  it("KinesisProducer: region from the profile delivers; without one, records go to onFailure", async () => {
    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "dev" });
    const ok = new KinesisProducer({ streamName: "s", credentials: CREDS, fetch: viaFake });
    await ok.put("hello");
    await ok.close();
    assert.ok(seen.length >= 1);
    assert.ok(seen.every((s) => s.url === "https://kinesis.eu-west-2.amazonaws.com/"));
    assert.ok(seen.every((s) => s.verdict === "ok"));

    setEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: "noregion" });
    const failures: DeliveryFailure[] = [];
    const none = new KinesisProducer({
      streamName: "s",
      credentials: CREDS,
      fetch: viaFake,
      onFailure: (f) => failures.push(f),
    });
    const records = ["a", "b", "c"];
    await Promise.all(records.map((r) => none.put(r)));
    await none.close();
    const failed = failures.flatMap((f) => f.records.map((r) => new TextDecoder().decode(r.data)));
    assert.deepEqual(failed.sort(), records);
    assert.ok(
      failures.every((f) => f.error instanceof KinesisError && f.error.code === "MissingRegion"),
    );
  });
});
