/**
 * Benchmark 1: aggregation throughput, ours against `aws-kinesis-agg`, on the
 * same records, in the same process, alternating order each round.
 *
 * Run one dataset: `deno run -A scripts/bench/aggregation.ts --dataset 200B [--records N] [--rounds R]`.
 * Prints one `BENCH_RESULT {json}` line.
 *
 * - `ours-1MiB`: `Aggregator` with `targetBytes` = 1 MiB, the same aggregate size
 *   `aws-kinesis-agg` packs to (it fills to 1 MiB − 20 bytes), so both do the same work.
 * - `ours-256KiB`: `Aggregator` with its default `targetBytes`, what the producer uses.
 * - `aws-kinesis-agg`: `agg.aggregate(records, onEncoded, afterAll, onError)` with
 *   one shared 36-character partition key (the table then holds one key, like ours).
 *
 * Each contender consumes every record and drops each aggregate after counting
 * it, so neither pays for holding the other's garbage. The time includes MD5.
 * @module
 */
import process from "node:process";
import aggModule from "aws-kinesis-agg";
import { Aggregator } from "../../src/format/aggregator.ts";
import { deaggregate } from "../../src/format/deaggregate.ts";
import type { UserRecord } from "../../src/format/record.ts";
import {
  dataset,
  emitResult,
  makePayloads,
  median,
  parseArgs,
  runtimeName,
  totalBytes,
  tryGc,
} from "./common.ts";

// Its typings want the aws-sdk v2 and aws-lambda types; the benchmark uses it untyped.
const agg = aggModule as any;

/** One contender's numbers over all rounds. */
export interface AggregationContender {
  name: string;
  runtime: string;
  /** Wall ms per round. */
  ms: number[];
  medianMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  aggregates: number;
  outputBytes: number;
}

/** The result of one dataset. */
export interface AggregationResult {
  dataset: string;
  description: string;
  records: number;
  inputBytes: number;
  rounds: number;
  contenders: AggregationContender[];
  /** Median over rounds of (their ms / our ms): above 1 means we are faster. */
  ratios: { ours: string; theirs: string; median: number; perRound: number[] }[];
}

interface RunOutput {
  aggregates: number;
  outputBytes: number;
  records: number;
  blobs?: { data: Uint8Array; partitionKey: string }[];
}

const SHARED_KEY = "3f1c2a9e-5b7d-4e21-9a0c-7d3e8f6b1a24";

function runOurs(records: readonly UserRecord[], targetBytes: number, keep: boolean): RunOutput {
  const aggregator = new Aggregator({ targetBytes, partitionKey: SHARED_KEY });
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
      blobs?.push(done);
    }
  }
  for (const done of aggregator.flush()) {
    aggregates++;
    outputBytes += done.data.length;
    count += done.records.length;
    blobs?.push(done);
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
      () => resolve({ aggregates, outputBytes, records: -1, blobs }),
      (error: unknown) => reject(error),
    );
  });
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

/** Runs the aggregation benchmark for one dataset. */
export async function benchAggregation(
  name: string,
  options: { records?: number; rounds?: number; verify?: boolean } = {},
): Promise<AggregationResult> {
  const d = dataset(name);
  const n = options.records ?? d.records;
  const rounds = options.rounds ?? 3;
  const payloads = makePayloads(n, d.size);
  const ours: UserRecord[] = payloads.map((data) => ({ data }));
  const theirs = payloads.map((data) => ({ data, partitionKey: SHARED_KEY }));
  const inputBytes = totalBytes(payloads);

  const contenders: { name: string; run: (keep: boolean) => RunOutput | Promise<RunOutput> }[] = [
    { name: "ours-1MiB", run: (keep) => runOurs(ours, 1_048_576, keep) },
    { name: "ours-256KiB", run: (keep) => runOurs(ours, 256 * 1024, keep) },
    { name: "aws-kinesis-agg", run: (keep) => runTheirs(theirs, keep) },
  ];

  // Correctness first (and JIT warm-up): every contender's output must deaggregate
  // back to every record. In a full run this uses a slice to stay quick.
  const warmN = Math.min(n, 50_000);
  const warmOurs = ours.slice(0, warmN);
  const warmTheirs = theirs.slice(0, warmN);
  const warm: typeof contenders = [
    { name: "ours-1MiB", run: (keep) => runOurs(warmOurs, 1_048_576, keep) },
    { name: "ours-256KiB", run: (keep) => runOurs(warmOurs, 256 * 1024, keep) },
    { name: "aws-kinesis-agg", run: (keep) => runTheirs(warmTheirs, keep) },
  ];
  for (const c of warm) verify(c.name, await c.run(true), warmN);
  for (const c of warm) await c.run(false);

  const ms = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const last = new Map<string, RunOutput>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      tryGc();
      const t0 = performance.now();
      const out = await c.run(false);
      const t1 = performance.now();
      ms.get(c.name)!.push(t1 - t0);
      last.set(c.name, out);
      if (c.name.startsWith("ours") && out.records !== n) {
        throw new Error(`${c.name}: aggregated ${out.records} records, expected ${n}`);
      }
    }
  }

  const runtime = runtimeName();
  const result: AggregationContender[] = contenders.map((c) => {
    const m = median(ms.get(c.name)!);
    const out = last.get(c.name)!;
    return {
      name: c.name,
      runtime,
      ms: ms.get(c.name)!.map((x) => Math.round(x * 10) / 10),
      medianMs: m,
      recordsPerSec: n / (m / 1000),
      mbPerSec: inputBytes / 1e6 / (m / 1000),
      aggregates: out.aggregates,
      outputBytes: out.outputBytes,
    };
  });
  const theirMs = ms.get("aws-kinesis-agg")!;
  const ratios = ["ours-1MiB", "ours-256KiB"].map((o) => {
    const perRound = ms.get(o)!.map((x, i) => theirMs[i] / x);
    return { ours: o, theirs: "aws-kinesis-agg", median: median(perRound), perRound };
  });
  return {
    dataset: d.name,
    description: d.description,
    records: n,
    inputBytes,
    rounds,
    contenders: result,
    ratios,
  };
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  const name = String(args.dataset ?? "200B");
  const records = args.records ? Number(args.records) : undefined;
  const rounds = args.rounds ? Number(args.rounds) : undefined;
  emitResult(await benchAggregation(name, { records, rounds }));
}
