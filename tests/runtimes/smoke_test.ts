/**
 * The same smoke test in every runtime (hono's runtime-tests pattern): against
 * kinesis-mock on loopback, aggregate → PutRecord → GetRecords → deaggregate,
 * then run this runtime's README snippet (examples/deno.ts, examples/bun.ts,
 * examples/node.mjs) and read its records back.
 *
 * - Deno (`deno test -A tests/`): the library from source; examples/deno.ts
 *   imports "@kpl/kinesis-producer", which Deno maps to this package's mod.ts.
 * - Bun (`deno task test:bun`) and Node (`deno task test:node`, compiled
 *   against the build): the snippet imports "@kpl/kinesis-producer", the npm
 *   package built into npm/, linked from a staging directory in .build/.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { aggregate, type UserRecord } from "../../mod.ts";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";
import {
  cleanEnv,
  clientFor,
  DUMMY_CREDENTIALS,
  readStream,
  repoRoot,
  run,
  runtime,
} from "./support.ts";

const root = repoRoot();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The command that runs this runtime's README snippet. */
function snippetCommand(): { cmd: string; args: string[] } {
  if (runtime === "deno") {
    return { cmd: process.execPath, args: ["run", "-A", `${root}/examples/deno.ts`] };
  }
  // Bun and Node resolve "@kpl/kinesis-producer" from node_modules next to the
  // file: stage it beside a link to the built package.
  if (!existsSync(`${root}/npm/esm/mod.js`)) {
    throw new Error("npm/ is not built: run `deno task build:npm` first");
  }
  const file = runtime === "bun" ? "bun.ts" : "node.mjs";
  const dir = `${root}/.build/examples-${runtime}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/node_modules/@kpl`, { recursive: true });
  symlinkSync(`${root}/npm`, `${dir}/node_modules/@kpl/kinesis-producer`, "dir");
  copyFileSync(`${root}/examples/${file}`, `${dir}/${file}`);
  return { cmd: process.execPath, args: [`${dir}/${file}`] };
}

describe(`smoke test under ${runtime}: kinesis-mock round trip`, () => {
  let mock: KinesisMock;
  before(async () => {
    mock = await startKinesisMock({
      streams: [{ name: "smoke", shards: 2 }, { name: "snippet", shards: 2 }],
    });
  });
  after(async () => {
    await mock?.stop();
  });

  it("aggregate, PutRecord, GetRecords, deaggregate: every record comes back intact", async () => {
    const loc = { endpoint: mock.endpoint, region: mock.region, streamName: "smoke" };
    const client = clientFor(loc);
    const records: UserRecord[] = [];
    for (let i = 0; i < 600; i++) {
      records.push({ data: enc.encode(`${runtime} record ${i} ${"x".repeat(i % 97)}`) });
    }
    // A 16 KiB target forces several aggregates, so more than one PutRecord.
    const aggregates = aggregate(records, { targetBytes: 16 * 1024 });
    assert.ok(aggregates.length > 1, `expected several aggregates, got ${aggregates.length}`);
    for (const agg of aggregates) {
      const out = await client.putRecord({
        streamName: loc.streamName,
        data: agg.data,
        partitionKey: agg.partitionKey,
        explicitHashKey: agg.explicitHashKey,
      });
      assert.match(out.shardId, /^shardId-/);
    }
    const back = await readStream(loc, { expect: records.length });
    assert.equal(back.kinesisRecords, aggregates.length);
    assert.equal(back.records.length, records.length);
    assert.ok(back.records.every((r) => r.aggregated));
    const sent = records.map((r) => dec.decode(r.data)).sort();
    const got = back.records.map((r) => dec.decode(r.data)).sort();
    assert.deepEqual(got, sent);
  });

  it(`the README snippet for ${runtime} ships 1,000 records that read back intact`, async () => {
    const { cmd, args } = snippetCommand();
    const result = await run(cmd, args, {
      cwd: root,
      env: cleanEnv({
        STREAM_NAME: "snippet",
        AWS_REGION: mock.region,
        AWS_ENDPOINT_URL_KINESIS: mock.endpoint,
        AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
        // No shared files, so the default chain stops at the environment.
        AWS_CONFIG_FILE: `${root}/.build/no-such-aws-config`,
        AWS_SHARED_CREDENTIALS_FILE: `${root}/.build/no-such-aws-credentials`,
      }),
    });
    assert.equal(result.code, 0, `snippet failed:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /delivered 1000 records in \d+ PutRecord calls/);
    const loc = { endpoint: mock.endpoint, region: mock.region, streamName: "snippet" };
    const back = await readStream(loc, { expect: 1000 });
    const seen = back.records.map((r) =>
      JSON.parse(dec.decode(r.data)) as { i: number; runtime: string }
    );
    assert.equal(seen.length, 1000);
    assert.deepEqual(seen.map((r) => r.i).sort((a, b) => a - b), [...Array(1000).keys()]);
    assert.ok(seen.every((r) => r.runtime === runtime));
  });
});
