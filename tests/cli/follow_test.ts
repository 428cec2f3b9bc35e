/**
 * `--follow`: rename-and-create and copy-truncate rotation, a truncation, a
 * glob picking up a new file, and a partial last line, against a real shipper
 * process and a loopback sink.
 */
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  copyFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { finished, type ShipResult, spawnShip, tempDir, until } from "./run_ship.ts";
import type { ChildProcess } from "node:child_process";
import process from "node:process";

const dec = new TextDecoder();

function lines(prefix: string, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += `${prefix}-${i}\n`;
  return out;
}

function followArgs(sink: Sink, extra: string[]): string[] {
  const base = [
    "--stream-name",
    "s",
    "--endpoint",
    sink.endpoint,
    "--linger",
    "20ms",
    "--poll-interval",
    "50ms",
    "--partial-line-wait",
    "400ms",
    "--rotate-wait",
    "300ms",
  ];
  // Later flags replace the defaults above.
  for (let i = 0; i < extra.length; i += 2) {
    const at = base.indexOf(extra[i]);
    if (at >= 0 && extra[i] !== "--follow") base.splice(at, 2);
  }
  return [...base, ...extra];
}

/** Stopped by SIGTERM after delivering: exit 143 (or the signal, when it came before the handler). */
function assertStopped(result: ShipResult): void {
  assert.ok(result.code === 143 || result.signal === "SIGTERM", result.stderr);
  assert.doesNotMatch(result.stderr, /error/i);
}

describe("ship --follow", () => {
  let sink: Sink;
  let dir: string;
  let child: ChildProcess | undefined;
  let done: Promise<ShipResult> | undefined;
  const got = () => sink.records.map((r) => dec.decode(r));
  const has = (...want: string[]) => () => {
    const set = new Set(got());
    return want.every((w) => set.has(w));
  };
  const start = (extra: string[]) => {
    child = spawnShip(followArgs(sink, extra));
    done = finished(child);
  };
  const stop = async (): Promise<ShipResult> => {
    // Not child.kill: Deno closes stdin there, racing the signal.
    process.kill(child!.pid!, "SIGTERM");
    const result = await done!;
    child = undefined;
    return result;
  };

  beforeEach(async () => {
    sink = await startSink();
    dir = tempDir();
  });
  afterEach(async () => {
    if (child) {
      child.kill("SIGKILL");
      await done;
    }
    await sink.close();
  });

  it("reads the rest of a renamed file, then the new file at its name, each line once", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, lines("a", 0, 100));
    start(["--follow", log, "--checkpoint", join(dir, "cp.json")]);
    await until(has("a-99"));
    appendFileSync(log, lines("a", 100, 150));
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines("b", 0, 50));
    // A late write to the renamed file, as a writer that has not reopened yet does.
    appendFileSync(`${log}.1`, lines("a", 150, 160));
    await until(has("a-159", "b-49"));
    const result = await stop();
    assertStopped(result);
    const all = got();
    assert.deepEqual(
      all.filter((l) => l.startsWith("a-")).sort(),
      lines("a", 0, 160).trim().split("\n").sort(),
    );
    assert.deepEqual(
      all.filter((l) => l.startsWith("b-")).sort(),
      lines("b", 0, 50).trim().split("\n").sort(),
    );
  });

  it("copy-truncate: reads the file again from its start after it shrinks, and a plain truncation", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, lines("a", 0, 100));
    start(["--follow", log]);
    await until(has("a-99"));
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(log, lines("b", 0, 10));
    await until(has("b-9"));
    // Truncated and refilled past the old size before a poll sees it: the first bytes differ.
    writeFileSync(log, lines("c", 0, 200));
    await until(has("c-199"));
    const result = await stop();
    assertStopped(result);
    assert.match(result.stderr, /truncated/);
    const all = got();
    assert.equal(all.length, 100 + 10 + 200, "each line once, none lost");
    assert.equal(new Set(all).size, all.length);
  });

  it("never reads its own dead-letter, checkpoint or lock files, even when the glob matches them", async () => {
    const dl = join(dir, "dead.ndjson");
    // Dead letters of an earlier run, and a line too large to ship, which this run dead-letters:
    // read back as input, each would fail again, larger (base64), without end.
    writeFileSync(dl, '{"reason":"earlier"}\n');
    writeFileSync(join(dir, "app.log"), lines("a", 0, 50) + "x".repeat(1_100_000) + "\n");
    start(["--follow", join(dir, "*"), "--dead-letter", dl, "--checkpoint", join(dir, "cp.json")]);
    await until(has("a-49"));
    await until(() => statSync(dl).size > 1_000_000);
    // Several polls and checkpoint writes later, still nothing of its own files was read.
    await new Promise((r) => setTimeout(r, 1500));
    const result = await stop();
    // Exit 1: the oversized line failed (stopped by SIGTERM otherwise: 143).
    assert.ok(result.code === 1 || result.signal === "SIGTERM", `${result.code}\n${result.stderr}`);
    assert.match(result.stderr, /not reading .*dead\.ndjson/);
    assert.deepEqual(got().sort(), lines("a", 0, 50).trim().split("\n").sort());
    assert.ok(statSync(dl).size < 2_000_000, `dead-letter file grew to ${statSync(dl).size} bytes`);
  });

  it("picks up a new file matching the glob", async () => {
    writeFileSync(join(dir, "one.log"), lines("one", 0, 20));
    writeFileSync(join(dir, "skip.txt"), lines("skip", 0, 5));
    start(["--follow", join(dir, "*.log")]);
    await until(has("one-19"));
    writeFileSync(join(dir, "two.log"), lines("two", 0, 20));
    await until(has("two-19"));
    const result = await stop();
    assertStopped(result);
    assert.ok(!got().some((l) => l.startsWith("skip")), "files outside the glob are not read");
    assert.equal(got().length, 40);
  });

  it("holds a partial last line until its newline, or ships it after the idle wait", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, "first\nhalf-");
    start(["--follow", log, "--partial-line-wait", "5s"]);
    await until(has("first"));
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(!got().some((l) => l.startsWith("half")), "not shipped before its newline");
    appendFileSync(log, "done\nquiet-tail");
    await until(has("half-done"));
    assert.ok(!got().includes("quiet-tail"));
    await stop();
    // Now with a short wait: the quiet tail goes out alone.
    const log2 = join(dir, "b.log");
    writeFileSync(log2, "x\nquiet");
    start(["--follow", log2, "--partial-line-wait", "300ms"]);
    await until(has("x", "quiet"));
    const result = await stop();
    assertStopped(result);
  });
});
