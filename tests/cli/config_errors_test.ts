import assert from "node:assert/strict";
import { it } from "node:test";
import { runShip } from "./run_ship.ts";

it("every configuration error exits 2 with one line, never a stack trace", async () => {
  const cases: string[][] = [
    ["--role-arn", "notanarn"],
    ["--role-arn", "arn:aws:s3:::bucket"],
    ["--endpoint", "notaurl"],
    ["--region", "bad/region"],
    ["--http-proxy", "ftp://proxy"],
    ["--dead-letter", "/nonexistent-dir/sub/dl.ndjson"],
    ["--listen", "0.0.0.0:0"],
    ["--listen", ":0", "--listen-token-file", "/nonexistent-token"],
    ["--fixed-partition-key", ""],
    ["--num-threads", "0"],
  ];
  for (const args of cases) {
    const r = await runShip(["--stream-name", "s", ...args], { env: { AWS_REGION: "us-east-1" } });
    const what = args.join(" ");
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0], /^error: \S/, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, what);
  }
});
