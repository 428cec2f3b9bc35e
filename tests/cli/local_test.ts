import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, runShip } from "./run_ship.ts";

// kinesis-mock takes a few seconds to start and ships about 14 PutRecord/s: one small run.
describe("ship --local", () => {
  it("ships the sample, reads every shard back, and verifies count and digest", async () => {
    const r = await runShip(["--local", "--json", join(ROOT, "examples/sample.ndjson")], {
      env: {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_REGION: undefined,
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.recordsDelivered, 320);
    assert.equal(s.verify.ok, true);
    assert.equal(s.verify.recordsReadBack, 320);
    assert.equal(s.verify.expectedDigest, s.verify.actualDigest);
    assert.equal(r.stderr, "", "no progress or summary on a non-terminal stderr with --json");
  });
});
