/**
 * Benchmark: collection (several aggregates per PutRecords) against one
 * PutRecord per aggregate, unaggregated PutRecords, and the AWS SDK's
 * PutRecords, in keyed mode over 64 shards with 10,000 keys.
 *
 * The load is paced like a live source (200-byte records at 50,000 records/s),
 * so the 500 ms linger, not the size limit, cuts most aggregates: every linger
 * cuts one small aggregate per shard, 64 at once, which is where collection
 * pays. Each contender runs in its own child process against the loopback sink
 * (scripts/bench/sink.ts, its own process, answering at once); CPU is the
 * child's `process.cpuUsage()` from the first record to the last answer.
 *
 * - `collect-on`: `KinesisProducer` keyed, `shards` = the 64 ranges, defaults otherwise.
 * - `collect-off`: the same with `collect: false` (one PutRecord per aggregate).
 * - `unaggregated`: the same with `aggregation: "off"` (500 user records per PutRecords).
 * - `sdk-putrecords`: `@aws-sdk/client-kinesis` `PutRecordsCommand`, 500 records
 *   per call as they arrive, 8 in flight, `NodeHttpHandler`.
 *
 * `deno run -A scripts/bench/collection.ts [--records N] [--rounds R]`
 * @module
 */
import http from "node:http";
import process from "node:process";
import { KinesisClient as SdkClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { KinesisProducer } from "../../src/producer/producer.ts";
import type { KinesisProducerOptions } from "../../src/producer/options.ts";
import {
  cpuSeconds,
  emitResult,
  isMain,
  makePayloads,
  median,
  parseArgs,
  runChild,
  runtimeName,
} from "./common.ts";
import { sinkControl, startSinkProcess } from "./end_to_end.ts";
import { evenShardRanges } from "./sink.ts";

/** Contender names. */
export const COLLECTION_CONTENDERS = [
  "collect-on",
  "collect-off",
  "unaggregated",
  "sdk-putrecords",
] as const;
/** One contender. */
export type CollectionContender = typeof COLLECTION_CONTENDERS[number];

const CREDENTIALS = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret-key" };
const STREAM = "bench";
const REGION = "us-east-1";
const SHARDS = 64;
const KEYS = 10_000;
const RECORD_BYTES = 200;
const RATE = 50_000;
const SLICE = 500;

/** One contender run. */
export interface CollectionRun {
  contender: CollectionContender;
  records: number;
  wallS: number;
  cpuS: number;
  calls: number;
}

async function runContender(
  contender: CollectionContender,
  endpoint: string,
  n: number,
): Promise<CollectionRun> {
  const payloads = makePayloads(n, () => RECORD_BYTES);
  const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
  let calls = 0;
  const wall0 = performance.now();
  const cpu0 = cpuSeconds();
  // Paced: slice i may start at i·SLICE/RATE seconds.
  const pace = async (i: number) => {
    const due = wall0 + (i / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  if (contender === "sdk-putrecords") {
    const client = new SdkClient({
      region: REGION,
      endpoint,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: 8 }),
      }),
    });
    const inFlight = new Set<Promise<void>>();
    for (let start = 0; start < n; start += SLICE) {
      await pace(start);
      const entries = [];
      for (let i = start; i < Math.min(n, start + SLICE); i++) {
        entries.push({ Data: payloads[i], PartitionKey: keys[i % KEYS] });
      }
      while (inFlight.size >= 8) await Promise.race(inFlight);
      const p: Promise<void> = client.send(
        new PutRecordsCommand({ StreamName: STREAM, Records: entries }),
      ).then((out) => {
        calls++;
        if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} failed`);
      }).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    client.destroy();
  } else {
    const options: Partial<KinesisProducerOptions> = contender === "collect-off"
      ? { collect: false }
      : contender === "unaggregated"
      ? { aggregation: "off" }
      : {};
    let failed = 0;
    const producer = new KinesisProducer({
      streamName: STREAM,
      region: REGION,
      endpoint,
      credentials: CREDENTIALS,
      keyed: true,
      shards: evenShardRanges(SHARDS),
      onFailure: (f) => (failed += f.records.length),
      ...options,
    });
    for (let start = 0; start < n; start += SLICE) {
      await pace(start);
      for (let i = start; i < Math.min(n, start + SLICE); i++) {
        await producer.put(payloads[i], { partitionKey: keys[i % KEYS] });
      }
    }
    await producer.close();
    calls = producer.stats.calls;
    // The sink places records as the map predicts: a wrong-shard answer would mean re-sends.
    const wrongShard = producer.stats.stream?.wrongShard ?? 0;
    if (wrongShard > 0) throw new Error(`${contender}: ${wrongShard} wrong-shard answers`);
    if (failed > 0 || producer.stats.recordsDelivered !== n) {
      throw new Error(
        `${contender}: ${failed} failed, ${producer.stats.recordsDelivered} delivered`,
      );
    }
  }
  return {
    contender,
    records: n,
    wallS: (performance.now() - wall0) / 1000,
    cpuS: cpuSeconds() - cpu0,
    calls,
  };
}

/** One contender's medians. */
export interface CollectionRow {
  contender: CollectionContender;
  calls: number;
  recordsPerCpuSecond: number;
  callsPerCpuSecond: number;
  cpuSecondsPerMillion: number;
  cpuPerRound: number[];
}

/** The collection benchmark's result. */
export interface CollectionResult {
  runtime: string;
  records: number;
  recordBytes: number;
  shards: number;
  keys: number;
  rate: number;
  rounds: number;
  rows: CollectionRow[];
}

/** Runs every contender `rounds` times, alternating the order. */
export async function benchCollection(
  options: { records?: number; rounds?: number; log?: (s: string) => void } = {},
): Promise<CollectionResult> {
  const n = options.records ?? 200_000;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? (() => {});
  // The sink places records on the same 64 shards, so answers name the predicted shard.
  const sink = await startSinkProcess(false, SHARDS);
  const self = new URL(import.meta.url).pathname;
  const runs = new Map<CollectionContender, CollectionRun[]>(
    COLLECTION_CONTENDERS.map((c) => [c, []]),
  );
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0
        ? [...COLLECTION_CONTENDERS]
        : [...COLLECTION_CONTENDERS].reverse();
      for (const c of order) {
        await sinkControl(sink.url, "/__reset");
        const run = await runChild<CollectionRun>(self, [
          "--contender",
          c,
          "--endpoint",
          sink.url,
          "--records",
          String(n),
        ]);
        const stats = (await sinkControl(sink.url, "/__stats"))!;
        if (stats.errors > 0 || stats.userRecords !== n) {
          throw new Error(`${c}: sink saw ${stats.userRecords} records, ${stats.errors} errors`);
        }
        runs.get(c)!.push(run);
        log(
          `  collection round ${round + 1}/${rounds} ${c}: ${run.calls} calls, ${
            (n / run.cpuS).toFixed(0)
          } records per CPU-s`,
        );
      }
    }
  } finally {
    sink.stop();
  }
  const rows = COLLECTION_CONTENDERS.map((c): CollectionRow => {
    const rs = runs.get(c)!;
    const cpuS = median(rs.map((r) => r.cpuS));
    const calls = median(rs.map((r) => r.calls));
    return {
      contender: c,
      calls,
      recordsPerCpuSecond: n / cpuS,
      callsPerCpuSecond: calls / cpuS,
      cpuSecondsPerMillion: cpuS / n * 1e6,
      cpuPerRound: rs.map((r) => r.cpuS),
    };
  });
  return {
    runtime: runtimeName(),
    records: n,
    recordBytes: RECORD_BYTES,
    shards: SHARDS,
    keys: KEYS,
    rate: RATE,
    rounds,
    rows,
  };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  const records = args.records ? Number(args.records) : undefined;
  if (typeof args.contender === "string") {
    emitResult(
      await runContender(
        args.contender as CollectionContender,
        String(args.endpoint),
        records ?? 200_000,
      ),
    );
    process.exit(0);
  } else {
    const rounds = args.rounds ? Number(args.rounds) : undefined;
    emitResult(await benchCollection({ records, rounds, log: (s) => console.error(s) }));
  }
}
