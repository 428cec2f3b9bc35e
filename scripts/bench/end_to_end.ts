/**
 * Benchmark 3: end-to-end client cost of shipping 200-byte records to a
 * loopback sink (scripts/bench/sink.ts, in its own process) that answers at once.
 *
 * Each contender runs in its own child process under the same runtime, so each
 * starts with a fresh heap and its CPU (`process.cpuUsage()`, all threads,
 * measured from the first record to the last answer) is its own:
 *
 * - `ours-json`, `ours-cbor`: `KinesisProducer` (default options: 256 KiB
 *   aggregates, concurrency 8), `await producer.put(data)` per record, then `close()`.
 * - `sdk-putrecords`: `@aws-sdk/client-kinesis` `PutRecordsCommand`, 500
 *   unaggregated records per call, 8 calls in flight, keys from a pool of 1,000.
 * - `agg-sdk-putrecord`: `aws-kinesis-agg` `aggregate(records, onEncoded, afterAll,
 *   onError, 8)` with one shared key, each aggregate sent with the SDK's
 *   `PutRecordCommand` (8 in flight).
 *
 * The SDK uses `NodeHttpHandler` with a keep-alive agent of 8 sockets. The
 * order of contenders alternates between rounds; ratios are medians of per-round ratios.
 *
 * Orchestrate: `deno run -A scripts/bench/end_to_end.ts [--records N] [--rounds R] [--smoke]`.
 * One contender: `... --contender ours-json --endpoint URL --records N`; add
 * `--transport fetch|node-http` to override our client's default transport (Node
 * uses node:http, the others `fetch`) when comparing them.
 * @module
 */
import { spawn } from "node:child_process";
import http from "node:http";
import process from "node:process";
import {
  KinesisClient as SdkClient,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import aggModule from "aws-kinesis-agg";
import { createHash } from "node:crypto";
import { DEFAULT_TARGET_BYTES } from "../../src/format/limits.ts";
import { nodeHttpFetch } from "../../src/runtime/node_http_fetch.ts";
import { KinesisProducer } from "../../src/producer/producer.ts";
import {
  cpuSeconds,
  emitResult,
  isMain,
  makePayloads,
  median,
  parseArgs,
  runChildIn,
  type Runtime,
  runtimeName,
  scriptCommand,
  totalBytes,
} from "./common.ts";
import { md5Candidates } from "./md5_candidates.ts";
import type { SinkStats } from "./sink.ts";

// Its typings want the aws-sdk v2 and aws-lambda types; the benchmark uses it untyped.
const agg = aggModule as any;

/** Contender names, in the order of the first round. */
export const CONTENDERS = [
  "ours-json",
  "ours-cbor",
  "sdk-putrecords",
  "agg-sdk-putrecord",
  "floor",
] as const;
/** One contender. */
export type Contender = typeof CONTENDERS[number];

const CREDENTIALS = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret-key" };
const STREAM = "bench";
const REGION = "us-east-1";
const CONCURRENCY = 8;
const RECORD_BYTES = 200;

/** What one contender run reports. */
export interface ContenderRun {
  contender: Contender;
  runtime: string;
  records: number;
  userBytes: number;
  wallS: number;
  cpuS: number;
  peakRssMiB: number;
  calls: number;
}

function sdkClient(endpoint: string): SdkClient {
  return new SdkClient({
    region: REGION,
    endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }),
    }),
  });
}

