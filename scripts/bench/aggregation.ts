/**
 * Benchmark 1: aggregation throughput. Each contender runs alone in its own
 * process (fresh heap, own JIT), in the runtime under test; the orchestrator
 * alternates the contender order between rounds and reports, per pair, the
 * median of the per-round ratios of CPU time (user + system, all threads; on a
 * shared machine wall time mostly measures waiting for a core) and their range.
 *
 * Contenders, all on the same records (same bytes, same count):
 * - `ours-1MiB`: `Aggregator` with `targetBytes` = 1 MiB, the size
 *   `aws-kinesis-agg` packs to, so both emit the same aggregate count and bytes
 *   (checked: the result carries both counts). It calls `release` on each
 *   aggregate once it has counted it, as the producer does once an aggregate
 *   is delivered, so later aggregates reuse its buffer (at most 4 kept).
 * - `ours-1MiB-norelease`: the same without `release`: a fresh buffer per
 *   aggregate, as for a caller that keeps its aggregates.
 * - `ours-default`: `Aggregator` with its default `targetBytes`, what the
 *   producer uses; releases like `ours-1MiB`.
 * - `aws-kinesis-agg`: `agg.aggregate(records, onEncoded, afterAll, onError)`
 *   with one shared 36-character partition key.
 * - `ours-keyed` (200B only): keyed mode with a 1,000-shard map and 100,000
 *   distinct partition keys in round-robin order; compared with `ours-default`.
 * - `floor`: the least any aggregator must do: copy every record once into
 *   1 MiB buffers laid out like the aggregates (same framing gaps, same sizes)
 *   and MD5 each buffer with the fastest MD5 this runtime has (every candidate
 *   in {@link md5Candidates} is timed; the fastest counts).
 * - `floor-fresh`: the floor, but with a fresh buffer per aggregate, as any
 *   aggregator whose aggregates outlive the call must write into: the floor
 *   reuses one buffer, so it leaves out allocation and the GC that follows
 *   (about 5% of it in steady state). Reported beside the floor
 *   (`aboveFloor` entries against `floor-fresh`), not instead of it.
 *
 * Steady state, as in a long-running producer: each process first checks its
 * output on a slice (and warms the JIT), then runs one full pass that does not
 * count (reported as `coldCpuMs`), then `--passes` (default 7) timed full passes; `cpuMs` is their
 * median. Why 7, not 3: Node's heap is not settled by then. Pass by pass (CPU
 * ms, 300,000 × 200 B, Node 20), `ours-1MiB-norelease` went 145, 133, 134, 163,
 * 163 (old space fills with dead buffers) and `ours-1MiB` 147, 138, 139, 123,
 * 126, while the floor stays at 115-116; with 3 passes the median of Node's
 * release against no release was 0.97 (release dearer), with 7 it is 1.30. Why not the first full pass: it writes 60 MiB of output into memory
 * the process never touched, about 16,000 page faults. The floor reuses one
 * buffer and pays none of them, while an aggregator whose aggregates outlive
 * the call cannot, so a cold pass measured mostly first-touch memory: on
 * 300,000 × 200 B (Deno, CPU ms) the floor made cold with a fresh buffer per
 * aggregate went from about 150 to 195, and ours was 205 cold but 156 in steady
 * state, where freed buffers are reused. In steady state a fresh buffer per
 * aggregate still costs the floor about 5 ms (142 against 137): allocation and
 * the GC it triggers, which the floor leaves out.
 *
 * Orchestrate: `deno run -A scripts/bench/aggregation.ts --dataset 200B [--records N] [--rounds R] [--passes P] [--runtimes deno,node]`.
 * One contender: `... --contender ours-1MiB --dataset 200B --records N [--passes P]`.
 * @module
 */
import process from "node:process";
import aggModule from "aws-kinesis-agg";
import { Aggregator } from "../../src/format/aggregator.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import type { UserRecord } from "../../src/format/record.ts";
import type { ShardHashRange } from "../../src/format/shard_map.ts";
import {
  cpuSeconds,
  dataset,
  emitResult,
  isMain,
  makePayloads,
  median,
  parseArgs,
  runChildIn,
  type Runtime,
  runtimeName,
  totalBytes,
} from "./common.ts";
import { md5Candidates } from "./md5_candidates.ts";

