/**
 * Costs of the application-facing features (issue 17):
 *
 * 1. `put()` with per-record delivery results available but unused: CPU per
 *    record against the producer before the feature (`--before DIR`, a checkout
 *    of the earlier commit with its own mod.ts), rounds alternating, each
 *    100,000 × 200 B records through a client that answers at once.
 * 2. `deliver()` instead of `put()`: the cost when it is used.
 * 3. Per-record gzip (`compression: "gzip"`) on the log-mix sizes: the ratio
 *    and CPU per record, for the benchmark's random-ASCII payloads and for
 *    JSON log lines of the same sizes (what logs look like).
 *
 * Run: `deno run -A scripts/bench/app_surface.ts [--before DIR] [--rounds 5]`.
 * @module
 */
import { dataset, makePayloads, median, parseArgs, rng } from "./common.ts";
import { gzip } from "../../format.ts";

type Producer = {
  put(d: Uint8Array): Promise<void>;
  deliver?(d: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
  stats: Record<string, unknown>;
};
type Ctor = new (o: Record<string, unknown>) => Producer;

const args = parseArgs(Deno.args);
const rounds = Number(args.rounds ?? 5);
const N = 100_000;
const client = {
  putRecord: () => Promise.resolve({ shardId: "shardId-000000000000", sequenceNumber: "1" }),
};
const payloads = makePayloads(N, () => 200);

async function timePut(Producer: Ctor, mode: "put" | "deliver"): Promise<number> {
  // Room for every record, so fired-and-forgotten deliver() calls never queue for room.
  const p = new Producer({ streamName: "s", client, lingerMs: 50, maxBufferedBytes: 64 << 20 });
  const t0 = performance.now();
  if (mode === "put") {
    for (let i = 0; i < N; i++) await p.put(payloads[i]);
  } else {
    const all: Promise<unknown>[] = new Array(N);
    for (let i = 0; i < N; i++) all[i] = p.deliver!(payloads[i]);
    await Promise.all(all);
  }
  await p.close();
  return (performance.now() - t0) / N * 1e3; // µs per record
}

const after = (await import("../../mod.ts")).KinesisProducer as unknown as Ctor;
const before = args.before
  ? (await import(`file://${args.before}/mod.ts`)).KinesisProducer as Ctor
  : undefined;

// Warm-up, then alternating rounds.
await timePut(after, "put");
if (before) await timePut(before, "put");
const results: Record<string, number[]> = { after: [], before: [], deliver: [] };
for (let r = 0; r < rounds; r++) {
  const order: Array<[string, () => Promise<number>]> = [
    ["after", () => timePut(after, "put")],
    ...(before
      ? [["before", () => timePut(before, "put")] as [string, () => Promise<number>]]
      : []),
    ["deliver", () => timePut(after, "deliver")],
  ];
  if (r % 2) order.reverse();
  for (const [name, run] of order) results[name].push(await run());
}
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(3)} µs/record (range ${Math.min(...xs).toFixed(3)}–${
    Math.max(...xs).toFixed(3)
  })`;
console.log(`put(), 100,000 × 200 B, ${rounds} rounds, median wall time per record:`);
if (before) console.log(`  before (${args.before}): ${fmt(results.before)}`);
console.log(`  after:  ${fmt(results.after)}`);
if (before) {
  const ratios = results.after.map((a, i) => a / results.before[i]);
  console.log(`  after/before per round: median ${median(ratios).toFixed(3)}`);
}
console.log(`  deliver() for every record: ${fmt(results.deliver)}`);

// ---- compression ----
const logs = dataset("logs-mix");
const M = 50_000;
const random = rng(5);
const sizes = Array.from({ length: M }, () => logs.size(random));
const ascii = makePayloads(M, logs.size, 42);
const enc = new TextEncoder();
const levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"];
const paths = ["/api/orders", "/api/users/42", "/health", "/api/cart", "/login"];
function logLine(i: number, size: number): Uint8Array {
  const r = rng(i);
  const head = JSON.stringify({
    ts: new Date(1_764_000_000_000 + i * 37).toISOString(),
    level: levels[Math.floor(r() * levels.length)],
    service: "checkout",
    trace: Math.floor(r() * 2 ** 48).toString(16).padStart(12, "0"),
    path: paths[Math.floor(r() * paths.length)],
    status: r() < 0.95 ? 200 : 500,
    ms: Math.floor(r() * 900),
  });
  let msg = "";
  const words = ["request", "handled", "user", "cart", "item", "price", "cache", "miss", "retry"];
  while (head.length + msg.length + 10 < size) msg += words[Math.floor(r() * words.length)] + " ";
  return enc.encode(head.slice(0, -1) + `,"msg":"${msg.trim()}"}`);
}
const json = sizes.map((s, i) => logLine(i, s));

async function measure(name: string, records: Uint8Array[]) {
  let inBytes = 0;
  let outBytes = 0;
  let ondemandIn = 0;
  let ondemandOut = 0;
  const t0 = performance.now();
  for (const r of records) {
    const z = await gzip(r);
    inBytes += r.length;
    outBytes += z.length;
    ondemandIn += Math.ceil((r.length + 36) / 1024);
    ondemandOut += Math.ceil((z.length + 36) / 1024);
  }
  const us = (performance.now() - t0) / records.length * 1e3;
  console.log(
    `  ${name}: ${records.length} records, ${(inBytes / 1e6).toFixed(1)} MB -> ${
      (outBytes / 1e6).toFixed(1)
    } MB (ratio ${(outBytes / inBytes).toFixed(3)}), ${us.toFixed(1)} µs/record, ${
      (inBytes / 1048576 / (us * records.length / 1e6)).toFixed(1)
    } MiB/s; unaggregated on-demand KiB ${ondemandIn} -> ${ondemandOut}`,
  );
}
console.log(`gzip per record (CompressionStream), logs-mix sizes:`);
await measure("benchmark payloads (random printable ASCII)", ascii);
await measure("JSON log lines of the same sizes", json);

// The producer end to end with and without compression, JSON log lines.
for (const compression of [undefined, "gzip"]) {
  const p = new after({ streamName: "s", client, lingerMs: 50, compression });
  const t0 = performance.now();
  for (const r of json) await p.put(r);
  await p.close();
  const ms = performance.now() - t0;
  const s = p.stats as Record<string, number>;
  console.log(
    `  producer, compression ${compression ?? "off"}: ${
      (ms / json.length * 1e3).toFixed(1)
    } µs/record, ` +
      `${s.chunks} PutRecords, ${(s.bytes / 1e6).toFixed(2)} MB sent, ${s.putUnits} PUT units, ` +
      `${Math.round(s.onDemandBilledBytes / 1024)} on-demand KiB`,
  );
}
