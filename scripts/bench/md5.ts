/**
 * Benchmark: MD5 candidates per runtime, on the two sizes the library hashes:
 * aggregate bodies (250,000 bytes, the checksum) and partition keys (24 bytes,
 * keyed-mode routing). Each candidate × size runs alone in its own process,
 * order alternating between rounds; cost is CPU time of the timed loop.
 *
 * Orchestrate: `deno run -A scripts/bench/md5.ts [--rounds 5] [--runtimes deno,node]`.
 * One contender: `... --candidate hash-wasm --bytes 250000`.
 * @module
 */
import process from "node:process";
import {
  cpuSeconds,
  emitResult,
  isMain,
  median,
  parseArgs,
  runChildIn,
  type Runtime,
  runtimeName,
} from "./common.ts";
import { md5Candidates } from "./md5_candidates.ts";

/** Sizes measured: an aggregate body and a partition key. */
export const MD5_SIZES = [250_000, 24] as const;

/** One candidate at one size in one process. */
interface Md5Run {
  candidate: string;
  bytes: number;
  /** Nanoseconds of CPU per hash. */
  nsPerHash: number;
}

/** One runtime's table: per size, per candidate, median ns per hash and MB/s, plus ratios to node:crypto. */
export interface Md5Result {
  runtime: string;
  rounds: number;
  rows: {
    bytes: number;
    candidates: {
      name: string;
      nsPerHash: number[];
      medianNs: number;
      mbPerSec: number;
      /** Per round node:crypto ns / this ns: above 1, this one is faster. */
      vsNode: { median: number; min: number; max: number };
    }[];
  }[];
}

async function runOne(candidate: string, bytes: number, budgetMs: number): Promise<Md5Run> {
  const c = (await md5Candidates(true)).find((x) => x.name === candidate);
  if (!c) throw new Error(`No MD5 candidate ${candidate} in ${runtimeName()}`);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 131 + 7) & 0xff;
  // Warm-up, then size the loop to about `budgetMs`.
  let iterations = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) c.md5(data);
    if (performance.now() - t0 > budgetMs / 10) break;
    iterations *= 2;
  }
  iterations *= 10;
  const cpu0 = cpuSeconds();
  let sink = 0;
  for (let i = 0; i < iterations; i++) sink ^= c.md5(data)[i & 15];
  const cpu = cpuSeconds() - cpu0;
  if (sink < 0) throw new Error("unreachable");
  return { candidate, bytes, nsPerHash: cpu * 1e9 / iterations };
}

/** Runs every candidate at every size in `runtime`, `rounds` times. */
export async function benchMd5(
  options: { rounds?: number; runtime?: Runtime; smoke?: boolean } = {},
): Promise<Md5Result> {
  const rounds = options.rounds ?? 5;
  const runtime = options.runtime ?? "deno";
  const names = ["node:crypto", "hash-wasm", "noble"];
  const self = new URL(import.meta.url).pathname;
  const budget = options.smoke ? "20" : "400";
  const rows: Md5Result["rows"] = [];
  let runtimeLabel = runtime as string;
  for (const bytes of MD5_SIZES) {
    const runs = new Map<string, number[]>(names.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      for (const n of round % 2 ? [...names].reverse() : names) {
        const r = await runChildIn<Md5Run & { runtime?: string }>(runtime, self, [
          "--candidate",
          n,
          "--bytes",
          String(bytes),
          "--budget",
          budget,
        ]);
        runs.get(n)!.push(r.nsPerHash);
        if (r.runtime) runtimeLabel = r.runtime;
      }
    }
    const node = runs.get("node:crypto")!;
    rows.push({
      bytes,
      candidates: names.map((name) => {
        const ns = runs.get(name)!;
        const per = ns.map((x, i) => node[i] / x);
        const m = median(ns);
        return {
          name,
          nsPerHash: ns,
          medianNs: m,
          mbPerSec: bytes / m * 1e3,
          vsNode: { median: median(per), min: Math.min(...per), max: Math.max(...per) },
        };
      }),
    });
  }
  return { runtime: runtimeLabel, rounds, rows };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args.candidate === "string") {
    const r = await runOne(args.candidate, Number(args.bytes), Number(args.budget ?? 400));
    emitResult({ ...r, runtime: runtimeName() });
  } else {
    for (const runtime of String(args.runtimes ?? "deno,node").split(",") as Runtime[]) {
      emitResult(
        await benchMd5({ rounds: args.rounds ? Number(args.rounds) : undefined, runtime }),
      );
    }
  }
  process.exit(0);
}
