import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HELP, parseArgs, parseDuration, parseSize, suggestFlag } from "../../src/cli/args.ts";
import { DeadLetterFile, formatDeadLetter, parseDeadLetter } from "../../src/cli/dead_letter.ts";
import { parseConfig } from "../../src/cli/config_file.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { type LineEvent, LineSplitter } from "../../src/cli/lines.ts";
import { StopSwitch } from "../../src/cli/stop.ts";
import { RecordDigest } from "../../src/cli/verify.ts";
import { tempDir } from "./run_ship.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function split(chunks: string[], max = 1024): LineEvent[] {
  const s = new LineSplitter({ maxLineBytes: max });
  const out: LineEvent[] = [];
  for (const c of chunks) for (const e of s.feed(enc.encode(c))) out.push(copy(e));
  for (const e of s.end()) out.push(copy(e));
  return out;
}
// Views share their chunk; copy so assertions see what was yielded.
const copy = (e: LineEvent): LineEvent =>
  e.type === "overflowEnd" ? e : { ...e, bytes: e.bytes.slice() };
const texts = (events: LineEvent[]) =>
  events.map((e) =>
    e.type === "overflowEnd"
      ? `<end ${e.length}>`
      : `${e.type === "overflow" ? "~" : ""}${dec.decode(e.bytes)}`
  );

describe("parseSize / parseDuration", () => {
  it("reads Fluentd-style sizes in powers of 1024", () => {
    assert.equal(parseSize("300k"), 307_200);
    assert.equal(parseSize("1m"), 1_048_576);
    assert.equal(parseSize("1MiB"), 1_048_576);
    assert.equal(parseSize("262144"), 262_144);
    assert.equal(parseSize("1.5k"), 1536);
    assert.equal(parseSize("lots"), undefined);
    assert.equal(parseSize("-1k"), undefined);
  });
  it("reads durations in ms", () => {
    assert.equal(parseDuration("500"), 500);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("2s"), 2000);
    assert.equal(parseDuration("soon"), undefined);
  });
});

