/**
 * Hot-path workloads to profile one at a time, e.g.
 * `deno run -A --cpu-prof --cpu-prof-dir=.bench-out/prof scripts/bench/profile.ts --target aggregate`
 * then `deno run -A scripts/bench/profile_top.ts .bench-out/prof/<file>.cpuprofile`.
 * @module
 */
import process from "node:process";
import { Aggregator } from "../../src/format/aggregator.ts";
import type { UserRecord } from "../../src/format/record.ts";
import { dataset, makePayloads, parseArgs } from "./common.ts";

const args = parseArgs(process.argv.slice(2));
const target = String(args.target ?? "aggregate");
const d = dataset(String(args.dataset ?? "200B"));
const n = Number(args.records ?? d.records);
const payloads = makePayloads(n, d.size);

if (target === "aggregate") {
  const records: UserRecord[] = payloads.map((data) => ({ data }));
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const aggregator = new Aggregator(
      args.default ? { partitionKey: "k" } : { targetBytes: 1_048_576, partitionKey: "k" },
    );
    let count = 0;
    for (let i = 0; i < records.length; i++) if (aggregator.add(records[i])) count++;
    count += aggregator.flush().length;
    console.log(`aggregate: ${count} aggregates in ${(performance.now() - t0).toFixed(0)} ms`);
  }
} else if (target === "keyed") {
  // Keyed mode as in aggregation.ts's ours-keyed: --keys distinct keys in round
  // robin, an even --shards map, the default target size.
  const { ShardMap } = await import("../../src/format/shard_map.ts");
  const keyCount = Number(args.keys ?? 100_000);
  const shards = Number(args.shards ?? 1000);
  const step = (1n << 128n) / BigInt(shards);
  const map = new ShardMap(Array.from({ length: shards }, (_, i) => ({
    startingHashKey: `${step * BigInt(i)}`,
    endingHashKey: `${i === shards - 1 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n}`,
  })));
  const keys = Array.from({ length: keyCount }, (_, i) => `user-${i}-${(i * 7919) % 104729}`);
  const records: UserRecord[] = payloads.map((data, i) => ({
    data,
    partitionKey: keys[i % keyCount],
  }));
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const aggregator = new Aggregator({ keyed: true, shards: map });
    let count = 0;
    for (let i = 0; i < records.length; i++) if (aggregator.add(records[i])) count++;
    count += aggregator.flush().length;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `keyed: ${count} aggregates in ${(performance.now() - t0).toFixed(0)} ms, ${
        ((cpu.user + cpu.system) / 1000).toFixed(0)
      } ms CPU`,
    );
  }
} else if (target === "sign") {
  // Signatures of a PutRecord body with data of --bytes (default 1 KiB), hasher --hasher.
  const { Signer } = await import("../../src/aws/signer.ts");
  const { encodeBody } = await import("../../src/aws/kinesis_client.ts");
  const bytes = Number(args.bytes ?? 1024);
  const hasher = String(args.hasher ?? "auto") as "auto" | "js" | "webcrypto";
  const signer = new Signer({ service: "kinesis", region: "us-east-1", hasher });
  const body = encodeBody("json", {
    StreamName: "s",
    Data: new Uint8Array(bytes),
    PartitionKey: "k",
  });
  const url = new URL("https://kinesis.us-east-1.amazonaws.com");
  const credentials = { accessKeyId: "AKID", secretAccessKey: "secret" };
  const count = Number(args.count ?? 20000);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await signer.sign({ method: "POST", url, headers: { "content-type": "x" }, body }, credentials);
  }
  console.log(`sign: ${(((performance.now() - t0) / count) * 1000).toFixed(1)} µs per signature`);
} else {
  throw new Error(`unknown target ${target}`);
}
