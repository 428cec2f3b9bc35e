/**
 * The package as a user gets it: `deno task build:npm`, `npm pack`, then the
 * tarball installed into an empty project and its `kinesis-ship` bin run from
 * another directory (paths resolve from there) against the embedded emulator;
 * `npx ./<tarball>` as the README says; `require()` and `import` of every
 * subpath. Node runs it all; any runtime warning on stderr fails the test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ROOT, tempDir } from "../cli/run_ship.ts";

const run = promisify(execFile);

/** Runs a command; resolves with its output and exit code, never rejects on a non-zero exit. */
async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? cwd, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(err.code ?? 1), stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ i, pad: "x".repeat(40) })).join("\n") +
  "\n";

describe("the npm package, installed from its tarball", () => {
  let tarball: string;
  let project: string;
  let elsewhere: string;
  before(async () => {
    const built = await sh(process.execPath, ["task", "build:npm"], ROOT);
    assert.equal(built.code, 0, built.stderr);
    const packDir = tempDir();
    const packed = await sh("npm", ["pack", "--pack-destination", packDir], join(ROOT, "npm"));
    assert.equal(packed.code, 0, packed.stderr);
    tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz"))!);
    project = tempDir();
    writeFileSync(join(project, "package.json"), '{ "name": "user-project", "private": true }\n');
    const installed = await sh(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball],
      project,
    );
    assert.equal(installed.code, 0, installed.stderr);
    elsewhere = tempDir();
    mkdirSync(join(elsewhere, "logs"));
    writeFileSync(join(elsewhere, "logs", "app.ndjson"), lines(20_000));
  });

  it("its kinesis-ship bin ships a file named relative to the caller's directory, without warnings", async () => {
    const bin = join(project, "node_modules", ".bin", "kinesis-ship");
    const r = await sh(
      bin,
      ["--local", "logs/app.ndjson", "--chunk-limit", "16k", "--json"],
      elsewhere,
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.recordsDelivered, 20_000);
    assert.equal(summary.verify.ok, true);
    assert.ok(summary.chunks > 20, `${summary.chunks} chunks: many calls in flight`);
    assert.doesNotMatch(r.stderr, /Warning/, "no runtime warning (MaxListenersExceededWarning…)");
  });

  it("npx ./<tarball> --local FILE works from the tarball's directory", async () => {
    const dir = join(tarball, "..");
    writeFileSync(join(dir, "file.ndjson"), lines(10));
    const r = await sh(
      "npx",
      ["-y", `./${tarball.split("/").pop()}`, "--local", "file.ndjson"],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /delivered 10 of 10 records/);
    assert.match(r.stderr, /verified: read back 10 records/);
  });

  it("loads with require() and import, every subpath", async () => {
    const cjs = await sh("node", [
      "-e",
      'const m = require("@kpl/kinesis-producer"); const f = require("@kpl/kinesis-producer/format");' +
      'const a = require("@kpl/kinesis-producer/aws");' +
      'const n = require("@kpl/kinesis-producer/node");' +
      "console.log(typeof m.KinesisProducer, typeof f.aggregate, typeof a.KinesisClient, " +
      "typeof n.toNodeWritable)",
    ], project);
    assert.equal(cjs.code, 0, cjs.stderr);
    assert.equal(cjs.stdout.trim(), "function function function function");
    assert.doesNotMatch(cjs.stderr, /Warning/);
    const esm = await sh("node", [
      "--input-type=module",
      "-e",
      'import { aggregate, deaggregate } from "@kpl/kinesis-producer";' +
      'const [a] = aggregate([{ data: new TextEncoder().encode("hi") }]);' +
      "console.log(deaggregate(a.data, a.partitionKey).length)",
    ], project);
    assert.equal(esm.code, 0, esm.stderr);
    assert.equal(esm.stdout.trim(), "1");
  });
});