async function runContender(
  contender: Contender,
  endpoint: string,
  n: number,
): Promise<ContenderRun> {
  const payloads = makePayloads(n, () => RECORD_BYTES);
  const keys = Array.from({ length: 1000 }, (_, i) => `user-${i.toString(36).padStart(6, "0")}`);
  let calls = 0;
  let peakRss = 0;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  // The floor picks its MD5 before the clock starts.
  const [fast] = contender === "floor" ? await fastestMd5(payloads) : [undefined];
  const rssTimer = setInterval(sampleRss, 50);
  const wall0 = performance.now();
  const cpu0 = cpuSeconds();

  if (contender === "floor") {
    // The least any client must do: one copy of each record into an aggregate-sized
    // buffer, MD5 of it (fastest MD5 here), and SHA-256 of a body that size (SigV4's
    // payload hash; CBOR adds about 100 bytes). No encoding, no network.
    const cap = DEFAULT_TARGET_BYTES - 16 - 36;
    const buffer = new Uint8Array(DEFAULT_TARGET_BYTES + 128);
    let pos = 42;
    let sink = 0;
    const ship = () => {
      sink ^= fast!(buffer.subarray(4, pos))[0];
      sink ^= createHash("sha256").update(buffer.subarray(0, pos + 116)).digest()[0];
      calls++;
      pos = 42;
    };
    for (let i = 0; i < n; i++) {
      const data = payloads[i];
      if (pos + 8 + data.length > cap) ship();
      buffer.set(data, pos + 8);
      pos += 8 + data.length;
    }
    ship();
    if (sink < 0) throw new Error("unreachable");
  } else if (contender === "ours-json" || contender === "ours-cbor") {
    let failed = 0;
    const producer = new KinesisProducer({
      streamName: STREAM,
      region: REGION,
      endpoint,
      credentials: CREDENTIALS,
      protocol: contender === "ours-cbor" ? "cbor" : "json",
      concurrency: CONCURRENCY,
      fetch: transportOverride(),
      onFailure: (f) => {
        failed += f.records.length;
        if (failed === f.records.length) console.error("delivery failed:", f.error);
      },
    });
    for (let i = 0; i < n; i++) await producer.put(payloads[i]);
    await producer.close();
    const stats = producer.stats;
    calls = stats.calls;
    if (stats.recordsDelivered !== n || failed > 0) {
      throw new Error(
        `${contender}: delivered ${stats.recordsDelivered} of ${n}, ${failed} failed`,
      );
    }
  } else if (contender === "sdk-putrecords") {
    const client = sdkClient(endpoint);
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const start = next;
        const end = Math.min(n, start + 500);
        next = end;
        const entries = [];
        for (let i = start; i < end; i++) {
          entries.push({ Data: payloads[i], PartitionKey: keys[i % keys.length] });
        }
        const out = await client.send(
          new PutRecordsCommand({ StreamName: STREAM, Records: entries }),
        );
        calls++;
        if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records failed`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    client.destroy();
  } else {
    const client = sdkClient(endpoint);
    const records = new Array(n);
    for (let i = 0; i < n; i++) {
      records[i] = { data: payloads[i], partitionKey: "3f1c2a9e-5b7d-4e21-9a0c-7d3e8f6b1a24" };
    }
    await new Promise<void>((resolve, reject) => {
      let failure: unknown;
      agg.aggregate(
        records,
        (
          encoded: { data: Uint8Array; partitionKey: string; ExplicitHashKey?: string },
          cb: (e?: unknown) => void,
        ) => {
          client.send(
            new PutRecordCommand({
              StreamName: STREAM,
              Data: encoded.data,
              PartitionKey: encoded.partitionKey,
            }),
          )
            .then(() => {
              calls++;
              cb();
            }, (e) => cb(e));
        },
        () => (failure ? reject(failure) : resolve()),
        (error: unknown) => (failure ??= error),
        CONCURRENCY,
      );
    });
    client.destroy();
  }

  const cpuS = cpuSeconds() - cpu0;
  const wallS = (performance.now() - wall0) / 1000;
  clearInterval(rssTimer);
  sampleRss();
  return {
    contender,
    runtime: runtimeName(),
    records: n,
    userBytes: totalBytes(payloads),
    wallS,
    cpuS,
    peakRssMiB: peakRss / 2 ** 20,
    calls,
  };
}

// `--transport fetch|node-http` overrides the client's default transport (for comparisons).
function transportOverride(): typeof globalThis.fetch | undefined {
  const t = parseArgs(process.argv.slice(2)).transport;
  if (t === "fetch") return (input, init) => globalThis.fetch(input, init);
  if (t === "node-http") return nodeHttpFetch({ force: true });
  return undefined;
}

/** The faster MD5 on a sample of `payloads`, with its name. */
async function fastestMd5(
  payloads: readonly Uint8Array[],
): Promise<[(d: Uint8Array) => Uint8Array, string]> {
  const sample = new Uint8Array(4 << 20);
  for (let i = 0, pos = 0; pos + 256 < sample.length; i++) {
    sample.set(payloads[i % payloads.length], pos);
    pos += payloads[i % payloads.length].length;
  }
  let best: [(d: Uint8Array) => Uint8Array, string] | undefined;
  let bestMs = Infinity;
  for (const c of await md5Candidates()) {
    c.md5(sample);
    const t0 = performance.now();
    for (let r = 0; r < 3; r++) c.md5(sample);
    const ms = performance.now() - t0;
    if (ms < bestMs) [best, bestMs] = [[c.md5, c.name], ms];
  }
  return best!;
}

/** One contender's summary over rounds. */
export interface EndToEndContender {
  contender: Contender;
  runtime: string;
  runs: ContenderRun[];
  recordsPerSec: number;
  cpuSecondsPerMillion: number;
  recordsPerCpuSecond: number;
  peakRssMiB: number;
  calls: number;
  /** Sink-measured request bytes (headers + bodies) per user data byte. */
  wireBytesPerUserByte: number;
  /** Sink-measured body bytes per user data byte. */
  bodyBytesPerUserByte: number;
  sink: SinkStats;
}

/** A per-round ratio with its median and range. */
export interface EndToEndRatio {
  ours: Contender;
  baseline: Contender;
  /** In `ratios`: baseline CPU / ours (records per CPU-second, above 1: ours is cheaper). In `aboveFloor`: ours CPU / floor CPU. */
  cpu: number;
  min: number;
  max: number;
  /** Records per wall second, same direction (for scale). */
  wall: number;
  cpuPerRound: number[];
}

/** The end-to-end result in one runtime. */
export interface EndToEndResult {
  records: number;
  recordBytes: number;
  rounds: number;
  runtime: string;
  sinkRuntime: string;
  contenders: EndToEndContender[];
  ratios: EndToEndRatio[];
  /** Each contender's CPU as a multiple of the floor's, per round. */
  aboveFloor: EndToEndRatio[];
}

/** Starts the loopback sink in its own process. */
export async function startSinkProcess(
  deep: boolean,
  shards?: number,
): Promise<{ url: string; stop(): void }> {
  const [cmd, argv] = scriptCommand(
    new URL("./sink.ts", import.meta.url).pathname,
    [...(deep ? ["--deep"] : []), ...(shards ? ["--shards", String(shards)] : [])],
  );
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /BENCH_SINK (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`sink exited early (code ${code})`)));
  });
  return {
    url,
    stop: () => {
      child.stdin!.end();
      setTimeout(() => child.kill(), 2000).unref?.();
    },
  };
}

/** Reads or resets the sink's counters. */
export async function sinkControl(
  url: string,
  path: "/__stats" | "/__reset",
): Promise<SinkStats | undefined> {
  const res = await fetch(url + path, { method: path === "/__reset" ? "POST" : "GET" });
  if (path === "/__reset") {
    await res.body?.cancel();
    return undefined;
  }
  return (await res.json()) as SinkStats;
}

/** Runs every contender `rounds` times (each in its own process, in `runtime`) against one sink process. */
export async function benchEndToEnd(
  options: {
    records?: number;
    rounds?: number;
    smoke?: boolean;
    runtime?: Runtime;
    log?: (s: string) => void;
  } = {},
): Promise<EndToEndResult> {
  const n = options.records ?? 1_000_000;
  const rounds = options.rounds ?? 5;
  const runtime = options.runtime ?? "deno";
  const log = options.log ?? (() => {});
  const sink = await startSinkProcess(!!options.smoke);
  const self = new URL(import.meta.url).pathname;
  const runs = new Map<Contender, ContenderRun[]>(CONTENDERS.map((c) => [c, []]));
  const sinkStats = new Map<Contender, SinkStats>();
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [...CONTENDERS] : [...CONTENDERS].reverse();
      for (const c of order) {
        await sinkControl(sink.url, "/__reset");
        const run = await runChildIn<ContenderRun>(runtime, self, [
          "--contender",
          c,
          "--endpoint",
          sink.url,
          "--records",
          String(n),
        ]);
        const stats = (await sinkControl(sink.url, "/__stats"))!;
        if (stats.errors > 0) {
          throw new Error(
            `${c}: the sink refused ${stats.errors} requests: ${stats.errorSamples.join("; ")}`,
          );
        }
        if (c !== "floor" && stats.userRecords !== n) {
          throw new Error(
            `${c}: the sink counted ${stats.userRecords} user records, expected ${n}`,
          );
        }
        runs.get(c)!.push(run);
        sinkStats.set(c, stats);
        log(
          `  e2e ${runtime} round ${round + 1}/${rounds} ${c}: ${
            (n / run.wallS).toFixed(0)
          } records/s, ${(run.cpuS / n * 1e6).toFixed(2)} CPU-s per million`,
        );
      }
    }
  } finally {
    sink.stop();
  }
  const contenders: EndToEndContender[] = CONTENDERS.map((c) => {
    const rs = runs.get(c)!;
    const stats = sinkStats.get(c)!;
    const userBytes = rs[0].userBytes;
    const cpuS = median(rs.map((r) => r.cpuS));
    return {
      contender: c,
      runtime: rs[0].runtime,
      runs: rs,
      recordsPerSec: n / median(rs.map((r) => r.wallS)),
      cpuSecondsPerMillion: cpuS / n * 1e6,
      recordsPerCpuSecond: n / cpuS,
      peakRssMiB: median(rs.map((r) => r.peakRssMiB)),
      calls: c === "floor" ? rs[0].calls : stats.requests,
      wireBytesPerUserByte: (stats.bodyBytes + stats.headerBytes) / userBytes,
      bodyBytesPerUserByte: stats.bodyBytes / userBytes,
      sink: stats,
    };
  });
  const ratio = (ours: Contender, baseline: Contender, over: boolean): EndToEndRatio => {
    const o = runs.get(ours)!;
    const b = runs.get(baseline)!;
    const cpuPerRound = o.map((r, i) => over ? r.cpuS / b[i].cpuS : b[i].cpuS / r.cpuS);
    return {
      ours,
      baseline,
      cpu: median(cpuPerRound),
      min: Math.min(...cpuPerRound),
      max: Math.max(...cpuPerRound),
      wall: median(o.map((r, i) => over ? r.wallS / b[i].wallS : b[i].wallS / r.wallS)),
      cpuPerRound,
    };
  };
  const ratios: EndToEndRatio[] = [];
  for (const ours of ["ours-json", "ours-cbor"] as const) {
    for (const baseline of ["sdk-putrecords", "agg-sdk-putrecord"] as const) {
      ratios.push(ratio(ours, baseline, false));
    }
  }
  const aboveFloor = CONTENDERS.filter((c) => c !== "floor").map((c) => ratio(c, "floor", true));
  return {
    records: n,
    recordBytes: RECORD_BYTES,
    rounds,
    runtime: contenders[0].runtime,
    sinkRuntime: runtimeName(),
    contenders,
    ratios,
    aboveFloor,
  };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  const records = args.records ? Number(args.records) : undefined;
  if (typeof args.contender === "string") {
    emitResult(
      await runContender(args.contender as Contender, String(args.endpoint), records ?? 1_000_000),
    );
    process.exit(0);
  } else {
    const rounds = args.rounds ? Number(args.rounds) : undefined;
    for (const runtime of String(args.runtimes ?? "deno").split(",") as Runtime[]) {
      emitResult(
        await benchEndToEnd({
          records,
          rounds,
          runtime,
          smoke: !!args.smoke,
          log: (s) => console.error(s),
        }),
      );
    }
  }
}
