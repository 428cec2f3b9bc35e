/**
 * `fetch` against `node:http` for the request path: CPU per POST of an
 * aggregate-sized body (250,000 bytes, CBOR-shaped: the body is sent as is)
 * to the loopback bench sink, 8 in flight, each client in its own process,
 * order alternating over rounds.
 *
 *   deno run -A scripts/bench/http_client.ts [--requests 400] [--rounds 5]
 * @module
 */
import http from "node:http";
import process from "node:process";
import { encodeCbor } from "../../src/aws/cbor.ts";
import { aggregate } from "../../src/format/aggregator.ts";
import {
  cpuSeconds,
  emitResult,
  isMain,
  median,
  parseArgs,
  runChild,
  runtimeName,
  scriptCommand,
} from "./common.ts";
import { spawn } from "node:child_process";

type Client = "fetch" | "node:http";

function body(): Uint8Array<ArrayBuffer> {
  const records = Array.from({ length: 1200 }, (_, i) => ({ data: new Uint8Array(200).fill(i) }));
  const [agg] = aggregate(records, { partitionKey: "3f1c2a9e-5b7d-4e21-9a0c-7d3e8f6b1a24" });
  return encodeCbor({ StreamName: "bench", PartitionKey: agg.partitionKey, Data: agg.data });
}

const HEADERS = {
  "content-type": "application/x-amz-cbor-1.1",
  "x-amz-target": "Kinesis_20131202.PutRecord",
  authorization:
    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=" +
    "0".repeat(64),
  "x-amz-date": "20260101T000000Z",
};

async function runOne(client: Client, url: string, requests: number) {
  const payload = body();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const send = client === "fetch"
    ? async () => {
      const res = await fetch(url, { method: "POST", headers: HEADERS, body: payload });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }
    : () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(url, {
          method: "POST",
          agent,
          headers: { ...HEADERS, "content-length": String(payload.length) },
        }, (res) => {
          res.on("data", () => {});
          res.on("end", () => res.statusCode === 200 ? resolve() : reject(new Error("status")));
        });
        req.on("error", reject);
        req.end(payload);
      });
  for (let i = 0; i < 16; i++) await send(); // warm-up
  const cpu0 = cpuSeconds();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < requests) await send();
  }));
  const cpuS = cpuSeconds() - cpu0;
  agent.destroy();
  return { client, runtime: runtimeName(), usPerRequest: cpuS / requests * 1e6 };
}

async function startSink(): Promise<{ url: string; stop(): void }> {
  const [cmd, argv] = scriptCommand(new URL("./sink.ts", import.meta.url).pathname, []);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /BENCH_SINK (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  return { url, stop: () => child.stdin!.end() };
}

if (isMain(import.meta)) {
  const args = parseArgs(process.argv.slice(2));
  const requests = Number(args.requests ?? 400);
  if (typeof args.client === "string") {
    emitResult(await runOne(args.client as Client, String(args.url), requests));
    process.exit(0);
  }
  const rounds = Number(args.rounds ?? 5);
  const sink = await startSink();
  const clients: Client[] = ["fetch", "node:http"];
  const us = new Map<Client, number[]>(clients.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...clients].reverse() : clients) {
      const out = await runChild<{ usPerRequest: number }>(new URL(import.meta.url).pathname, [
        "--client",
        c,
        "--url",
        sink.url,
        "--requests",
        String(requests),
      ]);
      us.get(c)!.push(out.usPerRequest);
    }
  }
  sink.stop();
  const f = us.get("fetch")!;
  const n = us.get("node:http")!;
  const perRound = f.map((x, i) => x / n[i]);
  emitResult({
    runtime: runtimeName(),
    requests,
    rounds,
    usPerRequest: { fetch: median(f), "node:http": median(n) },
    fetchOverNodeHttp: {
      median: median(perRound),
      min: Math.min(...perRound),
      max: Math.max(...perRound),
    },
  });
  process.exit(0);
}
