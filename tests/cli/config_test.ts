import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, tempDir } from "./run_ship.ts";

const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRET";

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^error: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe("ship: configuration and input errors", () => {
  let sink: Sink;
  before(async () => (sink = await startSink()));
  after(() => sink.close());

  it("--help is complete and short, exit 0", async () => {
    const r = await runShip(["--help"]);
    assert.equal(r.code, 0);
    for (
      const flag of [
        "--stream-name",
        "--region",
        "--aws-key-id",
        "--aws-sec-key",
        "--role-arn",
        "--external-id",
        "--http-proxy",
        "--fixed-partition-key",
        "--num-threads",
        "--chunk-limit",
        "--debug",
        "--endpoint",
        "--protocol",
        "--linger",
        "--max-retries",
        "--dead-letter",
        "--replay",
        "--json",
        "--local",
        "--listen",
        "--keep-empty",
        "--request-timeout",
        "--deadline",
        "--buffer-size",
        "--max-records",
        "--follow",
        "--checkpoint",
        "--spool",
        "--listen-ack",
        "--start-over",
        "Exit codes",
      ]
    ) assert.ok(r.stdout.includes(flag), flag);
    assert.ok(r.stdout.split("\n").length < 90, "short");
  });

  it("bad flags exit 2 with one line", async () => {
    for (
      const argv of [
        ["--bogus"],
        ["--chunk-limit", "5m", "--local"],
        ["--protocol", "xml"],
        ["--num-threads", "-3"],
      ]
    ) {
      const r = await runShip(argv);
      assert.equal(r.code, 2, argv.join(" "));
      oneLine(r.stderr);
    }
  });

  it("an unknown flag names the nearest known one, exit 2", async () => {
    const r = await runShip(["--strem_name", "s", "--local"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--strem_name.*did you mean --stream_name\?/);
    oneLine(r.stderr);
  });

  it("the seed plugin's names work as flags", async () => {
    const own = await startSink();
    const r = await runShip(
      ["--endpoint", own.endpoint, "--stream_name", "seed", "--buffer_chunk_limit", "300k"],
      { stdin: "a\nb\n" },
    );
    await own.close();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(own.calls > 0);
  });

  it("missing stream name, region, or credentials exit 2 before reading input", async () => {
    const noStream = await runShip(["--endpoint", sink.endpoint]);
    assert.equal(noStream.code, 2);
    assert.match(noStream.stderr, /--stream-name/);
    oneLine(noStream.stderr);

    const noRegion = await runShip(["--endpoint", sink.endpoint, "--stream-name", "s"], {
      env: { AWS_REGION: undefined },
    });
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.stderr, /region/);
    oneLine(noRegion.stderr);

    const noCreds = await runShip([
      "--endpoint",
      sink.endpoint,
      "--stream-name",
      "s",
      "/nonexistent",
    ], {
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    });
    assert.equal(noCreds.code, 2, "credentials are checked before the input is opened");
    assert.match(noCreds.stderr, /credentials/i);
    oneLine(noCreds.stderr);
    assert.equal(sink.calls, 0);
  });

  it("a missing or unreadable input exits 3 with one line, shipping nothing", async () => {
    const dir = tempDir();
    const missing = await runShip([
      "--endpoint",
      sink.endpoint,
      "--stream-name",
      "s",
      join(dir, "nope.log"),
    ]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /nope\.log: no such file/);
    oneLine(missing.stderr);
    const directory = await runShip(["--endpoint", sink.endpoint, "--stream-name", "s", dir]);
    assert.equal(directory.code, 3);
    oneLine(directory.stderr);
    assert.equal(sink.calls, 0);
  });

  it("never prints the secret key: not with --debug, not in errors; warns about the flag", async () => {
    const failing = await startSink({
      fault: () => ({ status: 400, type: "AccessDeniedException" }),
    });
    const dir = tempDir();
    for (const endpoint of [sink.endpoint, failing.endpoint]) {
      const r = await runShip([
        "--endpoint",
        endpoint,
        "--stream-name",
        "s",
        "--aws-key-id",
        "AKIDFLAG",
        "--aws-sec-key",
        SECRET,
        "--debug",
        "--dead-letter",
        join(dir, "dl.ndjson"),
      ], {
        stdin: "a\nb\n",
        env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
      });
      const all = r.stdout + r.stderr;
      assert.ok(!all.includes(SECRET), all);
      assert.ok(!all.includes(SECRET.slice(0, 12)), all);
      assert.match(r.stderr, /warning: --aws-sec-key/);
      assert.match(r.stderr, /kinesis\.PutRecord status=/, "--debug logs the calls");
    }
    await failing.close();
    const usage = await runShip(["--aws-sec-key", SECRET]);
    assert.equal(usage.code, 2);
    assert.ok(!usage.stderr.includes(SECRET));
  });
});
