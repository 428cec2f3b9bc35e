/**
 * The kill test: 200,000 lines to a slow, throttling loopback sink, the
 * shipper SIGKILLed at 10 random moments and restarted each time on the same
 * checkpoint (or spool). In the end every line is delivered at least once, and
 * every duplicate is a line that was delivered before a kill but lay above
 * what the checkpoint had recorded as settled: what was in flight.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { finished, type ShipResult, spawnShip, tempDir } from "./run_ship.ts";
import { int, rng } from "../support/random.ts";

export const LINES = 200_000;
export const KILLS = 10;
const LINE_BYTES = 48;

/** Line `i`, newline included: a JSON object (the HTTP intake takes JSON lines) of fixed width, so an offset maps to a line number. */
export function line(i: number): string {
  const head = `{"n":"${String(i).padStart(6, "0")}","p":"`;
  return head + "x".repeat(LINE_BYTES - 3 - head.length) + '"}\n';
}

/** The line number inside a line's bytes. */
function index(data: Uint8Array): number {
  return Number(new TextDecoder().decode(data.subarray(6, 12)));
}

/** A slow sink: 15 ms per call, every 5th call throttled. */
export function slowSink(): Promise<Sink> {
  return startSink({
    delayMs: 15,
    fault: (n) =>
      n % 5 === 4 ? { status: 400, type: "ProvisionedThroughputExceededException" } : undefined,
  });
}

/** How many times each line index arrived. */
export function arrivals(sink: Sink): Uint32Array {
  const seen = new Uint32Array(LINES);
  for (const r of sink.records) seen[index(r)]++;
  return seen;
}

/** The shipping flags every run shares: small chunks so a kill catches many in flight. */
export function shipFlags(sink: Sink): string[] {
  return [
    "--stream-name",
    "s",
    "--endpoint",
    sink.endpoint,
    "--chunk-limit",
    "16k",
    "--linger",
    "20ms",
    "--num-threads",
    "4",
    "--buffer-size",
    "1m",
  ];
}

/**
 * Most lines one kill may make the shipper send again. With --checkpoint: the
 * lines read past the settled offset (at most 2 x the 1 MiB buffer: reading
 * waits beyond that) plus those settled since the last checkpoint write
 * (100 ms at well under 100,000 lines/s). With --spool (capped at 2 MiB):
 * what the spool holds.
 */
export const RESENT_PER_KILL = Math.ceil((2 * 1024 * 1024) / LINE_BYTES) + 10_000;

/**
 * A random moment while this run is shipping: after its first PutRecord
 * reaches the sink (so a slow start-up on a loaded machine does not turn the
 * kills into kills before start), then 0 to `maxMs` later.
 */
async function killMoment(sink: Sink, rand: () => number, maxMs: number): Promise<void> {
  const calls = sink.calls;
  const deadline = Date.now() + 30_000;
  while (sink.calls === calls && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, int(rand, 0, maxMs)));
}

