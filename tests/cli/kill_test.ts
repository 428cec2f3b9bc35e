/**
 * The kill test: 200,000 lines to a slow, throttling loopback sink, the
 * shipper SIGKILLed at 10 random moments and restarted each time on the same
 * checkpoint (or spool). In the end every line is delivered at least once, and
 * every duplicate is a line that was delivered before a kill but lay above
 * what the checkpoint had recorded as settled: what was in flight.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { finished, type ShipResult, spawnShip, tempDir } from "./run_ship.ts";
import { int, rng } from "../support/random.ts";

export const LINES = 200_000;
export const KILLS = 10;
const LINE_BYTES = 48; // "line-000000 " + padding + "\n"

/** Line `i`, newline included: fixed width, so an offset maps to a line number. */
export function line(i: number): string {
  const head = `line-${String(i).padStart(6, "0")} `;
  return head + "x".repeat(LINE_BYTES - 1 - head.length) + "\n";
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
  const dec = new TextDecoder();
  for (const r of sink.records) {
    const i = Number(dec.decode(r.subarray(5, 11)));
    seen[i]++;
  }
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
  ];
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
        await new Promise((r) => setTimeout(r, int(rand, 400, 2500)));
        process.kill(child.pid!, "SIGKILL");
        const result: ShipResult = await done;
        assert.equal(result.signal, "SIGKILL", `seed ${seed}: ${result.stderr}`);
        const before = arrivals(sink);
        const offset = existsSync(cp)
          ? JSON.parse(readFileSync(cp, "utf8")).files[0]?.offset ?? 0
          : 0;
        assert.equal(offset % LINE_BYTES, 0, "the checkpoint is on a line boundary");
        for (let i = offset / LINE_BYTES; i < LINES; i++) if (before[i] > 0) resent++;
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