describe("parseArgs", () => {
  it("maps the seed's option names and defaults", () => {
    const c = parseArgs([
      "--stream-name=logs",
      "--region",
      "eu-west-1",
      "--fixed-partition-key",
      "k",
      "--num-threads",
      "2",
      "--chunk-limit",
      "300k",
      "--linger",
      "2s",
      "--max-retries",
      "0",
      "a.log",
      "-",
    ]);
    assert.equal(c.streamName, "logs");
    assert.equal(c.region, "eu-west-1");
    assert.equal(c.fixedPartitionKey, "k");
    assert.equal(c.numThreads, 2);
    assert.equal(c.chunkLimit, 307_200);
    assert.equal(c.lingerMs, 2000);
    assert.equal(c.maxRetries, 0);
    assert.deepEqual(c.inputs, ["a.log", "-"]);
    const d = parseArgs([]);
    assert.equal(d.numThreads, 8);
    assert.equal(d.chunkLimit, 250_000); // 10 PUT payload units
    assert.equal(d.protocol, "json");
    assert.equal(d.deadLetter, "kinesis-dead-letters.ndjson");
  });
  it("refuses bad input with a UsageError that never echoes a secret", () => {
    const bad: string[][] = [
      ["--nope"],
      ["-x"],
      ["--chunk-limit", "2m"],
      ["--chunk-limit", "big"],
      ["--num-threads", "0"],
      ["--protocol", "xml"],
      ["--stream-name"],
      ["--aws-sec-key", "SECRET123"],
      ["--external-id", "e"],
      ["--local", "--endpoint", "http://x"],
      ["--listen", "nowhere"],
      ["--listen", "127.0.0.1:1", "file"],
      ["--replay", "dl", "file"],
      ["--debug=yes"],
    ];
    for (const argv of bad) {
      assert.throws(() => parseArgs(argv), (e: unknown) => {
        assert.ok(e instanceof UsageError, argv.join(" "));
        assert.ok(!e.message.includes("SECRET123"));
        return true;
      });
    }
  });
  it("takes the seed plugin's option names verbatim, as aliases", () => {
    const c = parseArgs([
      "--stream_name",
      "logs",
      "--aws_key_id",
      "AKID",
      "--aws_sec_key=SECRET123",
      "--role_arn",
      "arn:aws:iam::1:role/r",
      "--external_id",
      "e",
      "--http_proxy",
      "http://squid:3128/",
      "--fixed_partition_key",
      "k",
      "--num_threads",
      "50",
      "--buffer_chunk_limit",
      "300k",
      "--detach_process",
      "2",
      "--debug",
    ]);
    assert.equal(c.streamName, "logs");
    assert.equal(c.awsKeyId, "AKID");
    assert.equal(c.awsSecKey, "SECRET123");
    assert.equal(c.roleArn, "arn:aws:iam::1:role/r");
    assert.equal(c.externalId, "e");
    assert.equal(c.httpProxy, "http://squid:3128/");
    assert.equal(c.fixedPartitionKey, "k");
    assert.equal(c.numThreads, 50);
    assert.equal(c.chunkLimit, 307_200);
    assert.equal(c.debug, true);
    assert.ok(c.warnings.some((w) => /--aws_sec_key/.test(w)));
    assert.ok(c.warnings.some((w) => /--detach_process has no effect/.test(w)));
    assert.ok(c.warnings.every((w) => !w.includes("SECRET123")));
  });
  it("refuses a flag given twice, also under two spellings", () => {
    assert.throws(
      () => parseArgs(["--stream_name", "a", "--stream-name", "b"]),
      /given twice \(also as --stream_name\)/,
    );
    const r = parseArgs(["--replay", "a", "--replay=b"]);
    assert.deepEqual(r.replay, ["a", "b"]);
  });
  it("keeps what follows -- as files, and - as stdin", () => {
    assert.deepEqual(parseArgs(["-", "--", "--local"]).inputs, ["-", "--local"]);
  });
  it("does not take the next flag as a missing value", () => {
    assert.throws(() => parseArgs(["--chunk-limit", "--local"]), /--chunk-limit needs a value/);
    assert.equal(parseArgs(["--fixed-partition-key=--k"]).fixedPartitionKey, "--k");
  });
  it("suggests the nearest known flag for an unknown one", () => {
    assert.equal(suggestFlag("--strem-name"), "--stream-name");
    assert.equal(suggestFlag("--stream_nam"), "--stream_name");
    assert.equal(suggestFlag("--num_thread"), "--num_threads");
    assert.equal(suggestFlag("--buffer-chunk-limit"), "--buffer_chunk_limit");
    assert.equal(suggestFlag("--stream"), "--stream-name");
    assert.equal(suggestFlag("--regoin"), "--region");
    assert.equal(suggestFlag("--bogus"), undefined);
    assert.throws(() => parseArgs(["--strem-name", "x"]), /did you mean --stream-name\?/);
  });
  it("lists every flag in --help", () => {
    for (const name of ["--stream-name", "--chunk-limit", "--dead-letter", "-h, --help"]) {
      assert.ok(HELP.includes(name), name);
    }
    assert.match(HELP, /--buffer_chunk_limit/);
  });
  it("reads the request timeout, chunk deadline, buffer size and records per chunk", () => {
    const c = parseArgs([
      "--request-timeout",
      "5s",
      "--deadline=30s",
      "--buffer-size",
      "64m",
      "--max-records",
      "500",
    ]);
    assert.equal(c.requestTimeoutMs, 5000);
    assert.equal(c.deadlineMs, 30_000);
    assert.equal(c.bufferBytes, 64 * 1024 * 1024);
    assert.equal(c.maxRecords, 500);
    const d = parseArgs([]);
    assert.equal(d.requestTimeoutMs, undefined);
    assert.equal(d.deadlineMs, 120_000);
    assert.equal(d.maxRecords, Infinity);
    for (
      const bad of [
        ["--buffer-size", "10k"],
        ["--deadline", "0"],
        ["--request-timeout", "soon"],
        ["--max-records", "0"],
      ]
    ) assert.throws(() => parseArgs(bad), UsageError, bad.join(" "));
  });
  it("warns when --chunk-limit is too small to aggregate", () => {
    assert.match(parseArgs(["--chunk-limit", "100"]).warnings[0], /no two records fit/);
    assert.match(parseArgs(["--chunk-limit", "1k"]).warnings[0], /up to about \d+ bytes/);
    assert.deepEqual(parseArgs(["--chunk-limit", "64k"]).warnings, []);
  });
  it("warns when the secret key is given as a flag", () => {
    const c = parseArgs(["--aws-key-id", "AKID", "--aws-sec-key", "SECRET123"]);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /prefer/);
    assert.ok(!c.warnings[0].includes("SECRET123"));
  });
});

