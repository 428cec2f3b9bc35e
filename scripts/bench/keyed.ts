/**
 * Benchmark: keyed mode with a shard map against default mode, records per
 * second through `Aggregator` (MD5 of every aggregate included).
 *
 * `deno run -A scripts/bench/keyed.ts [--records 1000000] [--keys 100000] [--shards 1000] [--target 262144] [--rounds 5] [--nomap]`
 *
 * Each contender runs in its own child process per round, rounds alternate
 * which goes first, and the report is the median per-round ratio
 * (keyed records/s ÷ default records/s) with its range. Issue 16's target is
 * a median of at least 0.8. Records per CPU-second are reported too: on a
 * shared machine wall time mostly measures the neighbours.
 *
 * - `default`: one shared random outer key per aggregate, records without keys.
 * - `keyed-map`: `keyed: true` with a map of `--shards` equal shards; every
 *   record carries one of `--keys` distinct partition keys in random order.
 * - `keyed-nomap` (with `--nomap`): keyed mode without a map (grouped by hash
 *   range, the default), for reference.
 *
 * All aggregate to `--target` bytes (default 256 KiB, the producer's default) and drop each aggregate after
 * counting it. A warm-up pass on a separate aggregator runs first in each child.
 * @module
 */
import process from "node:process";
import { Aggregator } from "../../src/format/aggregator.ts";
import type { UserRecord } from "../../src/format/record.ts";
import { MAX_HASH_KEY } from "../../src/format/keys.ts";
import { ShardMap } from "../../src/format/shard_map.ts";
import {
  cpuSeconds,
  emitResult,
  makePayloads,
  median,
  parseArgs,
  rng,
  runChild,
  runtimeName,
  sig,
} from "./common.ts";

interface ChildResult {
  contender: string;
  records: number;
  aggregates: number;
  ms: number;
  cpuS: number;
  recordsPerSec: number;
  recordsPerCpuSec: number;
}

const args = parseArgs(process.argv.slice(2));
const records = Number(args.records ?? 1_000_000);
const keys = Number(args.keys ?? 100_000);
const shards = Number(args.shards ?? 1000);
const rounds = Number(args.rounds ?? 5);
const targetBytes = Number(args.target ?? 262_144);

function evenMap(n: number): ShardMap {
  const step = (MAX_HASH_KEY + 1n) / BigInt(n);
  return new ShardMap(Array.from({ length: n }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, "0")}`,
    startingHashKey: `${step * BigInt(i)}`,
    endingHashKey: `${i === n - 1 ? MAX_HASH_KEY : step * BigInt(i + 1) - 1n}`,
  })));
}

function makeRecords(contender: string, count: number, seed: number): UserRecord[] {
  const payloads = makePayloads(count, () => 200, seed);
  if (contender === "default") return payloads.map((data) => ({ data }));
  const names = Array.from({ length: keys }, (_, i) => `user-${i}`);
  const random = rng(seed + 1);
  return payloads.map((data) => ({
    data,
    partitionKey: names[Math.floor(random() * keys)],
  }));
}

function newAggregator(contender: string, map: ShardMap): Aggregator {
  if (contender === "default") return new Aggregator({ targetBytes });
  if (contender === "keyed-map") return new Aggregator({ keyed: true, shards: map, targetBytes });
  return new Aggregator({ keyed: true, targetBytes });
}

function run(aggregator: Aggregator, input: readonly UserRecord[]): number {
  let aggregates = 0;
  for (let i = 0; i < input.length; i++) if (aggregator.add(input[i])) aggregates++;
  aggregates += aggregator.flush().length;
  return aggregates;
}

function child(contender: string): void {
  const map = evenMap(shards);
  // Warm-up: a different seed and a fresh aggregator, so no key is cached for the timed run.
  run(newAggregator(contender, map), makeRecords(contender, Math.min(records, 100_000), 7));
  const input = makeRecords(contender, records, 42);
  const aggregator = newAggregator(contender, map);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const aggregates = run(aggregator, input);
  const ms = performance.now() - t0;
  const cpuS = cpuSeconds() - cpu0;
  emitResult(
    {
      contender,
      records,
      aggregates,
      ms,
      cpuS,
      recordsPerSec: records / (ms / 1000),
      recordsPerCpuSec: records / cpuS,
    } satisfies ChildResult,
  );
}

async function parent(): Promise<void> {
  const script = new URL(import.meta.url).pathname;
  const contenders = ["default", "keyed-map", ...(args.nomap ? ["keyed-nomap"] : [])];
  const common = [
    ...["--records", `${records}`, "--keys", `${keys}`, "--shards", `${shards}`],
    ...["--target", `${targetBytes}`],
  ];
  const byRound: Record<string, ChildResult>[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    const round: Record<string, ChildResult> = {};
    for (const c of order) {
      round[c] = await runChild<ChildResult>(script, ["--child", c, ...common]);
      const x = round[c];
      console.error(
        `round ${r + 1} ${c}: ${sig(x.recordsPerSec / 1e6)} M records/s, ${
          sig(x.recordsPerCpuSec / 1e6)
        } M records/CPU-s, ${x.aggregates} aggregates`,
      );
    }
    byRound.push(round);
  }
  const ratios = byRound.map((r) => r["keyed-map"].recordsPerSec / r.default.recordsPerSec);
  const cpuRatios = byRound.map((r) =>
    r["keyed-map"].recordsPerCpuSec / r.default.recordsPerCpuSec
  );
  const spread = (xs: number[]) => ({
    median: sig(median(xs)),
    min: sig(Math.min(...xs)),
    max: sig(Math.max(...xs)),
    perRound: xs.map((x) => sig(x)),
  });
  const summary = {
    benchmark: "keyed",
    runtime: runtimeName(),
    records,
    keys,
    shards,
    rounds,
    targetBytes,
    medianRecordsPerSec: Object.fromEntries(
      contenders.map((c) => [c, sig(median(byRound.map((r) => r[c].recordsPerSec)))]),
    ),
    aggregates: Object.fromEntries(contenders.map((c) => [c, byRound[0][c].aggregates])),
    keyedOverDefault: spread(ratios),
    keyedOverDefaultCpu: spread(cpuRatios),
  };
  const show = (x: ReturnType<typeof spread>) => `median ${x.median} (range ${x.min}–${x.max})`;
  console.error(
    `keyed-map / default over ${rounds} rounds: records/s ${
      show(summary.keyedOverDefault)
    }; records/CPU-s ${show(summary.keyedOverDefaultCpu)}`,
  );
  emitResult(summary);
}

if (typeof args.child === "string") child(args.child);
else await parent();