// Its typings want the aws-sdk v2 and aws-lambda types; the benchmark uses it untyped.
const agg = aggModule as any;

/** Contender names. */
export type AggregationContenderName =
  | "ours-1MiB"
  | "ours-1MiB-norelease"
  | "ours-default"
  | "aws-kinesis-agg"
  | "ours-keyed"
  | "floor"
  | "floor-fresh";

/** What one contender process reports. */
export interface AggregationRun {
  contender: AggregationContenderName;
  runtime: string;
  ms: number;
  cpuMs: number;
  aggregates: number;
  outputBytes: number;
  /** CPU ms of the first full pass, before the timed ones (cold memory and heap). */
  coldCpuMs: number;
  /** CPU ms of each timed pass; `cpuMs` is their median. */
  passCpuMs: number[];
  /** For `floor`: ms per MD5 candidate; the fastest is `ms`. */
  md5?: Record<string, number>;
}

/** One contender's numbers over all rounds, in one runtime. */
export interface AggregationContender {
  name: AggregationContenderName;
  runtime: string;
  /** Wall ms per round (for scale: on a shared machine it includes waiting for a core). */
  ms: number[];
  /** CPU ms (user + system, all threads) per round: what the ratios use. */
  cpuMs: number[];
  /** CPU ms of each round's first full pass, which does not count (see the module doc). */
  coldCpuMs: number[];
  medianMs: number;
  medianCpuMs: number;
  recordsPerCpuSec: number;
  mbPerCpuSec: number;
  aggregates: number;
  outputBytes: number;
  /** For `floor`: median ms per MD5 candidate. */
  md5?: Record<string, number>;
}

/** A per-round ratio between two contenders' CPU times: median and range. */
export interface AggregationRatio {
  ours: AggregationContenderName;
  theirs: AggregationContenderName;
  /** In `ratios`: their CPU / ours (above 1: ours is cheaper). In `aboveFloor`: ours / floor. */
  median: number;
  min: number;
  max: number;
  perRound: number[];
}

/** The result of one dataset in one runtime. */
export interface AggregationResult {
  dataset: string;
  description: string;
  runtime: string;
  records: number;
  inputBytes: number;
  rounds: number;
  contenders: AggregationContender[];
  ratios: AggregationRatio[];
  /**
   * Each contender's CPU as a multiple of the floor's, per round (`theirs`:
   * `floor`), then of `floor-fresh`'s for ours and aws-kinesis-agg.
   */
  aboveFloor: AggregationRatio[];
}

interface RunOutput {
  aggregates: number;
  outputBytes: number;
  records: number;
  blobs?: { data: Uint8Array; partitionKey: string }[];
}

const SHARED_KEY = "3f1c2a9e-5b7d-4e21-9a0c-7d3e8f6b1a24";
const ONE_MIB = 1_048_576;
const KEYED_SHARDS = 1000;
const KEYED_KEYS = 100_000;

/** `count` shards splitting the 128-bit hash key space evenly, as ListShards would report them. */
export function evenShards(count: number): ShardHashRange[] {
  const space = 1n << 128n;
  const out: ShardHashRange[] = [];
  for (let i = 0; i < count; i++) {
    const start = space * BigInt(i) / BigInt(count);
    const end = space * BigInt(i + 1) / BigInt(count) - 1n;
    out.push({
      shardId: `shardId-${String(i).padStart(12, "0")}`,
      startingHashKey: start.toString(),
      endingHashKey: end.toString(),
    });
  }
  return out;
}

function runOurs(
  records: readonly UserRecord[],
  options: ConstructorParameters<typeof Aggregator>[0],
  keep: boolean,
  release = false,
): RunOutput {
  const aggregator = new Aggregator(options);
  let aggregates = 0;
  let outputBytes = 0;
  let count = 0;
  const blobs: RunOutput["blobs"] = keep ? [] : undefined;
  for (let i = 0; i < records.length; i++) {
    const done = aggregator.add(records[i]);
    if (done) {
      aggregates++;
      outputBytes += done.data.length;
      count += done.records.length;
      // Kept blobs are read later (verify): never released.
      if (blobs) blobs.push(done);
      else if (release) aggregator.release(done);
    }
  }
  for (const done of aggregator.flush()) {
    aggregates++;
    outputBytes += done.data.length;
    count += done.records.length;
    if (blobs) blobs.push(done);
    else if (release) aggregator.release(done);
  }
  return { aggregates, outputBytes, records: count, blobs };
}