describe("kill test: --checkpoint", () => {
  it(`delivers all ${LINES} lines through ${KILLS} SIGKILLs, duplicates only from in flight`, async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000);
    const rand = rng(seed);
    const dir = tempDir();
    const log = join(dir, "app.log");
    let text = "";
    for (let i = 0; i < LINES; i++) text += line(i);
    writeFileSync(log, text);
    const cp = join(dir, "cp.json");
    const sink = await slowSink();
    const args = [...shipFlags(sink), "--checkpoint", cp, "--checkpoint-interval", "100ms", log];
    let resent = 0; // lines delivered before a kill that the checkpoint did not cover
    try {
      for (let k = 0; k < KILLS; k++) {
        const child = spawnShip(args, { cwd: dir });
        const done = finished(child);
        await killMoment(sink, rand, 1500);
        // It may have shipped everything already: then there is nothing to kill.
        if (child.exitCode === null && child.signalCode === null) {
          process.kill(child.pid!, "SIGKILL");
        }
        const result: ShipResult = await done;
        assert.ok(
          result.signal === "SIGKILL" || result.code === 0,
          `seed ${seed}: ${result.stderr}`,
        );
        const before = arrivals(sink);
        const offset = existsSync(cp)
          ? JSON.parse(readFileSync(cp, "utf8")).files[0]?.offset ?? 0
          : 0;
        assert.equal(offset % LINE_BYTES, 0, "the checkpoint is on a line boundary");
        let now = 0;
        for (let i = offset / LINE_BYTES; i < LINES; i++) if (before[i] > 0) now++;
        assert.ok(
          now <= RESENT_PER_KILL,
          `seed ${seed}: ${now} lines to send again after kill ${k}`,
        );
        resent += now;
        for (let i = 0; i < offset / LINE_BYTES; i++) {
          assert.ok(before[i] > 0, `seed ${seed}: line ${i} is below the checkpoint, undelivered`);
        }
      }
      const last = await finished(spawnShip(args, { cwd: dir }));
      assert.equal(last.code, 0, `seed ${seed}: ${last.stderr}`);
      const seen = arrivals(sink);
      let duplicates = 0;
      for (let i = 0; i < LINES; i++) {
        assert.ok(seen[i] >= 1, `seed ${seed}: line ${i} never delivered`);
        duplicates += seen[i] - 1;
      }
      console.log(
        `seed ${seed}: ${sink.records.length} records for ${LINES} lines, ${duplicates} duplicates, ` +
          `bound ${resent}`,
      );
      assert.ok(
        duplicates <= resent,
        `seed ${seed}: ${duplicates} duplicates > ${resent} in flight`,
      );
    } finally {
      await sink.close();
    }
  });
});

/** Line indices in the spool's segments now (an independent reader of the documented frame format). */
function spooled(dir: string): Set<number> {
  const out = new Set<number>();
  if (!existsSync(dir)) return out; // killed before it made the spool
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".seg"))) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ack = join(dir, name.replace(/\.seg$/, ".ack"));
    let skip = existsSync(ack) ? Number(readFileSync(ack, "utf8")) : 0; // settled prefix
    let pos = 8;
    while (pos + 8 <= bytes.length) {
      const length = view.getUint32(pos, true);
      if (pos + 8 + length > bytes.length) break;
      const data = bytes.subarray(pos + 8, pos + 8 + length);
      const sum = crc32(data, crc32(bytes.subarray(pos, pos + 4))) >>> 0; // over length + data
      if (sum !== view.getUint32(pos + 4, true)) break;
      if (skip > 0) skip--;
      else out.add(index(data));
      pos += 8 + length;
    }
  }
  return out;
}

/** Writes lines `from`.. to the child's stdin in batches until it dies or `to` is reached. */
async function feed(child: ChildProcess, from: number, to: number, end: boolean): Promise<void> {
  const stdin = child.stdin!;
  stdin.on("error", () => {});
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  for (let i = from; i < to && !stdin.destroyed; i += 1000) {
    let text = "";
    for (let j = i; j < Math.min(to, i + 1000); j++) text += line(j);
    if (!stdin.write(text)) {
      await Promise.race([new Promise<void>((r) => stdin.once("drain", () => r())), closed]);
    }
  }
  if (end && !stdin.destroyed) stdin.end();
}

