/**
 * Benchmark: sustained throughput against a Kinesis whose throttling depends
 * on load (tests/support/throttling_kinesis.ts: per shard, token buckets of
 * 1 MiB/s and 1,000 records/s holding one second each; 5 ms per call).
 *
 * - `spread`: 4 shards, 1 KiB keyed records over 1,000 keys, offered as fast
 *   as the producer takes them. Throughput is measured between seconds 2 and
 *   12 (after the buckets' initial second of credit is spent). Goal: within
 *   10% of 4 MiB/s.
 * - `hot`: shard 0 takes only 256 KiB/s (other writers share it); every shard
 *   is offered 0.9 MiB/s for 10 s (buffer 128 MiB, so the hot shard's backlog
 *   never stalls the input). Goal: shards 1-3 keep their offered 0.9 MiB/s.
 *
 * Each runs with the shard map (`shards`: per-shard limiters) and without it
 * (stream-wide window only), defaults otherwise (collection on, 250 KB aggregates).
 *
 * `deno run -A scripts/bench/throttling.ts [--smoke]`
 * @module
 */
import process from "node:process";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { ThrottlingKinesis } from "../../tests/support/throttling_kinesis.ts";
import { emitResult, isMain, parseArgs, runtimeName } from "./common.ts";

const MiB = 1_048_576;
const RECORD = 1024;

/** One scenario's outcome. */
export interface ThrottlingRun {
  scenario: "spread" | "hot";
  shardMap: boolean;
  /** MiB/s per shard over the measured interval. */
  mibPerSecond: number[];
  /** Sum over shards. */
  totalMiBPerSecond: number;
  /** Throttled entries per shard (the fake's count). */
  throttled: number[];
  calls: number;
  /** Records reported failed during the measured run (not the backlog aborted at close). */
  recordsFailed: number;
  expiredUnattempted: number;
}

async function run(
  scenario: "spread" | "hot",
  shardMap: boolean,
  smoke: boolean,
): Promise<ThrottlingRun> {
  const fake = new ThrottlingKinesis({
    latencyMs: 5,
    perShard: scenario === "hot" ? { 0: { bytesPerSecond: MiB / 4 } } : undefined,
  });
  // Keys per shard, so the offered load per shard is controlled.
  const keysByShard: string[][] = fake.shards.map(() => []);
  for (let i = 0; keysByShard.some((k) => k.length < 250); i++) {
    const key = `key-${i}`;
    const shard = fake.shards.indexOf(fake.shardOf({ partitionKey: key }));
    if (keysByShard[shard].length < 250) keysByShard[shard].push(key);
  }
  let failed = 0;
  const producer = new KinesisProducer({
    streamName: "bench",
    client: fake,
    keyed: true,
    shards: shardMap ? fake.ranges : undefined,
    maxBufferedBytes: scenario === "hot" ? 128 * MiB : 16 * MiB,
    maxAttempts: 1000,
    deadlineMs: 600_000,
    onFailure: (f) => (failed += f.records.length),
  });
  const data = new Uint8Array(RECORD).fill(0x61);
  const t0 = performance.now();
  // Smoke: a tenth of the time; the numbers then mean little.
  const scale = smoke ? 0.1 : 1;
  const from = scenario === "spread" ? 2000 * scale : 0;
  const to = (scenario === "spread" ? 12_000 : 10_000) * scale;
  let start: number[] = [];
  let end: number[] = [];
  const sample = () => fake.shards.map((s) => s.bytes);
  const timers = [
    setTimeout(() => (start = sample()), from),
    setTimeout(() => (end = sample()), to),
  ];
  let i = 0;
  if (scenario === "spread") {
    while (performance.now() - t0 < to) {
      const shard = i % 4;
      await producer.put(data, { partitionKey: keysByShard[shard][(i >> 2) % 250] });
      i++;
      // Let timers and answers run now and then.
      if (i % 256 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  } else {
    // 0.9 MiB/s per shard: every 10 ms, 0.009 MiB per shard.
    const perTick = Math.round(0.9 * MiB / 100 / RECORD);
    for (let tick = 0; tick < to / 10; tick++) {
      const due = t0 + tick * 10;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let n = 0; n < perTick; n++) {
        for (let shard = 0; shard < 4; shard++) {
          await producer.put(data, { partitionKey: keysByShard[shard][(i++ >> 2) % 250] });
        }
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + to + 50 - performance.now())));
  }
  timers.forEach(clearTimeout);
  if (end.length === 0) end = sample();
  const seconds = (to - from) / 1000;
  const mib = end.map((b, s) => (b - (start[s] ?? 0)) / MiB / seconds);
  const stats = producer.stats;
  const failedInRun = failed;
  // The hot shard's backlog would take long to drain; what is left is aborted
  // (and reported) after the measurement, so it does not count as failed here.
  await producer.close({ deadlineMs: 2_000 });
  return {
    scenario,
    shardMap,
    mibPerSecond: mib.map((x) => Math.round(x * 1000) / 1000),
    totalMiBPerSecond: Math.round(mib.reduce((a, b) => a + b, 0) * 1000) / 1000,
    throttled: fake.shards.map((s) => s.throttled),
    calls: stats.calls,
    recordsFailed: failedInRun,
    expiredUnattempted: stats.expiredUnattempted,
  };
}

/** The throttling benchmark's result. */
export interface ThrottlingResult {
  runtime: string;
  runs: ThrottlingRun[];
}

/** Runs both scenarios with and without the shard map. */
export async function benchThrottling(
  options: { smoke?: boolean; log?: (s: string) => void } = {},
): Promise<ThrottlingResult> {
  const log = options.log ?? (() => {});
  const runs: ThrottlingRun[] = [];
  for (const scenario of ["spread", "hot"] as const) {
    for (const shardMap of [true, false]) {
      const r = await run(scenario, shardMap, !!options.smoke);
      log(`  throttling ${scenario} shardMap=${shardMap}: ${JSON.stringify(r)}`);
      runs.push(r);
    }
  }
  return { runtime: runtimeName(), runs };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  emitResult(await benchThrottling({ smoke: !!args.smoke, log: (s) => console.error(s) }));
  process.exit(0);
}