function runTheirs(records: readonly unknown[], keep: boolean): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    let aggregates = 0;
    let outputBytes = 0;
    const blobs: RunOutput["blobs"] = keep ? [] : undefined;
    agg.aggregate(
      records,
      (encoded: { data: Uint8Array; partitionKey: string }, callback: (err?: unknown) => void) => {
        aggregates++;
        outputBytes += encoded.data.length;
        blobs?.push(encoded);
        callback();
      },
      () => resolve({ aggregates, outputBytes, records: records.length, blobs }),
      (error: unknown) => reject(error),
    );
  });
}

/**
 * The floor: one copy of every record into 1 MiB buffers laid out like the
 * aggregates (each record preceded by its framing bytes, left as zeros), then
 * one MD5 per buffer. Same bytes hashed, same bytes copied, nothing else.
 */
function runFloor(
  payloads: readonly Uint8Array[],
  md5: (d: Uint8Array) => Uint8Array,
  fresh = false,
): RunOutput {
  // Framing per record in a shared-key aggregate: record tag + length, key index
  // field (2), data tag + length. Kinesis counts the 36-byte outer key and the digest too.
  let buffer = new Uint8Array(ONE_MIB);
  const cap = ONE_MIB - 16 - SHARED_KEY.length;
  const start = 4 + 2 + SHARED_KEY.length; // magic + key table entry
  let pos = start;
  let aggregates = 0;
  let outputBytes = 0;
  let sink = 0;
  for (let i = 0; i < payloads.length; i++) {
    const data = payloads[i];
    const n = data.length;
    const lenBytes = n < 128 ? 1 : n < 16384 ? 2 : 3;
    const inner = 2 + 1 + lenBytes + n;
    const framed = 1 + (inner < 128 ? 1 : inner < 16384 ? 2 : 3) + inner;
    if (pos + framed > cap) {
      sink ^= md5(buffer.subarray(4, pos))[0];
      aggregates++;
      outputBytes += pos + 16;
      pos = start;
      if (fresh) buffer = new Uint8Array(ONE_MIB);
    }
    buffer.set(data, pos + framed - n);
    pos += framed;
  }
  sink ^= md5(buffer.subarray(4, pos))[0];
  aggregates++;
  outputBytes += pos + 16;
  return { aggregates, outputBytes: outputBytes + (sink & 0), records: payloads.length };
}

function verify(name: string, out: RunOutput, expected: number): void {
  let n = 0;
  for (const blob of out.blobs ?? []) {
    const inner = deaggregate(blob.data, blob.partitionKey);
    if (inner.length > 0 && !inner[0].aggregated) {
      throw new Error(`${name}: output is not a valid aggregate`);
    }
    n += inner.length;
  }
  if (n !== expected) {
    throw new Error(`${name}: ${n} records came back from deaggregation, expected ${expected}`);
  }
}

/** CPU ms, wall ms and output of one timed call. */
async function timed<T>(f: () => T | Promise<T>): Promise<{ cpuMs: number; ms: number; out: T }> {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const out = await f();
  return { ms: performance.now() - t0, cpuMs: (cpuSeconds() - cpu0) * 1000, out };
}

/** The pass with the median CPU time. */
function medianPass<T extends { cpuMs: number }>(passes: T[]): T {
  return [...passes].sort((a, b) => a.cpuMs - b.cpuMs)[(passes.length - 1) >> 1];
}

/** One full pass that does not count, then `passes` timed ones; the run's numbers come from the median. */
async function steadyState(
  contender: AggregationContenderName,
  passes: number,
  pass: () => RunOutput | Promise<RunOutput>,
): Promise<AggregationRun & { passes: Awaited<ReturnType<typeof timed<RunOutput>>>[] }> {
  const cold = await timed(pass);
  const runs = [];
  for (let i = 0; i < passes; i++) runs.push(await timed(pass));
  const mid = medianPass(runs);
  return {
    contender,
    runtime: runtimeName(),
    ms: mid.ms,
    cpuMs: mid.cpuMs,
    coldCpuMs: cold.cpuMs,
    passCpuMs: runs.map((r) => r.cpuMs),
    aggregates: mid.out.aggregates,
    outputBytes: mid.out.outputBytes,
    passes: [cold, ...runs],
  };
}