describe("kill test: --spool", () => {
  it(`stdin: delivers all ${LINES} lines through ${KILLS} SIGKILLs, the sender resuming after what was spooled`, async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000);
    const rand = rng(seed);
    const dir = tempDir();
    const spool = join(dir, "spool");
    const sink = await slowSink();
    const args = [...shipFlags(sink), "--spool", spool, "--spool-max", "2m"];
    let next = 0;
    let resent = 0;
    try {
      for (let k = 0; k < KILLS; k++) {
        const child = spawnShip(args, { cwd: dir });
        const done = finished(child);
        void feed(child, next, LINES, false);
        await killMoment(sink, rand, 1500);
        process.kill(child.pid!, "SIGKILL");
        const result = await done;
        assert.equal(result.signal, "SIGKILL", `seed ${seed}: ${result.stderr}`);
        const delivered = arrivals(sink);
        const left = spooled(spool);
        let now = 0;
        for (const i of left) if (delivered[i] > 0) now++;
        assert.ok(
          now <= RESENT_PER_KILL,
          `seed ${seed}: ${now} lines to send again after kill ${k}`,
        );
        resent += now;
        let top = next - 1;
        for (const i of left) top = Math.max(top, i);
        for (let i = 0; i < LINES; i++) if (delivered[i] > 0) top = Math.max(top, i);
        for (let i = 0; i <= top; i++) {
          assert.ok(delivered[i] > 0 || left.has(i), `seed ${seed}: line ${i} accepted, then lost`);
        }
        next = top + 1;
      }
      const child = spawnShip(args, { cwd: dir });
      const done = finished(child);
      await feed(child, next, LINES, true);
      const last = await done;
      assert.equal(last.code, 0, `seed ${seed}: ${last.stderr}`);
      const seen = arrivals(sink);
      let duplicates = 0;
      for (let i = 0; i < LINES; i++) {
        assert.ok(seen[i] >= 1, `seed ${seed}: line ${i} never delivered`);
        duplicates += seen[i] - 1;
      }
      assert.deepEqual(readdirSync(spool).filter((n) => n.endsWith(".seg")), [], "spool emptied");
      console.log(`seed ${seed}: stdin, ${duplicates} duplicates, bound ${resent}`);
      assert.ok(duplicates <= resent, `seed ${seed}: ${duplicates} duplicates > ${resent}`);
    } finally {
      await sink.close();
    }
  });

  it(`--listen --listen-ack spool: every acknowledged batch is delivered through ${KILLS} SIGKILLs`, async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000);
    const rand = rng(seed);
    const dir = tempDir();
    const spool = join(dir, "spool");
    const sink = await slowSink();
    const args = [
      ...shipFlags(sink),
      "--spool",
      spool,
      "--spool-max",
      "2m",
      "--listen",
      "127.0.0.1:0",
      "--listen-ack",
      "spool",
    ];
    const BATCH = 1000;
    let acked = 0; // batches answered 200, in order
    let resent = 0;
    let reposted = 0;
    const start = async () => {
      const child = spawnShip(args, { cwd: dir });
      const done = finished(child);
      let stderr = "";
      child.stderr!.on("data", (c: string) => (stderr += c));
      const deadline = Date.now() + 20_000;
      let url: string | undefined;
      while (!url) {
        url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
        if (Date.now() > deadline) throw new Error(`no listener: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { child, done, url };
    };
    /** Posts batches from `acked` on until one fails (the shipper died) or all are in. */
    const post = async (url: string): Promise<void> => {
      while (acked < LINES / BATCH) {
        let body = "";
        for (let j = acked * BATCH; j < (acked + 1) * BATCH; j++) body += line(j);
        try {
          const res = await fetch(url, { method: "POST", body });
          await res.text();
          if (res.status !== 200) throw new Error(`status ${res.status}`);
          acked++;
        } catch {
          reposted += BATCH;
          return;
        }
      }
    };
    try {
      for (let k = 0; k < KILLS; k++) {
        const { child, done, url } = await start();
        const posting = post(url);
        await killMoment(sink, rand, 1000);
        process.kill(child.pid!, "SIGKILL");
        await done;
        await posting;
        const delivered = arrivals(sink);
        const left = spooled(spool);
        let now = 0;
        for (const i of left) if (delivered[i] > 0) now++;
        assert.ok(
          now <= RESENT_PER_KILL,
          `seed ${seed}: ${now} lines to send again after kill ${k}`,
        );
        resent += now;
        for (let i = 0; i < acked * BATCH; i++) {
          assert.ok(
            delivered[i] > 0 || left.has(i),
            `seed ${seed}: line ${i} acknowledged, then lost`,
          );
        }
      }
      const { child, done, url } = await start();
      await post(url);
      assert.equal(acked, LINES / BATCH);
      const deadline = Date.now() + 60_000;
      while (arrivals(sink).some((n) => n === 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(child.pid!, "SIGTERM");
      await done;
      const seen = arrivals(sink);
      let duplicates = 0;
      for (let i = 0; i < LINES; i++) {
        assert.ok(seen[i] >= 1, `seed ${seed}: line ${i} never delivered`);
        duplicates += seen[i] - 1;
      }
      console.log(
        `seed ${seed}: listen, ${duplicates} duplicates, bound ${resent} spooled + ${reposted} re-posted`,
      );
      assert.ok(duplicates <= resent + reposted, `seed ${seed}: ${duplicates} duplicates`);
    } finally {
      await sink.close();
    }
  });
});
