/**
 * The CLI as a single binary, run once against kinesis-mock: every record
 * read back. `deno task compile:bun` (bun build --compile) builds here;
 * `deno task compile` (deno compile) needs Deno's `denort` runtime, downloaded
 * on first use, so its binary is tested where that download works and the
 * test says why it skips where it does not.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { KinesisClient } from "../../src/aws/kinesis_client.ts";
import { type KinesisMock, startKinesisMock } from "../../src/cli/kinesis_mock.ts";
import { LOCAL_CREDENTIALS } from "../../src/cli/local.ts";
import { readBack } from "../../src/cli/verify.ts";
import { ROOT, tempDir } from "../cli/run_ship.ts";

const run = promisify(execFile);

async function task(name: string): Promise<{ ok: boolean; stderr: string }> {
  try {
    await run(process.execPath, ["task", name], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, stderr: "" };
  } catch (e) {
    return { ok: false, stderr: String((e as { stderr?: string }).stderr ?? e) };
  }
}

const deno = await task("compile");
const denoSkip = deno.ok
  ? false
  : `deno compile could not build here: ${
    /denort|dl\.deno\.land|download/i.test(deno.stderr)
      ? "its denort runtime cannot be downloaded"
      : deno.stderr.slice(-300)
  }`;

describe("the compiled CLI against kinesis-mock", () => {
  let mock: KinesisMock;
  let dir: string;
  before(async () => {
    mock = await startKinesisMock({ streams: [{ name: "binary", shards: 2 }] });
    dir = tempDir();
    writeFileSync(
      join(dir, "in.ndjson"),
      Array.from({ length: 500 }, (_, i) => `{"n":${i}}`).join("\n") + "\n",
    );
  });
  after(() => mock?.stop());

  async function shipWith(binary: string, stream: string): Promise<void> {
    assert.ok(existsSync(binary), binary);
    const { stdout } = await run(binary, [
      "--endpoint",
      mock.endpoint,
      "--region",
      mock.region,
      "--stream-name",
      stream,
      "--json",
      "in.ndjson",
    ], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: "true",
      },
    });
    const summary = JSON.parse(stdout);
    assert.equal(summary.recordsDelivered, 500);
    const client = new KinesisClient({
      region: mock.region,
      endpoint: mock.endpoint,
      credentials: LOCAL_CREDENTIALS,
    });
    const back = await readBack(client, stream);
    assert.ok(back.digest.count >= 500, `${back.digest.count} records read back`);
  }

  it("bun build --compile: one file, ships and reads back", async () => {
    const built = await task("compile:bun");
    assert.ok(built.ok, built.stderr);
    const binary = join(ROOT, ".build", "kinesis-ship-bun");
    assert.ok(statSync(binary).size > 1_000_000);
    await shipWith(binary, "binary");
  });

  it("deno compile: one file, ships and reads back", { skip: denoSkip }, async () => {
    await shipWith(join(ROOT, ".build", "kinesis-ship"), "binary");
  });
});