describe("--config FILE", () => {
  const files: Record<string, string> = {
    "ship.conf": [
      "# as a Fluentd user writes it",
      "type = kinesis-aggregation",
      "stream_name = logs",
      "region = eu-west-1",
      "buffer_chunk_limit = 300k",
      "num_threads = 4",
      "debug = true",
      "aws_key_id = AKIDFILE",
      "aws_sec_key = SECRET123",
      "replay[] = a.ndjson",
      "replay[] = b.ndjson",
    ].join("\n"),
    "fluentd.conf": "stream_name logs\n",
    "typo.conf": "strem_name = logs\n",
    "section.conf": "[match]\nstream_name = logs\n",
    "bad.conf": "num_threads = lots\n",
    "switch.conf": "debug = maybe\n",
  };
  const read = (path: string) => parseConfig(files[path], path);

  it("reads the seed's names; flags win, and a repeated flag replaces the file's list", () => {
    const c = parseArgs(["--config", "ship.conf", "--num-threads", "2"], read);
    assert.equal(c.streamName, "logs");
    assert.equal(c.region, "eu-west-1");
    assert.equal(c.chunkLimit, 307_200);
    assert.equal(c.numThreads, 2);
    assert.equal(c.debug, true);
    assert.equal(c.awsKeyId, "AKIDFILE");
    assert.deepEqual(c.replay, ["a.ndjson", "b.ndjson"]);
    assert.deepEqual(c.warnings, [], "a key in a file is not in ps: no warning");
    const r = parseArgs(["--config=ship.conf", "--replay", "c.ndjson"], read);
    assert.deepEqual(r.replay, ["c.ndjson"]);
  });
  it("names the file, the line's option and the fix, never a value", () => {
    const cases: [string, RegExp][] = [
      ["fluentd.conf", /write "stream_name = <value>"/],
      ["typo.conf", /Unknown option strem_name in --config typo\.conf: did you mean stream_name\?/],
      ["section.conf", /\[match\] sections are not used/],
      ["bad.conf", /Cannot set num_threads in --config bad\.conf to "lots"/],
      ["switch.conf", /debug in --config switch\.conf: use true or false/],
    ];
    for (const [file, message] of cases) {
      assert.throws(() => parseArgs(["--config", file], read), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, message);
        return true;
      });
    }
  });
  it("reports a missing file as a usage error", () => {
    assert.throws(() => parseArgs(["--config", join(tempDir(), "nope.conf")]), /no such file/);
  });
});

