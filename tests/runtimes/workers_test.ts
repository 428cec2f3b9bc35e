/**
 * The example Worker, bundled by scripts/build_worker.ts, running in workerd
 * through miniflare. Its PutRecords go to kinesis-mock on loopback; the test
 * reads the stream back and deaggregates it.
 *
 * Runs under Deno (`deno task test:workers`, and in `deno test -A tests/`) and
 * under Node 20 (`deno task test:node`, compiled into .build/). miniflare
 * 4.20260426.0 is the last release that runs on Node 20. Skipped under Bun.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { Miniflare } from "miniflare";
import { buildWorker, type WorkerBundle } from "../../scripts/build_worker.ts";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";
import { clientFor, DUMMY_CREDENTIALS, readStream, repoRoot, runtime } from "./support.ts";
import { readStream as readRawRecords } from "../../aws.ts";

const dec = new TextDecoder();

function ndjson(n: number, tag: string): string[] {
  return Array.from(
    { length: n },
    (_, i) => JSON.stringify({ i, tag, text: `zażółć ${"λ".repeat(i % 50)}` }),
  );
}

describe("Cloudflare Worker example in workerd (miniflare) → kinesis-mock", {
  skip: runtime === "bun" && "miniflare is run under Deno and Node",
}, () => {
  let mock: KinesisMock;
  let mf: Miniflare;
  let bundle: WorkerBundle;
  let dir: string;

  /**
   * The module is listed explicitly: with `modules: true` miniflare walks the
   * imports and refuses the bundle's non-literal `import(UNDICI)` (the Node
   * proxy path, never taken in Workers). modulesRoot is the bundle's own
   * directory, so the module name has no `..`, which miniflare also refuses.
   */
  function workerOptions(streamName: string) {
    return {
      modulesRoot: dir,
      modules: [{
        type: "ESModule" as const,
        path: bundle.path,
        contents: readFileSync(bundle.path),
      }],
      compatibilityDate: "2026-04-01",
      bindings: {
        STREAM_NAME: streamName,
        AWS_REGION: mock.region,
        KINESIS_ENDPOINT: mock.endpoint,
        // Secrets in production (wrangler secret put); plain bindings here.
        AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
      },
    };
  }

  let cleaned = false;
  async function cleanUp(): Promise<void> {
    if (cleaned) return;
    cleaned = true;
    await mf?.dispose();
    await mock?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }

  before(async () => {
    // Deno's node:test skips after() when before() throws: clean up here too.
    try {
      dir = mkdtempSync(`${tmpdir()}/kpl-worker-`);
      bundle = await buildWorker({ outfile: `${dir}/worker.js` });
      mock = await startKinesisMock({
        streams: [{ name: "worker-sync", shards: 2 }, { name: "worker-async", shards: 2 }],
      });
      mf = new Miniflare(workerOptions("worker-sync"));
      await mf.ready;
    } catch (error) {
      await cleanUp();
      throw error;
    }
  });

  after(cleanUp);

  it("the bundle has no node: imports and stays small", () => {
    // buildWorker throws on a node: import; this pins the size within reason.
    assert.ok(bundle.bytes < 256 * 1024, `bundle is ${bundle.bytes} bytes`);
  });

  it("ships a POSTed NDJSON body as aggregates and reports delivery", async () => {
    const lines = ndjson(2000, "sync");
    const res = await mf.dispatchFetch("http://worker.test/", {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: lines.join("\n") + "\n",
    });
    const body = await res.json() as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.delivered, 2000);
    assert.equal(body.failed, 0);
    assert.ok((body.putRecordCalls as number) >= 1);

    const back = await readStream(
      { endpoint: mock.endpoint, region: mock.region, streamName: "worker-sync" },
      { expect: lines.length },
    );
    assert.equal(back.kinesisRecords, body.putRecordCalls);
    assert.ok(back.records.every((r) => r.aggregated));
    assert.deepEqual(back.records.map((r) => dec.decode(r.data)).sort(), [...lines].sort());
  });

  it("with Prefer: respond-async answers 202 and delivers in waitUntil", async () => {
    await mf.setOptions(workerOptions("worker-async"));
    const lines = ndjson(500, "async");
    const res = await mf.dispatchFetch("http://worker.test/", {
      method: "POST",
      headers: { prefer: "respond-async" },
      body: lines.join("\n"),
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: 500, rejected: [] });

    const back = await readStream(
      { endpoint: mock.endpoint, region: mock.region, streamName: "worker-async" },
      { expect: lines.length },
    );
    assert.deepEqual(back.records.map((r) => dec.decode(r.data)).sort(), [...lines].sort());
  });

  it("refuses anything but POST", async () => {
    const res = await mf.dispatchFetch("http://worker.test/");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await res.text();
  });
});

