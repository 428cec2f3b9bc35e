/**
 * Peak resident memory of `deno task ship` on a large file.
 *
 *   deno run -A scripts/bench/ship_memory.ts [--mb 1024] [--line 200] [--file PATH] [--probe] [--stdin]
 *
 * Writes a file of `--mb` MiB of ~`--line`-byte NDJSON lines (or uses `--file`),
 * starts a loopback PutRecord sink in this process (kinesis-mock is far too
 * slow), runs the CLI under `/usr/bin/time -v` against it, and prints the
 * CLI's peak RSS ("Maximum resident set size") with its summary. The CLI runs
 * as `deno task ship` does (its V8 flags, read from deno.json); extra CLI flags
 * for experiments come from `SHIP_MEMORY_EXTRA` ("--buffer-size 8m"). Without
 * `/usr/bin/time` it polls `/proc/<pid>/status` (VmHWM) instead. It also
 * reports the CLI's CPU seconds (user + system) and MiB per CPU second, the
 * steadier speed measure on a shared machine. `--probe` runs the CLI under
 * `ship_memory_probe.ts`, which samples `Deno.memoryUsage()` and adds the
 * peaks of RSS, V8 heap and external (ArrayBuffer) memory, and their split at
 * the RSS peak (`SHIP_PROBE_SERIES=<path>` writes the samples there).
 * `--stdin` pipes the file to the CLI's stdin instead (as `--spool` needs).
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startSink } from "../../tests/cli/kinesis_sink.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const mb = Number(flag("mb", "1024"));
const lineBytes = Number(flag("line", "200"));
const given = flag("file", "");
const probe = args.includes("--probe");
const stdin = args.includes("--stdin");
// With --probe the CLI runs under ship_memory_probe.ts, which samples Deno.memoryUsage().
const main = new URL(
  probe ? "./ship_memory_probe.ts" : "../../src/cli/main.ts",
  import.meta.url,
).pathname;

function writeInput(path: string): number {
  const fd = openSync(path, "w");
  const enc = new TextEncoder();
  const target = mb * 1024 * 1024;
  let written = 0;
  let lines = 0;
  let block = "";
  while (written < target) {
    // Varying content, so aggregates are not trivially alike; padded to about lineBytes.
    const head = `{"ts":${1767225600000 + lines},"seq":${lines},"level":"info","msg":"`;
    const pad = "x".repeat(Math.max(0, lineBytes - head.length - 3 - (lines % 17)));
    block += `${head}${pad}"}\n`;
    lines++;
    if (block.length >= 1 << 20) {
      const bytes = enc.encode(block);
      writeSync(fd, bytes);
      written += bytes.length;
      block = "";
    }
  }
  if (block) writeSync(fd, enc.encode(block));
  return lines;
}

const file = given || join(tmpdir(), `ship_memory_${process.pid}.ndjson`);
if (!given) {
  const t = performance.now();
  const lines = writeInput(file);
  console.error(
    `wrote ${file}: ${mb} MiB, ${lines} lines in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}

const sink = await startSink({ keep: false });
const useTime = existsSync("/usr/bin/time");
// The same command `deno task ship` runs (its V8 flags included), from deno.json.
const task = String(
  JSON.parse(readFileSync(new URL("../../deno.json", import.meta.url), "utf8")).tasks.ship,
);
const runArgs = task.slice(task.indexOf("deno run ") + "deno run ".length).split(/\s+/)
  .filter((a) => a && a !== "src/cli/main.ts");
const cli = [
  process.execPath,
  "run",
  ...runArgs,
  main,
  "--endpoint",
  sink.endpoint,
  "--stream-name",
  "bench",
  "--region",
  "us-east-1",
  "--json",
  // Nothing should fail; if something does, its dead letters must not land in the repo.
  "--dead-letter",
  join(tmpdir(), `ship_memory_${process.pid}.dead.ndjson`),
  ...(process.env.SHIP_MEMORY_EXTRA ? process.env.SHIP_MEMORY_EXTRA.split(" ") : []),
  // --stdin: the file comes on stdin (what --spool needs), not as an argument.
  ...(stdin ? [] : [file]),
];
const child = spawn(useTime ? "/usr/bin/time" : cli[0], useTime ? ["-v", ...cli] : cli.slice(1), {
  env: {
    ...process.env,
    AWS_ACCESS_KEY_ID: "AKIDBENCH",
    AWS_SECRET_ACCESS_KEY: "bench-secret",
    AWS_EC2_METADATA_DISABLED: "true",
  },
  stdio: [stdin ? openSync(file, "r") : "ignore", "pipe", "pipe"],
});
let stdout = "";
let stderr = "";
child.stdout!.on("data", (c) => (stdout += c));
child.stderr!.on("data", (c) => (stderr += c));
let polledKiB = 0;
const poll = setInterval(() => {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    polledKiB = Math.max(polledKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
  } catch {
    // Exited.
  }
}, 100);
const started = performance.now();
const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? -1)));
clearInterval(poll);
const seconds = (performance.now() - started) / 1000;
await sink.close();
if (!given) unlinkSync(file);
try {
  unlinkSync(join(tmpdir(), `ship_memory_${process.pid}.dead.ndjson`));
} catch {
  // None written.
}

const peakKiB = useTime
  ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0)
  : polledKiB;
// CPU of the CLI (user + system): on a shared machine a steadier measure than wall time.
const cpuSeconds = useTime
  ? Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN) +
    Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN)
  : NaN;
const last = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
const summary = last ? JSON.parse(last) : undefined;
const probeLine = stderr.split("\n").find((l) => l.startsWith("probe "));
const probed = probeLine ? JSON.parse(probeLine.slice("probe ".length)) : undefined;
if (probed && process.env.SHIP_PROBE_SERIES) {
  writeFileSync(process.env.SHIP_PROBE_SERIES, JSON.stringify(probed.series));
}
console.log(JSON.stringify(
  {
    inputMiB: mb,
    lineBytes,
    exitCode: code,
    seconds: Number(seconds.toFixed(1)),
    peakRssMiB: Number((peakKiB / 1024).toFixed(1)),
    command: `deno run ${runArgs.join(" ")} src/cli/main.ts`,
    method: useTime
      ? "/usr/bin/time -v: Maximum resident set size"
      : "/proc/<pid>/status VmHWM, polled",
    records: summary?.recordsDelivered,
    chunks: summary?.chunks,
    putRecordCalls: summary?.putRecordCalls,
    sinkCalls: sink.calls,
    mibPerSecond: Number((mb / seconds).toFixed(1)),
    cpuSeconds: Number(cpuSeconds.toFixed(1)),
    mibPerCpuSecond: Number((mb / cpuSeconds).toFixed(1)),
    ...(probed ? { probePeakMiB: probed.peakMiB, probeAtRssPeakMiB: probed.atRssPeakMiB } : {}),
  },
  null,
  2,
));
if (code !== 0) console.error(stderr.slice(-2000));
