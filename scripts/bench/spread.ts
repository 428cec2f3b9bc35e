/**
 * Benchmark: default mode's chunk placement, random partition key per chunk
 * vs `spreadOverShards` (each chunk's explicit hash key picked by weighted
 * round robin over the shard map), on the load-dependent fake
 * (tests/support/throttling_kinesis.ts: 4 shards, 1 MiB/s and 1,000
 * records/s each, 5 ms per call). 1 KiB records, defaults otherwise.
 *
 * - `full`: offered as fast as the producer takes them; throughput between
 *   seconds 2 and 8 (after the buckets' first second of credit).
 * - `80%`: offered 3.2 MiB/s (80% of the stream) for 8 s; throughput over
 *   the whole run.
 *
 * Each placement with the shard map given (per-shard limiters on), and random
 * placement without it (the stream-wide window only, today's default). Median
 * of `--rounds` (default 3) rounds, placements alternating.
 *
 * `deno run -A scripts/bench/spread.ts [--rounds N] [--smoke]`
 * @module
 */
import process from "node:process";
import { KinesisProducer } from "../../src/producer/producer.ts";
import { ThrottlingKinesis } from "../../tests/support/throttling_kinesis.ts";
import { emitResult, isMain, parseArgs, runtimeName } from "./common.ts";

const MiB = 1_048_576;
const RECORD = 1024;

interface Round {
  mibPerSecond: number;
  throttled: number;
  /** Offered but not yet stored at the end of the measurement, MiB (waiting in the producer). */
  backlogMiB: number;
  /** Bytes stored per shard, as a share of the total. */
  shares: number[];
}

type Placement = "random, no map" | "random" | "spread";

async function round(placement: Placement, full: boolean, scale: number): Promise<Round> {
  const fake = new ThrottlingKinesis({ latencyMs: 5 });
  const producer = new KinesisProducer({
    streamName: "bench",
    client: fake,
    // Without a map (today's default unless `shards` is given) only the stream-wide window acts.
    shards: placement === "random, no map" ? undefined : fake.ranges,
    spreadOverShards: placement === "spread",
    maxAttempts: 1000,
    deadlineMs: 600_000,
    // The backlog aborted at close is not part of the measurement.
    onFailure: () => {},
  });
  const data = new Uint8Array(RECORD).fill(0x61);
  const from = full ? 2000 * scale : 0;
  const to = 8000 * scale;
  const t0 = performance.now();
  const sample = () => fake.shards.reduce((a, s) => a + s.bytes, 0);
  let start = 0;
  let end = -1;
  let offered = 0;
  let backlog = 0;
  const timers = [
    setTimeout(() => (start = sample()), from),
    setTimeout(() => {
      end = sample();
      backlog = offered - end;
    }, to),
  ];
  if (full) {
    for (let i = 0; performance.now() - t0 < to; i++) {
      await producer.put(data);
      offered += RECORD;
      if (i % 256 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  } else {
    const perTick = Math.round(3.2 * MiB / 100 / RECORD);
    for (let tick = 0; tick < to / 10; tick++) {
      const wait = t0 + tick * 10 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let n = 0; n < perTick; n++) {
        await producer.put(data);
        offered += RECORD;
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + to + 50 - performance.now())));
  }
  timers.forEach(clearTimeout);
  if (end < 0) {
    end = sample();
    backlog = offered - end;
  }
  await producer.close({ deadlineMs: 2_000 });
  const total = fake.shards.reduce((a, s) => a + s.bytes, 0) || 1;
  return {
    mibPerSecond: Math.round((end - start) / MiB / ((to - from) / 1000) * 1000) / 1000,
    throttled: fake.shards.reduce((a, s) => a + s.throttled, 0),
    backlogMiB: Math.round(Math.max(0, backlog) / MiB * 100) / 100,
    shares: fake.shards.map((s) => Math.round(s.bytes / total * 1000) / 1000),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One scenario and placement: medians and the rounds. */
export interface SpreadRun {
  scenario: "full" | "80%";
  placement: Placement;
  medianMiBPerSecond: number;
  medianThrottled: number;
  medianBacklogMiB: number;
  rounds: Round[];
}

/** Runs both scenarios with both placements. */
export async function benchSpread(
  options: { rounds?: number; smoke?: boolean; log?: (s: string) => void } = {},
): Promise<{ runtime: string; runs: SpreadRun[] }> {
  const log = options.log ?? (() => {});
  const rounds = options.smoke ? 1 : options.rounds ?? 3;
  const scale = options.smoke ? 0.2 : 1;
  const runs: SpreadRun[] = [];
  for (const full of [true, false]) {
    const placements: Placement[] = ["random, no map", "random", "spread"];
    const by: Record<string, Round[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const placement of placements) {
        const result = await round(placement, full, scale);
        log(`  ${full ? "full" : "80%"} ${placement}: ${JSON.stringify(result)}`);
        (by[placement] ??= []).push(result);
      }
    }
    for (const placement of placements) {
      const rs = by[placement];
      runs.push({
        scenario: full ? "full" : "80%",
        placement,
        medianMiBPerSecond: median(rs.map((x) => x.mibPerSecond)),
        medianThrottled: median(rs.map((x) => x.throttled)),
        medianBacklogMiB: median(rs.map((x) => x.backlogMiB)),
        rounds: rs,
      });
    }
  }
  return { runtime: runtimeName(), runs };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  emitResult(
    await benchSpread({
      rounds: args.rounds ? Number(args.rounds) : undefined,
      smoke: !!args.smoke,
      log: (s) => console.error(s),
    }),
  );
  process.exit(0);
}