describe(
  "issue-17 features in workerd: writable, deliver(), gzip, DeaggregationStream, EMF, SDK errors",
  {
    skip: runtime === "bun" && "miniflare is run under Deno and Node",
  },
  () => {
    let mock: KinesisMock;
    let mf: Miniflare;
    let dir: string;

    before(async () => {
      try {
        dir = mkdtempSync(`${tmpdir()}/kpl-feature-worker-`);
        const bundle = await buildWorker({
          entry: `${repoRoot()}/tests/runtimes/feature_worker.ts`,
          outfile: `${dir}/feature.js`,
        });
        mock = await startKinesisMock({ streams: [{ name: "features", shards: 2 }] });
        mf = new Miniflare({
          modulesRoot: dir,
          modules: [{ type: "ESModule", path: bundle.path, contents: readFileSync(bundle.path) }],
          compatibilityDate: "2026-04-01",
          bindings: {
            STREAM_NAME: "features",
            AWS_REGION: mock.region,
            KINESIS_ENDPOINT: mock.endpoint,
            AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
          },
        });
        await mf.ready;
      } catch (error) {
        await mf?.dispose();
        await mock?.stop();
        throw error;
      }
    });

    after(async () => {
      await mf?.dispose();
      await mock?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("pipes a request body into producer.writable with gzip, and reads it back through DeaggregationStream", async () => {
      const lines = ndjson(800, "features");
      const res = await mf.dispatchFetch("http://worker.test/produce", {
        method: "POST",
        body: lines.join("\n") + "\n",
      });
      const body = await res.json() as {
        delivery: {
          shardId: string;
          sequenceNumber: string;
          subSequenceNumber: number;
          attempts: number;
        };
        failures: string[];
        recordsDelivered: number;
        compressionBytesIn: number;
        compressionBytesOut: number;
        emf: string;
        disposable: boolean;
      };
      assert.deepEqual(body.failures, []);
      assert.equal(body.recordsDelivered, 801);
      assert.match(body.delivery.shardId, /^shardId-/);
      assert.equal(body.delivery.subSequenceNumber, 0, "the first record of its aggregate");
      assert.equal(body.delivery.attempts, 1);
      assert.ok(body.compressionBytesOut < body.compressionBytesIn);
      assert.equal(JSON.parse(body.emf).RecordsDelivered, 801);
      assert.ok(body.disposable, "Symbol.asyncDispose exists in workerd");

      // Read the raw Kinesis records back (GetRecords JSON shape, base64 Data), add a corrupt one.
      const loc = { endpoint: mock.endpoint, region: mock.region, streamName: "features" };
      const client = clientFor(loc);
      const raw: { Data: string; PartitionKey: string; SequenceNumber: string }[] = [];
      for (let tries = 0; tries < 50; tries++) {
        raw.length = 0;
        for await (const { record } of readRawRecords(client, { streamName: "features" })) {
          raw.push({
            Data: btoa(String.fromCharCode(...record.data)),
            PartitionKey: record.partitionKey,
            SequenceNumber: record.sequenceNumber,
          });
        }
        if (raw.length > 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const bad = Uint8Array.from(atob(raw[0].Data), (c) => c.charCodeAt(0));
      bad[bad.length - 1] ^= 1;
      raw.push({
        Data: btoa(String.fromCharCode(...bad)),
        PartitionKey: "k",
        SequenceNumber: "bad",
      });
      const back = await (await mf.dispatchFetch("http://worker.test/consume", {
        method: "POST",
        body: JSON.stringify(raw),
      })).json() as { text: string; sequenceNumber: string; error?: string }[];
      const good = back.filter((r) => r.sequenceNumber !== "bad");
      assert.ok(good.every((r) => r.error === undefined));
      assert.deepEqual(good.map((r) => r.text).sort(), [...lines, "delivered first"].sort());
      const reported = back.filter((r) => r.sequenceNumber === "bad");
      assert.deepEqual(reported.map((r) => r.error), ["AggregateFormatError"]);
      const first = good.find((r) => r.text === "delivered first")!;
      assert.equal(first.sequenceNumber, body.delivery.sequenceNumber);
    });

    it("KinesisError has the SDK's name and $metadata in workerd", async () => {
      const res = await mf.dispatchFetch("http://worker.test/error");
      assert.deepEqual(await res.json(), {
        name: "ResourceNotFoundException",
        metadata: { httpStatusCode: 400, requestId: "r-1", attempts: 1, totalRetryDelay: 0 },
      });
    });
  },
);