/**
 * Runs one contender in this process: a verified warm-up on a slice, one
 * untimed full pass, then `passes` timed full passes (see the module doc).
 */
export async function runAggregationContender(
  contender: AggregationContenderName,
  datasetName: string,
  records?: number,
  passes = 7,
): Promise<AggregationRun> {
  const d = dataset(datasetName);
  const n = records ?? d.records;
  const payloads = makePayloads(n, d.size);
  const warmN = Math.min(n, 50_000);
  let run: (slice: number, keep: boolean) => RunOutput | Promise<RunOutput>;
  let md5Times: Record<string, number> | undefined;
  switch (contender) {
    case "ours-1MiB":
    case "ours-1MiB-norelease":
    case "ours-default": {
      const ours: UserRecord[] = payloads.map((data) => ({ data }));
      const options = contender === "ours-default"
        ? { partitionKey: SHARED_KEY }
        : { targetBytes: ONE_MIB, partitionKey: SHARED_KEY };
      const release = contender !== "ours-1MiB-norelease";
      run = (slice, keep) =>
        runOurs(slice < n ? ours.slice(0, slice) : ours, options, keep, release);
      break;
    }
    case "ours-keyed": {
      const keys = Array.from({ length: KEYED_KEYS }, (_, i) => `user-${i}-${(i * 7919) % 104729}`);
      const ours: UserRecord[] = payloads.map((data, i) => ({
        data,
        partitionKey: keys[i % KEYED_KEYS],
      }));
      const options = { keyed: true, shards: evenShards(KEYED_SHARDS) };
      run = (slice, keep) => runOurs(slice < n ? ours.slice(0, slice) : ours, options, keep);
      break;
    }
    case "aws-kinesis-agg": {
      const theirs = payloads.map((data) => ({ data, partitionKey: SHARED_KEY }));
      run = (slice, keep) => runTheirs(slice < n ? theirs.slice(0, slice) : theirs, keep);
      break;
    }
    case "floor":
    case "floor-fresh": {
      const candidates = await md5Candidates();
      const fresh = contender === "floor-fresh";
      // Time each candidate over the full input; the fastest (CPU) is the floor.
      md5Times = {};
      for (const c of candidates) runFloor(payloads.slice(0, warmN), c.md5, fresh);
      let best: AggregationRun | undefined;
      for (const c of candidates) {
        const { passes: _, ...run } = await steadyState(
          contender,
          passes,
          () => runFloor(payloads, c.md5, fresh),
        );
        md5Times[c.name] = run.ms;
        if (best === undefined || run.cpuMs < best.cpuMs) best = run;
      }
      return { ...best!, md5: md5Times };
    }
    default:
      throw new Error(`Unknown contender ${contender}`);
  }
  // Correctness first (and JIT warm-up): the output must deaggregate back to every record.
  verify(contender, await run(warmN, true), warmN);
  await run(warmN, false);
  const { passes: all, ...result } = await steadyState(contender, passes, () => run(n, false));
  for (const r of all) {
    if (r.out.records !== n) throw new Error(`${contender}: aggregated ${r.out.records} of ${n}`);
  }
  return result;
}

