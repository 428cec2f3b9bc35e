/** The disk spool: framing, torn tails, damage, versions, the lock, the cap. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { Spool, SpoolError } from "../../src/runtime/spool.ts";
import { tempDir } from "./run_ship.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function open(dir: string, extra: Partial<Parameters<typeof Spool.open>[1]> = {}) {
  const warnings: string[] = [];
  const spool = Spool.open(dir, {
    maxBytes: 1 << 30,
    fsyncMs: 0,
    warn: (t) => warnings.push(t),
    ...extra,
  });
  return { spool, warnings };
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".seg")).sort();

describe("Spool", () => {
  it("replays unsettled records on the next open, and deletes a segment once all settle", async () => {
    const dir = tempDir();
    const a = open(dir, { segmentBytes: 32 });
    const settles = await a.spool.append(["one", "two", "three"].map((s) => enc.encode(s)));
    const more = await a.spool.append([enc.encode("four")]);
    assert.equal(segments(dir).length, 2, "a segment past its size is closed, the next opens");
    settles.forEach((s) => s());
    assert.equal(segments(dir).length, 1, "the settled, closed segment is deleted");
    a.spool.close(); // "four" never settled: a crash would leave the same
    const b = open(dir);
    const replayed = [...b.spool.replay()];
    assert.deepEqual(replayed.map((r) => dec.decode(r.data)), ["four"]);
    replayed[0].settle();
    assert.deepEqual(segments(dir), []);
    b.spool.close();
    void more;
  });

  it("replays only past the settled prefix kept in the .ack file, not the whole segment", async () => {
    const dir = tempDir();
    const a = open(dir);
    const settles = await a.spool.append(["r0", "r1", "r2", "r3", "r4"].map((t) => enc.encode(t)));
    settles[0]();
    settles[1]();
    settles[3](); // settled, but behind the unsettled r2: sent again after a crash
    a.spool.close(); // writes the .ack as a crash a second later would have left it
    assert.equal(readFileSync(join(dir, segments(dir)[0].replace(".seg", ".ack")), "utf8"), "2\n");
    const b = open(dir);
    const replayed = [...b.spool.replay()];
    assert.deepEqual(replayed.map((r) => dec.decode(r.data)), ["r2", "r3", "r4"]);
    replayed.forEach((r) => r.settle());
    assert.deepEqual(readdirSync(dir).filter((n) => n !== "lock"), [], "segment and .ack deleted");
    b.spool.close();
  });

  it("cuts off a torn last write and keeps everything before it", async () => {
    const dir = tempDir();
    const a = open(dir);
    await a.spool.append([enc.encode("kept-1"), enc.encode("kept-2")]);
    a.spool.close();
    const [name] = segments(dir);
    appendFileSync(join(dir, name), new Uint8Array([20, 0, 0, 0, 1, 2])); // a frame cut short
    const b = open(dir);
    assert.deepEqual([...b.spool.replay()].map((r) => dec.decode(r.data)), ["kept-1", "kept-2"]);
    assert.match(b.warnings.join("\n"), /torn by a crash/);
    b.spool.close();
    // A checksum mismatch in the last record is a torn write too.
    const c = open(tempDir());
    await c.spool.append([enc.encode("x"), enc.encode("y")]);
    c.spool.close();
    const path = join(c.spool.dir, segments(c.spool.dir)[0]);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    const d = open(c.spool.dir);
    assert.deepEqual([...d.spool.replay()].map((r) => dec.decode(r.data)), ["x"]);
    d.spool.close();
  });

  it("refuses damage before the last segment, and another version, unless told to keep what is intact", async () => {
    const dir = tempDir();
    const a = open(dir, { segmentBytes: 16 });
    await a.spool.append([enc.encode("first-segment-a")]);
    await a.spool.append([enc.encode("second-segment")]);
    a.spool.close();
    const first = join(dir, segments(dir)[0]);
    truncateSync(first, readFileSync(first).length - 3);
    assert.throws(
      () => open(dir),
      (e) => e instanceof SpoolError && /--start-over/.test(e.message),
    );
    const b = open(dir, { keepIntact: true });
    assert.deepEqual([...b.spool.replay()].map((r) => dec.decode(r.data)), ["second-segment"]);
    assert.match(b.warnings.join("\n"), /set aside/);
    b.spool.close();

    const v = tempDir();
    writeFileSync(
      join(v, "0000000000000001.seg"),
      new Uint8Array([0x4b, 0x53, 0x50, 0x4c, 9, 0, 0, 0]),
    );
    writeFileSync(
      join(v, "0000000000000002.seg"),
      new Uint8Array([0x4b, 0x53, 0x50, 0x4c, 2, 0, 0, 0]),
    );
    assert.throws(() => open(v), /spool version 9/);
    // A run of zeros (pages a crash never wrote) does not pass as empty records.
    const z = tempDir();
    writeFileSync(
      join(z, "0000000000000001.seg"),
      new Uint8Array([0x4b, 0x53, 0x50, 0x4c, 2, 0, 0, 0, ...new Array(64).fill(0)]),
    );
    writeFileSync(
      join(z, "0000000000000002.seg"),
      new Uint8Array([0x4b, 0x53, 0x50, 0x4c, 2, 0, 0, 0]),
    );
    assert.throws(() => open(z), /checksum does not match/);
  });

  it("refuses a spool a live process holds", () => {
    const dir = tempDir();
    const other = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(dir, "lock"), `${other.pid}\n`);
      assert.throws(() => open(dir), new RegExp(`locked by process ${other.pid}`));
    } finally {
      other.kill();
    }
  });

  it("waits while the disk is full, says so, and goes on once there is room (tmpfs; needs root)", async (t) => {
    const dir = tempDir();
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { stdio: "ignore" });
    } catch {
      t.skip("cannot mount a small tmpfs here (not root?)");
      return;
    }
    try {
      const spoolDir = join(dir, "spool");
      const { spool, warnings } = open(spoolDir, { fsyncMs: -1 });
      const first = await spool.append([enc.encode("before")]);
      // Fill the disk.
      const filler = join(dir, "filler");
      try {
        for (;;) appendFileSync(filler, new Uint8Array(16 * 1024));
      } catch (error) {
        assert.equal((error as { code?: string }).code, "ENOSPC");
      }
      let done = false;
      const big = new Uint8Array(64 * 1024).fill(0x61);
      const waiting = spool.append([big]).then((s) => {
        done = true;
        return s;
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(done, false, "waits while the disk is full");
      assert.match(warnings.join("\n"), /disk is full/);
      rmSync(filler);
      const second = await waiting;
      assert.match(warnings.join("\n"), /disk space is back/);
      spool.close();
      const again = open(spoolDir);
      const replayed = [...again.spool.replay()];
      assert.deepEqual(
        replayed.map((r) => r.data.length),
        [6, big.length],
        "nothing dropped, frames intact",
      );
      assert.deepEqual(replayed[1].data, big);
      again.spool.close();
      void first;
      void second;
    } finally {
      execFileSync("umount", [dir]);
    }
  });

  it("makes input wait at its cap until records settle, never dropping", async () => {
    const dir = tempDir();
    const { spool, warnings } = open(dir, { maxBytes: 1024, segmentBytes: 256 });
    const first = await spool.append([new Uint8Array(900)]);
    let appended = false;
    const waiting = spool.append([new Uint8Array(500)]).then((s) => {
      appended = true;
      return s;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(appended, false, "waits while full");
    assert.match(warnings.join("\n"), /is full/);
    first[0]();
    const second = await waiting;
    assert.equal(appended, true);
    second[0]();
    spool.close();
    assert.deepEqual(segments(dir), []);
  });
});
