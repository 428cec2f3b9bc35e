/**
 * No silent loss: a record ends delivered, in the dead-letter file, or counted
 * as lost with exit code 5. Never gone without a word.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DeadLetterFile, formatDeadLetter, parseDeadLetter } from "../../src/cli/dead_letter.ts";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, tempDir } from "./run_ship.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A writer over a disk with `room` bytes left: short writes, then ENOSPC. */
function fillingDisk(room: { left: number }) {
  return (fd: number, bytes: Uint8Array, offset: number, length: number): number => {
    if (room.left <= 0) {
      throw Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
    }
    const n = Math.min(length, room.left);
    room.left -= n;
    return writeSync(fd, bytes, offset, n);
  };
}

describe("dead-letter file that cannot be written", () => {
  it("cuts a partial line off, counts the record lost, and keeps trying the next ones", () => {
    const path = join(tempDir(), "dl.ndjson");
    const room = { left: 100 };
    const file = new DeadLetterFile(path, fillingDisk(room));
    const line = (i: number) => enc.encode(`record ${i} ${"x".repeat(20)}`);
    assert.equal(file.write(line(0), "closed", "e"), true); // ~70 bytes: fits
    assert.equal(file.write(line(1), "closed", "e"), false); // half written, then ENOSPC
    assert.equal(file.write(line(2), "closed", "e"), false);
    room.left = 1000; // space freed: later records are written again
    assert.equal(file.write(line(3), "closed", "e"), true);
    // An overlong record streamed in pieces fails as one record.
    room.left = 120;
    file.streamStart("too-large", "big");
    file.streamPart(new Uint8Array(300));
    assert.equal(file.streamEnd(300), false);
    file.close();
    assert.equal(file.count, 2);
    assert.equal(file.lost, 3);
    assert.match(file.lastError!, /no space left/);
    const text = readFileSync(path, "utf8");
    assert.ok(text.endsWith("\n"), "no truncated line is left behind");
    const letters = text.trimEnd().split("\n").map(parseDeadLetter);
    assert.deepEqual(letters.map((l) => dec.decode(l.data)), [
      dec.decode(line(0)),
      dec.decode(line(3)),
    ]);
  });

  it("a fragment line is marked, and old `interrupted` lines count as fragments", () => {
    const marked = parseDeadLetter(formatDeadLetter(enc.encode("par"), "interrupted", "x", true));
    assert.equal(marked.fragment, true);
    assert.equal(
      parseDeadLetter('{"reason":"interrupted","error":"x","data":"p","bytes":1}').fragment,
      true,
    );
    assert.equal(parseDeadLetter(formatDeadLetter(enc.encode("w"), "closed", "x")).fragment, false);
  });
});

describe("ship: records lost, oversized lines, fragments", () => {
  let sink: Sink;
  let failing: Sink;
  before(async () => {
    sink = await startSink();
    failing = await startSink({ fault: () => ({ status: 400, type: "ValidationException" }) });
  });
  after(async () => {
    await sink.close();
    await failing.close();
  });
  const base = (s: Sink) => ["--endpoint", s.endpoint, "--stream-name", "s", "--json"];

  it("dead-letter file on a full disk (/dev/full): exit 5, recordsLost, the reason on stderr", async () => {
    const r = await runShip([...base(failing), "--dead-letter", "/dev/full"], {
      stdin: "a\nb\nc\n",
    });
    assert.equal(r.code, 5, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.recordsLost, 3);
    assert.equal(summary.recordsFailed, 0);
    assert.equal(summary.exitCode, 5);
    assert.match(r.stderr, /3 records lost .*\/dev\/full: no space left/);
  });

  it("a tmpfs that fills part-way: whole lines or lost records, never a cut line (exit 5)", async (t) => {
    const mnt = join(tempDir(), "small");
    mkdirSync(mnt);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
    if (mounted.status !== 0) {
      t.skip("cannot mount a tmpfs here (needs root); the injected-disk test covers the logic");
      return;
    }
    try {
      const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"pad":"${"p".repeat(80)}"}`);
      const dl = join(mnt, "dl.ndjson");
      const r = await runShip([...base(failing), "--dead-letter", dl], {
        stdin: lines.join("\n") + "\n",
      });
      assert.equal(r.code, 5, r.stderr);
      const summary = JSON.parse(r.stdout);
      assert.ok(summary.recordsFailed > 0 && summary.recordsLost > 0, r.stdout);
      assert.equal(summary.recordsFailed + summary.recordsLost, 2000);
      const text = readFileSync(dl, "utf8");
      assert.ok(text.endsWith("\n"), "no truncated line is left behind");
      const written = text.trimEnd().split("\n").map(parseDeadLetter);
      assert.equal(written.length, summary.recordsFailed);
      assert.match(r.stderr, /records lost .*no space left/);
    } finally {
      spawnSync("umount", [mnt]);
    }
  });

  it("an oversized line fails alone: the records around it are delivered", async () => {
    sink.records.length = 0;
    const dir = tempDir();
    const before = Array.from({ length: 187 }, (_, i) => `before ${i}`);
    const afterLines = Array.from({ length: 50 }, (_, i) => `after ${i}`);
    const input = [...before, "y".repeat(1_100_000), ...afterLines].join("\n") + "\n";
    const dl = join(dir, "dl");
    const r = await runShip([...base(sink), "--dead-letter", dl], { stdin: input });
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.recordsDelivered, 237);
    assert.equal(summary.recordsFailed, 1);
    assert.equal(summary.recordsLost, 0);
    assert.equal(sink.records.length, 237);
    const letter = parseDeadLetter(readFileSync(dl, "utf8").trimEnd());
    assert.equal(letter.reason, "too-large");
    assert.equal(letter.data.length, 1_100_000);
  });

  it("an oversized line that cannot be dead-lettered is lost alone: the rest still ship", async () => {
    sink.records.length = 0;
    const input = ["a", "z".repeat(1_100_000), "b"].join("\n") + "\n";
    const r = await runShip([...base(sink), "--dead-letter", "/dev/full"], { stdin: input });
    assert.equal(r.code, 5, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.recordsDelivered, 2);
    assert.equal(summary.recordsLost, 1);
    assert.deepEqual(sink.records.map((x) => dec.decode(x)).sort(), ["a", "b"]);
  });

  it("--replay skips fragments cut by a signal, keeps them, and says how many", async () => {
    sink.records.length = 0;
    const dir = tempDir();
    const old = join(dir, "old.ndjson");
    writeFileSync(
      old,
      formatDeadLetter(enc.encode("whole"), "closed", "x") +
        formatDeadLetter(enc.encode('{"cut'), "interrupted", "x", true),
    );
    const dl = join(dir, "new.ndjson");
    const r = await runShip([...base(sink), "--dead-letter", dl, "--replay", old]);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.fragmentsSkipped, 1);
    // Kept back, not failed; still exit 1: a record stays undelivered in the dead-letter file.
    assert.equal(summary.recordsFailed, 0);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(sink.records.map((x) => dec.decode(x)), ["whole"]);
    const kept = parseDeadLetter(readFileSync(dl, "utf8").trimEnd());
    assert.equal(dec.decode(kept.data), '{"cut');
    assert.equal(kept.fragment, true);

    sink.records.length = 0;
    const dl2 = join(dir, "new2.ndjson");
    const all = await runShip([
      ...base(sink),
      "--dead-letter",
      dl2,
      "--replay-fragments",
      "--replay",
      old,
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(JSON.parse(all.stdout).fragmentsSkipped, undefined);
    assert.deepEqual(sink.records.map((x) => dec.decode(x)).sort(), ["whole", '{"cut']);
  });
});
