/**
 * What durability costs `deno task ship`: throughput and peak RSS of the same
 * input shipped four ways to a loopback PutRecord sink:
 * - a file, plain; a file with `--checkpoint`;
 * - stdin, plain; stdin with `--spool` (default fsync policy, and `always`).
 *
 *   deno run -A scripts/bench/ship_durability.ts [--mb 256] [--line 200] [--rounds 2]
 *
 * Peak RSS from `/usr/bin/time -v` ("Maximum resident set size"); each case
 * runs `--rounds` times, alternating, and the median is kept.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startSink } from "../../tests/cli/kinesis_sink.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const mb = Number(flag("mb", "256"));
const lineBytes = Number(flag("line", "200"));
const rounds = Number(flag("rounds", "2"));
const only = flag("only", "");
const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ship-durability-"));
const file = join(dir, "input.ndjson");

let lines = 0;
{
  const fd = openSync(file, "w");
  const enc = new TextEncoder();
  let written = 0;
  let block = "";
  while (written < mb * 1024 * 1024) {
    const head = `{"ts":${1767225600000 + lines},"seq":${lines},"msg":"`;
    block += `${head}${"x".repeat(Math.max(0, lineBytes - head.length - 3))}"}\n`;
    lines++;
    if (block.length >= 1 << 20) {
      const bytes = enc.encode(block);
      writeSync(fd, bytes);
      written += bytes.length;
      block = "";
    }
  }
  if (block) writeSync(fd, enc.encode(block));
}

const sink = await startSink({ keep: false });
const base = ["--endpoint", sink.endpoint, "--stream-name", "bench", "--region", "us-east-1"];

interface Case {
  name: string;
  stdin: boolean;
  extra: () => string[];
}
const cases: Case[] = [
  { name: "file", stdin: false, extra: () => [file] },
  {
    name: "file --checkpoint",
    stdin: false,
    extra: () => {
      rmSync(join(dir, "cp.json"), { force: true });
      return ["--checkpoint", join(dir, "cp.json"), file];
    },
  },
  { name: "stdin", stdin: true, extra: () => [] },
  {
    name: "stdin --spool",
    stdin: true,
    extra: () => ["--spool", join(dir, "spool")],
  },
  {
    name: "stdin --spool --spool-fsync always",
    stdin: true,
    extra: () => ["--spool", join(dir, "spool-always"), "--spool-fsync", "always"],
  },
];

async function run(c: Case): Promise<{ seconds: number; peakRssMiB: number; cpu: number }> {
  const cli = [process.execPath, "run", "-A", main, ...base, ...c.extra()];
  const command = c.stdin ? ["sh", "-c", `"$@" < '${file}'`, "sh", ...cli] : cli;
  const child = spawn("/usr/bin/time", ["-v", ...command], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "AKIDBENCH",
      AWS_SECRET_ACCESS_KEY: "bench-secret",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (b) => (stderr += b));
  const started = performance.now();
  const code = await new Promise<number>((r) => child.on("close", (x) => r(x ?? -1)));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${c.name} exited ${code}: ${stderr.slice(-800)}`);
  const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0);
  const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 0) +
    Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 0);
  return { seconds, peakRssMiB: kib / 1024, cpu };
}

const results = new Map<string, { seconds: number[]; rss: number[]; cpu: number[] }>();
const chosen = only ? cases.filter((c) => only.split(",").includes(c.name)) : cases;
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? chosen : [...chosen].reverse();
  for (const c of order) {
    const m = await run(c);
    const entry = results.get(c.name) ?? { seconds: [], rss: [], cpu: [] };
    entry.seconds.push(m.seconds);
    entry.cpu.push(m.cpu);
    entry.rss.push(m.peakRssMiB);
    results.set(c.name, entry);
    console.error(
      `${c.name}: ${m.seconds.toFixed(1)} s, ${m.cpu.toFixed(1)} CPU-s, ${
        m.peakRssMiB.toFixed(0)
      } MiB`,
    );
  }
}
await sink.close();
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${mb} MiB, ${lines} lines of ~${lineBytes} B, median of ${rounds}, wall time incl. start`,
);
console.log("| Input | MiB/s | records/s | CPU-s per million lines | peak RSS MiB |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const c of chosen) {
  const e = results.get(c.name)!;
  const s = median(e.seconds);
  console.log(
    `| ${c.name} | ${(mb / s).toFixed(1)} | ${Math.round(lines / s)} | ${
      (median(e.cpu) / lines * 1e6).toFixed(2)
    } | ${median(e.rss).toFixed(0)} |`,
  );
}
