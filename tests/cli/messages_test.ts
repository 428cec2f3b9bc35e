/**
 * The CLI as a new user meets it: one subprocess per message, the wording
 * checked loosely, the exit code exactly.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { promisify } from "node:util";
import { MAIN, ROOT, runShip, shipEnv, tempDir } from "./run_ship.ts";

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `{"i":${i}}`).join("\n") + "\n";

describe("ship: failures that say why", () => {
  it("a refused endpoint stops early with the cause and a hint; every record is dead-lettered (exit 1)", async () => {
    const port = await closedPort();
    const dir = tempDir();
    const started = Date.now();
    const r = await runShip(
      ["--endpoint", `http://127.0.0.1:${port}`, "--stream-name", "s", "--chunk-limit", "4k"],
      { cwd: dir, stdin: lines(5000) },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.ok(Date.now() - started < 20_000, "fails fast, not after every retry");
    assert.match(
      r.stderr,
      /stopped early.*connection refused \(ECONNREFUSED\) to 127\.0\.0\.1:\d+/,
    );
    assert.match(r.stderr, /hint: .*--endpoint/);
    assert.match(r.stderr, /5,000 records failed: .*connection refused/);
    assert.match(r.stderr, /dead letters: kinesis-dead-letters\.ndjson/);
    const dead = readFileSync(join(dir, "kinesis-dead-letters.ndjson"), "utf8").trimEnd().split(
      "\n",
    );
    assert.equal(dead.length, 5000);
    assert.match(dead[0], /connection refused \(ECONNREFUSED\)/);
  });

  it("an endpoint that accepts and never answers stops early after a chunk's third attempt (exit 1)", async () => {
    // Takes the connection and the request, never answers.
    const held: Socket[] = [];
    const silent = createServer((socket) => {
      held.push(socket);
      socket.on("data", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await runShip(
        [
          "--endpoint",
          `http://127.0.0.1:${port}`,
          "--stream-name",
          "s",
          "--request-timeout",
          "300ms",
          "--json",
        ],
        { stdin: lines(2000) },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /stopped early.*no complete response within 300 ms/);
      assert.match(r.stderr, /hint: .*never answers/);
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.recordsFailed, 2000);
      assert.equal(summary.stoppedEarly.attempts >= 3, true);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("a host name that does not resolve is named as such (exit 1)", async () => {
    const r = await runShip(
      ["--endpoint", "http://kinesis.nowhere.invalid:4567", "--stream-name", "s"],
      { stdin: lines(10) },
    );
    assert.equal(r.code, 1, r.stderr);
    // ENOTFOUND where a resolver answers; EAI_AGAIN (transient: retried, no early stop) where none does.
    assert.match(
      r.stderr,
      /DNS (?:name not found \(ENOTFOUND\)|lookup failed temporarily \(EAI_AGAIN\))/,
    );
    if (/ENOTFOUND/.test(r.stderr)) {
      assert.match(r.stderr, /stopped early.*hint: .*does not resolve/s);
    }
  });

  it("one chunk refused keeps its retries; the dead letter and --debug name the cause", async () => {
    const port = await closedPort();
    const r = await runShip(
      [
        "--endpoint",
        `http://127.0.0.1:${port}`,
        "--stream-name",
        "s",
        "--max-retries",
        "1",
        "--debug",
      ],
      { stdin: "a\n" },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /stopped early/);
    assert.match(
      r.stderr,
      /retry=1 error=NetworkError cause="request failed: connection refused \(ECONNREFUSED\)/,
    );
    assert.match(
      r.stderr,
      /1 record failed: connection refused \(ECONNREFUSED\).*\(after 2 attempts\)/,
    );
  });

  it("access denied and stream not found stop early with their hint (exit 1)", async () => {
    for (
      const [type, said, hint] of [
        ["AccessDeniedException", /access denied/, /IAM policy/],
        ["ResourceNotFoundException", /stream not found/, /--stream-name and --region/],
      ] as const
    ) {
      const failing = await startSink({ fault: () => ({ status: 400, type }) });
      const r = await runShip(
        ["--endpoint", failing.endpoint, "--stream-name", "s", "--chunk-limit", "4k", "--json"],
        { stdin: lines(3000) },
      );
      const calls = failing.calls;
      await failing.close();
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, said);
      assert.match(r.stderr, hint);
      assert.ok(calls < 20, `${calls} calls: stopped early`);
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.recordsFailed, 3000);
      assert.match(summary.stoppedEarly.reason, said);
      assert.ok(summary.failureReasons.length >= 1);
    }
  });

  it("transient faults keep their retries and do not stop the run", async () => {
    const flaky = await startSink({
      fault: (n) => n < 4 ? { status: 500, type: "InternalFailure" } : undefined,
    });
    const r = await runShip(["--endpoint", flaky.endpoint, "--stream-name", "s"], {
      stdin: lines(100),
    });
    await flaky.close();
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /stopped early/);
  });
});

describe("ship: endpoint and proxy URL mistakes (exit 2)", () => {
  it("quote the value, hide a password and suggest the fix", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["--endpoint", "localhost:4566"],
        {},
        /"localhost:4566".*did you mean http:\/\/localhost:4566\?/,
      ],
      [
        [],
        { AWS_ENDPOINT_URL: "localhost:4566" },
        /from AWS_ENDPOINT_URL.*did you mean http:\/\/localhost:4566/,
      ],
      [["--endpoint", "http://me:hunter2@localhost:4566"], {}, /me:\*\*\*@localhost.*user info/],
      [
        ["--http-proxy", "squid:3128"],
        {},
        /--http-proxy "squid:3128".*did you mean http:\/\/squid:3128\?/,
      ],
    ];
    for (const [flags, env, message] of cases) {
      const r = await runShip(["--stream-name", "s", ...flags], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!r.stderr.includes("hunter2"));
    }
  });
});

describe("ship: progress on a terminal", () => {
  // util-linux `script` gives the CLI a pseudo-terminal, so it draws progress.
  const hasScript = existsSync("/usr/bin/script");
  it(
    "shows the problem of the moment while it lasts",
    { skip: !hasScript && "no /usr/bin/script" },
    async () => {
      // The first 12 calls are throttled, then all is fine; answers come slowly so progress is drawn.
      const sink = await startSink({
        delayMs: 100,
        fault: (n) =>
          n < 12 ? { status: 400, type: "ProvisionedThroughputExceededException" } : undefined,
      });
      const dir = tempDir();
      writeFileSync(join(dir, "in.ndjson"), lines(3000));
      const deno = `${process.execPath} run -A --config ${join(ROOT, "deno.json")} ${MAIN}`;
      const command = `${deno} --endpoint ${sink.endpoint} --stream-name s --linger 10ms ` +
        `--chunk-limit 4k in.ndjson`;
      const { stdout } = await promisify(execFile)("/usr/bin/script", [
        "-qec",
        command,
        "/dev/null",
      ], {
        cwd: dir,
        env: shipEnv(),
      });
      await sink.close();
      assert.match(stdout, /retrying: throttled ×\d+/);
      assert.match(stdout, /delivered 3,000 of 3,000 records/);
    },
  );
});

describe("ship: credentials and region", () => {
  it("when the credential chain fails, the error lists every source and why (exit 2)", async () => {
    // An instance-metadata address that answers 403 to everything, as some networks do.
    const imds = createHttpServer((_req, res) => {
      res.writeHead(403);
      res.end("forbidden");
    });
    await new Promise<void>((r) => imds.listen(0, "127.0.0.1", r));
    const port = (imds.address() as { port: number }).port;
    const r = await runShip(["--endpoint", "http://127.0.0.1:9", "--stream-name", "s"], {
      env: {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_EC2_METADATA_DISABLED: undefined,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`,
      },
    });
    await new Promise<void>((r) => imds.close(() => r()));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /credentials/i);
    assert.match(r.stderr, /403/);
    for (const source of ["environment", "shared files", "web identity", "container"]) {
      assert.ok(r.stderr.includes(source), `${source} named: ${r.stderr}`);
    }
  });

  it("the region comes from the profile in ~/.aws/config when no flag or variable sets it", async () => {
    const sink = await startSink();
    const home = tempDir();
    mkdirSync(join(home, ".aws"));
    writeFileSync(join(home, ".aws", "config"), "[profile ship]\nregion = eu-west-1\n");
    const r = await runShip(["--endpoint", sink.endpoint, "--stream-name", "s", "--debug"], {
      env: {
        HOME: home,
        AWS_PROFILE: "ship",
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
      },
      stdin: "a\n",
    });
    await sink.close();
    assert.equal(r.code, 0, r.stderr);
    const none = await runShip(["--endpoint", "http://127.0.0.1:9", "--stream-name", "s"], {
      env: { HOME: tempDir(), AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined },
    });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Missing --region.*~\/\.aws\/config/);
  });
});

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
