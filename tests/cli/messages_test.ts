/**
 * The CLI as a new user meets it: one subprocess per message, the wording
 * checked loosely, the exit code exactly.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, tempDir } from "./run_ship.ts";

describe("ship: messages for a new user", () => {
  let sink: Sink;
  before(async () => (sink = await startSink()));
  after(() => sink.close());

  it("an unknown flag names the nearest known one (exit 2)", async () => {
    const r = await runShip(["--num_thread", "4"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --num_thread.*did you mean --num_threads/i);
  });

  it("--config reads the seed's names, flags win, and its errors name the file (exit 2)", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "ship.conf"),
      `# written by hand\ntype = kinesis-aggregation\nstream_name = from-file\n` +
        `endpoint = ${sink.endpoint}\nbuffer_chunk_limit = 300k\nnum_threads = lots\n`,
    );
    const bad = await runShip(["--config", "ship.conf"], { cwd: dir, stdin: "a\n" });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /num_threads in --config ship\.conf/);
    const calls = sink.calls;
    const ok = await runShip(["--config", "ship.conf", "--num-threads", "2", "--json"], {
      cwd: dir,
      stdin: "a\nb\n",
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(sink.calls > calls);
    const fluentd = join(dir, "fluentd.conf");
    writeFileSync(fluentd, "stream_name logs\n");
    const style = await runShip(["--config", fluentd]);
    assert.equal(style.code, 2);
    assert.match(style.stderr, /stream_name = <value>/);
  });

  it("a --chunk-limit too small to aggregate is a warning, not an error", async () => {
    const r = await runShip(
      ["--endpoint", sink.endpoint, "--stream-name", "s", "--chunk-limit", "100"],
      { stdin: "a\n" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --chunk-limit 100 is too small to aggregate/);
  });
});
