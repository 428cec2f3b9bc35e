/**
 * The operator's bad day from issue 19, on a fake sink: 60,000 lines (84 MB)
 * through a loopback Kinesis that answers 25% of calls with 500, 25% with a
 * throttle and resets 10% of connections (half before the sink sees the call,
 * half after: those are ambiguous), with `--num-threads 8 --chunk-limit 64k
 * --max-retries 30`. Every line must arrive; duplicates only from ambiguous
 * resets; no chunk may expire unattempted. The time is printed, not asserted.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type FaultProxy, startFaultProxy } from "../support/fault_proxy.ts";
import { rng } from "../support/random.ts";
import { type Sink, startSink } from "./kinesis_sink.ts";
import { runShip, tempDir } from "./run_ship.ts";

const LINES = 60_000;
const LINE_BYTES = 1_400;

describe("a bad day: 500s, throttles and resets at high rates", () => {
  let sink: Sink;
  let proxy: FaultProxy;
  before(async () => {
    sink = await startSink();
    const random = rng(1919);
    proxy = await startFaultProxy({
      upstream: sink.endpoint,
      fault: () => {
        const r = random();
        return r < 0.25
          ? "500"
          : r < 0.5
          ? "throttle"
          : r < 0.55
          ? "reset"
          : r < 0.6
          ? "reset-after"
          : "pass";
      },
    });
  });
  after(async () => {
    await proxy?.stop();
    await sink?.close();
  });

  it(
    "delivers every line, duplicates only from ambiguous resets",
    { timeout: 600_000 },
    async () => {
      const dir = tempDir();
      const file = join(dir, "bad-day.ndjson");
      const lines: string[] = [];
      for (let i = 0; i < LINES; i++) {
        lines.push(`{"n":${i},"pad":"${"x".repeat(LINE_BYTES - 20 - String(i).length)}"}`);
      }
      writeFileSync(file, lines.join("\n") + "\n");
      const started = performance.now();
      const r = await runShip([
        "--endpoint",
        proxy.url,
        "--stream-name",
        "s",
        "--json",
        "--num-threads",
        "8",
        "--chunk-limit",
        "64k",
        "--max-retries",
        "30",
        file,
      ], { cwd: dir });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.recordsDelivered, LINES);
      assert.equal(summary.recordsFailed, 0);
      const dec = new TextDecoder();
      const got = new Map<string, number>();
      for (const rec of sink.records) {
        const text = dec.decode(rec);
        got.set(text, (got.get(text) ?? 0) + 1);
      }
      assert.equal(got.size, LINES, "every line arrived");
      for (const line of lines) assert.ok(got.has(line));
      const duplicates = sink.records.length - LINES;
      // An ambiguous call carried at most one PutRecords' worth of lines.
      assert.ok(
        duplicates <= proxy.ambiguous * Math.ceil(5 * 1_048_576 / LINE_BYTES),
        `${duplicates} duplicates from ${proxy.ambiguous} ambiguous calls`,
      );
      if (proxy.ambiguous === 0) assert.equal(duplicates, 0);
      console.log(
        `bad day: ${LINES} lines in ${seconds.toFixed(1)} s, ${summary.putRecordCalls} calls ` +
          `(${JSON.stringify(summary.callsByKind)}), faults ${JSON.stringify(proxy.counts)}, ` +
          `${duplicates} duplicates from ${proxy.ambiguous} ambiguous calls`,
      );
    },
  );
});
