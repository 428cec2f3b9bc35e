/** `--checkpoint`: resume, lock, and the faults a checkpoint can have. */
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  linkSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, tempDir } from "./run_ship.ts";
import { Watermark } from "../../src/cli/settlement.ts";

const dec = new TextDecoder();

function lines(prefix: string, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += `${prefix}-${i}\n`;
  return out;
}

describe("Watermark", () => {
  it("advances over the settled prefix only, whatever order lines settle in", () => {
    const w = new Watermark(10);
    const a = w.track(20);
    const b = w.track(30);
    w.skip(35);
    const c = w.track(40);
    b();
    assert.equal(w.offset, 10);
    a();
    assert.equal(w.offset, 35);
    c();
    c(); // settling twice changes nothing
    assert.equal(w.offset, 40);
    assert.equal(w.pending, 0);
  });

  it("stays right across its internal compaction", () => {
    const w = new Watermark();
    const settles = [];
    for (let i = 1; i <= 20_000; i++) settles.push(w.track(i));
    for (let i = 0; i < 10_000; i++) settles[i]();
    assert.equal(w.offset, 10_000);
    for (let i = 19_999; i >= 10_001; i--) settles[i]();
    assert.equal(w.offset, 10_000);
    settles[10_000]();
    assert.equal(w.offset, 20_000);
  });
});

describe("ship --checkpoint", () => {
  let sink: Sink;
  let dir: string;
  beforeEach(async () => {
    sink = await startSink();
    dir = tempDir();
  });
  afterEach(() => sink.close());
  const ship = (...args: string[]) =>
    runShip(["--stream-name", "s", "--endpoint", sink.endpoint, "--linger", "20ms", ...args], {
      cwd: dir,
    });
  const got = () => sink.records.map((r) => dec.decode(r));

  it("resumes where it stopped: a rerun ships only what was appended", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, lines("a", 0, 500));
    const cp = join(dir, "state");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(cp);
    let r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(readFileSync(join(cp, "checkpoint.json"), "utf8"));
    assert.equal(saved.files[0].offset, readFileSync(log).length);
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(got().length, 500, "nothing shipped twice");
    appendFileSync(log, lines("b", 0, 7) + "no-newline");
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    // Chunks travel concurrently: order holds within one, not across them.
    assert.deepEqual(
      got().slice(500).sort(),
      [...lines("b", 0, 7).trim().split("\n"), "no-newline"].sort(),
    );
  });

  it("refuses a checkpoint that a live process holds, and takes over a dead one's lock", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, lines("a", 0, 10));
    const cp = join(dir, "cp.json");
    writeFileSync(`${cp}.lock`, `${process.pid}\n`);
    let r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 4);
    assert.match(r.stderr, new RegExp(`locked by process ${process.pid}`));
    assert.equal(got().length, 0);
    writeFileSync(`${cp}.lock`, "2147483646\n"); // no such process
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /took over the lock/);
    assert.equal(got().length, 10);
  });

  it("a second name for the checkpoint (a symlink) meets the same lock", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, lines("a", 0, 10));
    const cp = join(dir, "cp.json");
    writeFileSync(cp, "");
    writeFileSync(`${cp}.lock`, `${process.pid}\n`);
    const alias = join(dir, "alias.json");
    symlinkSync(cp, alias);
    const r = await ship("--checkpoint", alias, log);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`locked by process ${process.pid}`));
    assert.equal(got().length, 0);
  });

  for (
    const [name, text] of [
      ["corrupt", '{"kind":"kinesis-kpl-checkpoint","vers'],
      ["another version", '{"kind":"kinesis-kpl-checkpoint","version":99,"files":[]}'],
    ]
  ) {
    it(`stops on a ${name} checkpoint; --start-over sets it aside and reads from the start`, async () => {
      const log = join(dir, "app.log");
      writeFileSync(log, lines("a", 0, 10));
      const cp = join(dir, "cp.json");
      writeFileSync(cp, text);
      let r = await ship("--checkpoint", cp, log);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /Cannot use checkpoint .*--start-over/);
      assert.equal(got().length, 0);
      r = await ship("--checkpoint", cp, "--start-over", log);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /moved to .*\.bad-/);
      assert.equal(got().length, 10);
    });
  }

  it("finishes a file rotated while it was down; stops on a vanished one unless --start-over", async () => {
    const log = join(dir, "app.log");
    const cp = join(dir, "cp.json");
    writeFileSync(log, lines("a", 0, 10));
    let r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    appendFileSync(log, lines("a", 10, 15));
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines("b", 0, 3));
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rotated to .*app\.log\.1/);
    assert.deepEqual(
      got().sort(),
      [...lines("a", 0, 15).split("\n"), ...lines("b", 0, 3).split("\n")]
        .filter(Boolean).sort(),
    );
    // Now the file it was reading disappears.
    appendFileSync(log, lines("b", 3, 5));
    // The new file is made before the old ones go, so it cannot get a freed inode
    // back (that case reads as "same inode, other content": read from the start).
    writeFileSync(`${log}.new`, lines("c", 0, 2));
    rmSync(log);
    rmSync(`${log}.1`);
    renameSync(`${log}.new`, log);
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /which is gone.*--start-over/);
    r = await ship("--checkpoint", cp, "--start-over", log);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /forgotten/);
    assert.ok(got().includes("c-1"));
  });

  it("a file gone while down is not looked for among the shipper's own files, even with its inode", async () => {
    const log = join(dir, "app.log");
    const cp = join(dir, "cp.json");
    writeFileSync(log, lines("a", 0, 5));
    let r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 0, r.stderr);
    appendFileSync(log, lines("a", 5, 8));
    // The dead-letter file now shares the old file's inode and bytes (as a
    // freed inode given to a new file would share the inode).
    const deadLetters = join(dir, "kinesis-dead-letters.ndjson");
    rmSync(deadLetters, { force: true });
    linkSync(log, deadLetters);
    rmSync(log);
    writeFileSync(log, lines("c", 0, 2));
    r = await ship("--checkpoint", cp, log);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /which is gone.*--start-over/);
    assert.doesNotMatch(r.stderr, /rotated to .*dead-letters/);
    assert.ok(!got().includes("a-5"), "the shipper's own file was not read as input");
  });
});
