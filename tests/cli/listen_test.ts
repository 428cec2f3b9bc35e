import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { parseDeadLetter } from "../../src/cli/dead_letter.ts";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { finished, spawnShip, tempDir, until } from "./run_ship.ts";

const dec = new TextDecoder();

/** Starts `ship --listen 127.0.0.1:0` and returns its URL once it listens. */
async function listen(endpoint: string, extra: string[] = []) {
  const child = spawnShip([
    "--endpoint",
    endpoint,
    "--stream-name",
    "s",
    "--listen",
    "127.0.0.1:0",
    "--json",
    ...extra,
  ]);
  child.stdin!.end();
  const done = finished(child);
  let err = "";
  child.stderr!.on("data", (c: string) => (err += c));
  await until(() => /listening on (http:\/\/\S+)/.test(err));
  const url = /listening on (http:\/\/\S+)/.exec(err)![1];
  return { child, done, url };
}

describe("ship --listen: HTTP intake", () => {
  let sink: Sink;
  before(async () => (sink = await startSink()));
  after(() => sink.close());

  it("ships NDJSON, JSON arrays and gzip bodies, answering 200 after delivery", async () => {
    const { child, done, url } = await listen(sink.endpoint);
    const ndjson = await fetch(url, { method: "POST", body: '{"a":1}\n{"a":2}\n\n{"a":3}' });
    assert.equal(ndjson.status, 200);
    assert.deepEqual(await ndjson.json(), { records: 3, failed: 0 });
    assert.equal(sink.records.length, 3, "delivered before the answer");

    const array = await fetch(url, { method: "POST", body: '[{"b":1}, {"b": 2}]' });
    assert.deepEqual(await array.json(), { records: 2, failed: 0 });

    const gz = await fetch(url, {
      method: "POST",
      headers: { "content-encoding": "gzip" },
      body: new Uint8Array(gzipSync('{"c":1}\n')),
    });
    assert.equal(gz.status, 200);
    await gz.body?.cancel();

    const bad = await fetch(url, { method: "POST", body: "[not json" });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    assert.deepEqual(
      sink.records.map((r) => dec.decode(r)),
      ['{"a":1}', '{"a":2}', '{"a":3}', '{"b":1}', '{"b":2}', '{"c":1}'],
    );
    process.kill(child.pid!, "SIGTERM");
    const r = await done;
    const s = JSON.parse(r.stdout);
    assert.equal(s.exitCode, 143);
    assert.equal(s.recordsDelivered, 6);
  });

  it("answers 503 with the failed count when delivery fails, and dead-letters them", async () => {
    const failing = await startSink({
      fault: () => ({ status: 400, type: "ValidationException" }),
    });
    const dl = join(tempDir(), "dl.ndjson");
    const { child, done, url } = await listen(failing.endpoint, ["--dead-letter", dl]);
    const res = await fetch(url, { method: "POST", body: '"x"\n"y"\n' });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { records: 2, failed: 2 });
    process.kill(child.pid!, "SIGINT");
    const r = await done;
    await failing.close();
    assert.equal(JSON.parse(r.stdout).exitCode, 1);
    const letters = readFileSync(dl, "utf8").trimEnd().split("\n").map(parseDeadLetter);
    assert.deepEqual(letters.map((l) => dec.decode(l.data)), ['"x"', '"y"']);
  });
});
