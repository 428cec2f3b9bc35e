/**
 * The `--listen` intake as a hostile client sees it: loopback by default, a
 * bearer token off loopback, limits enforced while decoding (413, nothing
 * shipped), 400 for invalid bodies, and a bounded shutdown.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { finished, runShip, spawnShip, tempDir, until } from "./run_ship.ts";

async function listen(
  endpoint: string,
  address: string,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const child = spawnShip(
    ["--endpoint", endpoint, "--stream-name", "s", "--listen", address, "--json", ...extra],
    { env },
  );
  child.stdin!.end();
  const done = finished(child);
  let err = "";
  child.stderr!.on("data", (c: string) => (err += c));
  await until(() => /listening on (http:\/\/\S+)/.test(err));
  const url = /listening on (http:\/\/\S+)/.exec(err)![1];
  const port = new URL(url).port;
  return { child, done, url, local: `http://127.0.0.1:${port}/`, stderr: () => err };
}

async function post(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, body: await res.json() };
}

describe("ship --listen: defaults, token, limits, shutdown", () => {
  let sink: Sink;
  before(async () => (sink = await startSink()));
  after(() => sink.close());

  it("`:PORT` binds loopback only", async () => {
    const { child, done, url } = await listen(sink.endpoint, ":0");
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    process.kill(child.pid!, "SIGTERM");
    await done;
  });

  it("any other address needs a token: exit 2 with one line without it", async () => {
    const r = await runShip([
      "--endpoint",
      sink.endpoint,
      "--stream-name",
      "s",
      "--listen",
      "0.0.0.0:0",
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: Cannot listen on 0\.0\.0\.0 without a bearer token: .*--listen-token-file/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("with a token (file or env), requests without it or with a wrong one get 401 and ship nothing", async () => {
    const file = join(tempDir(), "token");
    writeFileSync(file, "s3cret-token-value\n");
    for (
      const [extra, env] of [
        [["--listen-token-file", file], {}],
        [[], { SHIP_LISTEN_TOKEN: "s3cret-token-value" }],
      ] as const
    ) {
      sink.records.length = 0;
      const { child, done, local } = await listen(sink.endpoint, "0.0.0.0:0", [...extra], env);
      assert.equal((await post(local, '{"a":1}\n')).status, 401);
      const wrong = await post(local, '{"a":1}\n', { authorization: "Bearer s3cret-token-valuf" });
      assert.equal(wrong.status, 401);
      assert.equal(sink.records.length, 0);
      const ok = await post(local, '{"a":1}\n', { authorization: "Bearer s3cret-token-value" });
      assert.equal(ok.status, 200);
      assert.equal(sink.records.length, 1);
      process.kill(child.pid!, "SIGTERM");
      const r = await done;
      assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
    }
  });

  it("limits hold while decoding: 413 with a reason, nothing shipped from that body", async () => {
    sink.records.length = 0;
    const { child, done, url } = await listen(sink.endpoint, "127.0.0.1:0");
    // A gzip bomb: about 8 KB on the wire, 4.19 M records inflated.
    const bomb = gzipSync("{}\n".repeat(4_194_304));
    assert.ok(bomb.length < 64 * 1024, `${bomb.length}`);
    const started = performance.now();
    const big = await post(url, new Uint8Array(bomb), { "content-encoding": "gzip" });
    assert.equal(big.status, 413);
    assert.match(big.body.error, /over 100000 records/);
    assert.ok(performance.now() - started < 5000, "refused without parsing millions of records");
    // Decoded bytes over the 64 MiB cap, few records.
    const wide = gzipSync(`"${"x".repeat(1_000_000)}"\n`.repeat(68));
    const wideRes = await post(url, new Uint8Array(wide), { "content-encoding": "gzip" });
    assert.equal(wideRes.status, 413);
    assert.match(wideRes.body.error, /over 67108864 bytes after gzip decoding/);
    // Over the wire limit, streamed without a content-length.
    const chunk = new TextEncoder().encode(`${'{"k":1}\n'.repeat(8192)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > 9 * 1024 * 1024) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const streamed = await fetch(url, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    assert.equal(streamed.status, 413);
    await streamed.body?.cancel();
    assert.equal(sink.records.length, 0, "nothing shipped from refused bodies");
    process.kill(child.pid!, "SIGTERM");
    await done;
  });

  it("record count over --listen-max-records: 413, nothing shipped (NDJSON and arrays)", async () => {
    sink.records.length = 0;
    const { child, done, url } = await listen(sink.endpoint, "127.0.0.1:0", [
      "--listen-max-records",
      "10",
    ]);
    const lines = Array.from({ length: 11 }, (_, i) => `{"i":${i}}`);
    assert.equal((await post(url, lines.join("\n"))).status, 413);
    assert.equal((await post(url, `[${lines.join(",")}]`)).status, 413);
    assert.equal((await post(url, lines.slice(1).join("\n"))).status, 200);
    assert.equal(sink.records.length, 10);
    process.kill(child.pid!, "SIGTERM");
    await done;
  });

  it("400 for NDJSON that is not JSON, invalid gzip and invalid UTF-8; nothing shipped", async () => {
    sink.records.length = 0;
    const { child, done, url } = await listen(sink.endpoint, "127.0.0.1:0");
    const notJson = await post(url, '{"ok":1}\nnot json\n');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error, /line 2 is not JSON/);
    const badGzip = await post(url, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), {
      "content-encoding": "gzip",
    });
    assert.equal(badGzip.status, 400);
    assert.match(badGzip.body.error, /invalid gzip/);
    const badUtf8 = new Uint8Array([...new TextEncoder().encode('["a", "'), 0xff, 0x22, 0x5d]);
    const utf = await post(url, badUtf8);
    assert.equal(utf.status, 400);
    assert.match(utf.body.error, /UTF-8/);
    const ndUtf = await post(url, new Uint8Array([0x22, 0xc3, 0x22, 0x0a]));
    assert.equal(ndUtf.status, 400);
    assert.equal((await post(url, "[]")).status, 200);
    assert.equal(sink.records.length, 0);
    process.kill(child.pid!, "SIGTERM");
    await done;
  });

  it("SIGTERM: a never-ending POST is dropped after the grace period; a complete one is answered", async () => {
    sink.records.length = 0;
    const slowSink = await startSink({ delayMs: 1500 });
    const { child, done, url } = await listen(slowSink.endpoint, "127.0.0.1:0", [
      "--listen-grace",
      "1s",
      "--linger",
      "10ms",
    ]);
    const target = new URL(url);
    // Never finishes its body.
    const endless = request({
      host: target.hostname,
      port: target.port,
      method: "POST",
      path: "/",
      headers: { "transfer-encoding": "chunked" },
    });
    const endlessClosed = new Promise<string>((resolve) => {
      endless.on("error", (e) => resolve(`error ${e.message}`));
      endless.on("response", (res) => resolve(`status ${res.statusCode}`));
    });
    endless.write('{"partial":1}\n');
    const timer = setInterval(() => endless.write('{"more":1}\n'), 100);
    // A complete body whose delivery is slow (1.5 s sink).
    const complete = post(url, '{"whole":1}\n');
    await new Promise((r) => setTimeout(r, 300));
    const stopAt = performance.now();
    process.kill(child.pid!, "SIGTERM");
    const answered = await complete;
    assert.equal(answered.status, 200);
    const r = await done;
    const elapsed = performance.now() - stopAt;
    clearInterval(timer);
    assert.match(await endlessClosed, /^error /);
    // The promise in the README: gone within 10 s of SIGTERM (grace 5 s, the slow sink 1.5 s).
    assert.ok(elapsed < 10_000, `gone ${Math.round(elapsed)} ms after SIGTERM`);
    const s = JSON.parse(r.stdout);
    assert.equal(s.recordsDelivered, 1);
    assert.equal(slowSink.records.length, 1);
    await slowSink.close();
  });

  it("--listen-max-pending bounds bodies held at once: the rest wait unread, past the line 503 busy", async () => {
    sink.records.length = 0;
    const { child, done, url } = await listen(sink.endpoint, "127.0.0.1:0", [
      "--listen-max-pending",
      "1",
    ]);
    const target = new URL(url);
    // Holds the only slot: its body is still arriving.
    const holder = request({
      host: target.hostname,
      port: target.port,
      method: "POST",
      path: "/",
      headers: { "transfer-encoding": "chunked" },
    });
    const holderAnswer = new Promise<number>((resolve, reject) => {
      holder.on("error", reject);
      holder.on("response", (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
    });
    holder.write('{"holder":1}\n');
    await new Promise((r) => setTimeout(r, 500));
    // 12 more: 8 may wait in line (8 per slot), 4 are turned away at once.
    const others = Array.from({ length: 12 }, (_, i) => post(url, `{"other":${i}}\n`));
    const busy: number[] = [];
    const settled = others.map((p, i) => p.then((r) => (r.status === 503 && busy.push(i), r)));
    await until(() => busy.length === 4);
    for (const i of busy) {
      const r = await settled[i];
      assert.match(r.body.error, /^busy/);
    }
    assert.equal(sink.records.length, 0, "nothing shipped while the holder still sends");
    holder.end('{"holder":2}\n');
    assert.equal(await holderAnswer, 200);
    const answers = await Promise.all(settled);
    assert.equal(answers.filter((r) => r.status === 200).length, 8);
    const shipped = sink.records.map((x) => new TextDecoder().decode(x)).sort();
    assert.equal(shipped.length, 10);
    assert.deepEqual(shipped.slice(0, 2), ['{"holder":1}', '{"holder":2}']);
    assert.ok(
      busy.every((i) => !shipped.includes(`{"other":${i}}`)),
      "turned-away bodies ship nothing",
    );
    process.kill(child.pid!, "SIGTERM");
    await done;
  });
});