describe("LineSplitter", () => {
  it("splits across chunk boundaries and keeps the last unterminated line", () => {
    assert.deepEqual(texts(split(["ab", "c\nd", "\n\nef"])), ["abc", "d", "", "ef"]);
  });
  it("keeps \\r and bytes as they are", () => {
    const s = new LineSplitter({ maxLineBytes: 16 });
    const raw = new Uint8Array([0xff, 0xfe, 0x0d, 0x0a, 0xc3]);
    const out = [...s.feed(raw), ...s.end()].map((e) => (e as { bytes: Uint8Array }).bytes.slice());
    assert.deepEqual(out, [new Uint8Array([0xff, 0xfe, 0x0d]), new Uint8Array([0xc3])]);
  });
  it("streams a line over the limit in pieces and holds at most the limit", () => {
    const s = new LineSplitter({ maxLineBytes: 4 });
    const events: LineEvent[] = [];
    for (const c of ["ok\nabc", "defgh", "ij\nnext"]) {
      for (const e of s.feed(enc.encode(c))) events.push(copy(e));
      assert.ok(s.pendingBytes <= 4);
    }
    for (const e of s.end()) events.push(copy(e));
    assert.deepEqual(texts(events), ["ok", "~abcdefgh", "~ij", "<end 10>", "next"]);
  });
});

describe("dead letters", () => {
  it("round-trip text, invalid UTF-8 and a leading BOM exactly", () => {
    for (
      const data of [
        enc.encode('{"msg":"zoë ☕ 🚀"}'),
        new Uint8Array([0xff, 0x00, 0xc3, 0x28]),
        new Uint8Array([0xef, 0xbb, 0xbf, 0x41]),
        new Uint8Array(0),
      ]
    ) {
      const line = formatDeadLetter(data, "attempts-exhausted", "boom");
      assert.ok(line.endsWith("\n"));
      const back = parseDeadLetter(line);
      assert.deepEqual(back.data, data);
      assert.equal(back.reason, "attempts-exhausted");
    }
    assert.match(formatDeadLetter(enc.encode("hi"), "closed", "x"), /"data":"hi"/);
    assert.match(formatDeadLetter(new Uint8Array([0xff]), "closed", "x"), /"data_b64":"\/w=="/);
  });
  it("refuses lines that are not dead letters", () => {
    assert.throws(() => parseDeadLetter("[1]"), SyntaxError);
    assert.throws(() => parseDeadLetter('{"reason":"x"}'), SyntaxError);
    assert.throws(() => parseDeadLetter('{"data":"ab","bytes":3}'), SyntaxError);
  });
  it("streams an overlong record as one valid base64 line, and removes an unused file", () => {
    const dir = tempDir();
    const path = join(dir, "dl.ndjson");
    const file = new DeadLetterFile(path);
    const whole = new Uint8Array(1000).map((_, i) => (i * 7) & 255);
    file.streamStart("too-large", "too big");
    for (let i = 0; i < whole.length; i += 97) file.streamPart(whole.subarray(i, i + 97));
    file.streamEnd(whole.length);
    file.close();
    const line = readFileSync(path, "utf8").trimEnd();
    assert.deepEqual(parseDeadLetter(line).data, whole);
    const unused = join(dir, "unused.ndjson");
    new DeadLetterFile(unused).close();
    assert.throws(() => readFileSync(unused));
  });
});

describe("RecordDigest and StopSwitch", () => {
  it("is order-free, counts duplicates, and undoes removals", () => {
    const a = new RecordDigest();
    const b = new RecordDigest();
    const x = enc.encode("x");
    const y = enc.encode("y");
    a.add(x);
    a.add(y);
    b.add(y);
    b.add(x);
    assert.ok(a.equals(b));
    b.add(x);
    b.remove(x);
    assert.ok(a.equals(b));
    b.remove(x);
    b.add(y);
    assert.ok(!a.equals(b), "x,y differs from y,y");
  });
  it("race resolves undefined once flipped, the value otherwise", async () => {
    const s = new StopSwitch();
    assert.equal(await s.race(Promise.resolve(1)), 1);
    const pending = s.race(new Promise<number>(() => {}));
    s.trigger("SIGINT");
    s.trigger("SIGTERM");
    assert.equal(await pending, undefined);
    assert.equal(s.reason, "SIGINT");
    await s.wait();
  });
});