/** Runs the aggregation benchmark for one dataset in one runtime, each contender in its own process per round. */
export async function benchAggregation(
  name: string,
  options: {
    records?: number;
    rounds?: number;
    /** Timed full passes per contender process; the median counts. */
    passes?: number;
    runtime?: Runtime;
    log?: (s: string) => void;
  } = {},
): Promise<AggregationResult> {
  const d = dataset(name);
  const n = options.records ?? d.records;
  const rounds = options.rounds ?? 5;
  const runtime = options.runtime ?? "deno";
  const log = options.log ?? (() => {});
  const names: AggregationContenderName[] = [
    "ours-1MiB",
    "ours-1MiB-norelease",
    "ours-default",
    "aws-kinesis-agg",
  ];
  if (d.name === "200B") names.push("ours-keyed");
  names.push("floor", "floor-fresh");
  const self = new URL(import.meta.url).pathname;
  const runs = new Map<AggregationContenderName, AggregationRun[]>(names.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const c of order) {
      const r = await runChildIn<AggregationRun>(runtime, self, [
        "--contender",
        c,
        "--dataset",
        d.name,
        "--records",
        String(n),
        "--passes",
        String(options.passes ?? 7),
      ]);
      runs.get(c)!.push(r);
    }
    log(
      `  ${runtime} ${d.name} round ${round + 1}/${rounds}: ${
        names.map((c) => `${c} ${runs.get(c)![round].cpuMs.toFixed(0)} ms CPU`).join(", ")
      }`,
    );
  }
  const inputBytes = totalBytes(makePayloads(n, d.size));
  const contenders: AggregationContender[] = names.map((c) => {
    const rs = runs.get(c)!;
    const cpu = median(rs.map((r) => r.cpuMs));
    const md5 = rs[0].md5
      ? Object.fromEntries(
        Object.keys(rs[0].md5).map((k) => [k, median(rs.map((r) => r.md5![k]))]),
      )
      : undefined;
    return {
      name: c,
      runtime: rs[0].runtime,
      ms: rs.map((r) => Math.round(r.ms * 10) / 10),
      cpuMs: rs.map((r) => Math.round(r.cpuMs * 10) / 10),
      coldCpuMs: rs.map((r) => Math.round(r.coldCpuMs * 10) / 10),
      medianMs: median(rs.map((r) => r.ms)),
      medianCpuMs: cpu,
      recordsPerCpuSec: n / (cpu / 1000),
      mbPerCpuSec: inputBytes / 1e6 / (cpu / 1000),
      aggregates: rs[0].aggregates,
      outputBytes: rs[0].outputBytes,
      md5,
    };
  });
  // Per round: baseline CPU / contender CPU (above 1: the contender is cheaper).
  const ratio = (ours: AggregationContenderName, theirs: AggregationContenderName) => {
    const o = runs.get(ours)!;
    const t = runs.get(theirs)!;
    return spread(ours, theirs, o.map((r, i) => t[i].cpuMs / r.cpuMs));
  };
  const ratios: AggregationRatio[] = [
    ratio("ours-1MiB", "aws-kinesis-agg"),
    ratio("ours-1MiB-norelease", "aws-kinesis-agg"),
    ratio("ours-default", "aws-kinesis-agg"),
  ];
  // What release() saves: above 1, releasing is cheaper.
  ratios.push(ratio("ours-1MiB", "ours-1MiB-norelease"));
  if (names.includes("ours-keyed")) ratios.push(ratio("ours-keyed", "ours-default"));
  // Per round: contender CPU / floor CPU (1 would be the floor itself).
  const floor = runs.get("floor")!;
  const aboveFloor = names.filter((c) => c !== "floor").map((c) =>
    spread(c, "floor", runs.get(c)!.map((r, i) => r.cpuMs / floor[i].cpuMs))
  );
  // The same against the floor that allocates like an aggregator must.
  const fresh = runs.get("floor-fresh")!;
  for (
    const c of ["ours-1MiB", "ours-1MiB-norelease", "ours-default", "aws-kinesis-agg"] as const
  ) {
    aboveFloor.push(
      spread(c, "floor-fresh", runs.get(c)!.map((r, i) => r.cpuMs / fresh[i].cpuMs)),
    );
  }
  return {
    dataset: d.name,
    description: d.description,
    runtime: contenders[0].runtime,
    records: n,
    inputBytes,
    rounds,
    contenders,
    ratios,
    aboveFloor,
  };
}

function spread(
  ours: AggregationContenderName,
  theirs: AggregationContenderName,
  perRound: number[],
): AggregationRatio {
  return {
    ours,
    theirs,
    median: median(perRound),
    min: Math.min(...perRound),
    max: Math.max(...perRound),
    perRound,
  };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  const name = String(args.dataset ?? "200B");
  const records = args.records ? Number(args.records) : undefined;
  if (typeof args.contender === "string") {
    emitResult(
      await runAggregationContender(
        args.contender as AggregationContenderName,
        name,
        records,
        args.passes ? Number(args.passes) : undefined,
      ),
    );
  } else {
    const rounds = args.rounds ? Number(args.rounds) : undefined;
    const runtimes = String(args.runtimes ?? "deno").split(",") as Runtime[];
    for (const runtime of runtimes) {
      emitResult(
        await benchAggregation(name, {
          records,
          rounds,
          passes: args.passes ? Number(args.passes) : undefined,
          runtime,
          log: (s) => console.error(s),
        }),
      );
    }
  }
  process.exit(0);
}
