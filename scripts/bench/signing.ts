/**
 * Benchmark 2: SigV4 signing cost per PutRecord, ours (each hasher) against the
 * signing `@aws-sdk/client-kinesis` does for the same call, in one process.
 *
 * `deno run -A scripts/bench/signing.ts [--rounds 5] [--smoke]`; prints one
 * `BENCH_RESULT {json}` line.
 *
 * - Ours: `Signer.sign` on the exact PutRecord body `KinesisClient` sends
 *   (JSON, `Data` base64), with hasher `js` (sha256-js), `webcrypto` and `auto`.
 * - SDK: a real `PutRecordCommand` through `client.send`, timed from a
 *   middleware just before `httpSigningMiddleware` to one just after it (which
 *   short-circuits with a canned response, so no network is involved). That is
 *   exactly the SDK's signing step, with the hasher its runtime config picks
 *   (`Sha256Node` on `node:crypto` under Deno and Node).
 *
 * Bodies: PutRecord calls whose data is 1 KiB, 300 KiB and 1 MiB − key (the
 * record limit); the JSON body is about 4/3 of that.
 * @module
 */
import process from "node:process";
import { KinesisClient as SdkClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { encodeBody } from "../../src/aws/kinesis_client.ts";
import { Signer } from "../../src/aws/signer.ts";
import type { HasherName } from "../../src/aws/sha256.ts";
import { emitResult, median, parseArgs, rng, runtimeName } from "./common.ts";

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const ENDPOINT = "https://kinesis.us-east-1.amazonaws.com";
const KEY = "3f1c2a9e-5b7d-4e21-9a0c-7d3e8f6b1a24";

/** One body size's numbers: microseconds per signature (median of rounds). */
export interface SigningRow {
  dataBytes: number;
  bodyBytes: number;
  usPerSign: Record<string, number>;
  /** SDK µs / our µs, median over rounds: above 1 means ours is cheaper. */
  ratioVsSdk: Record<string, number>;
}

/** The signing result. */
export interface SigningResult {
  runtime: string;
  sdkHasher: string;
  rounds: number;
  rows: SigningRow[];
}

type Timer = { begin: number; spent: number };

function sdkClient(timer: Timer): SdkClient {
  const client = new SdkClient({
    region: "us-east-1",
    endpoint: ENDPOINT,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      handle: () => Promise.reject(new Error("the benchmark never sends")),
    },
  });
  client.middlewareStack.addRelativeTo(
    // The SDK's middleware types are generic over its whole command union; these are untyped probes.
    ((next: (a: unknown) => Promise<unknown>) => (args: unknown) => {
      timer.begin = performance.now();
      return next(args);
    }) as never,
    { relation: "before", toMiddleware: "httpSigningMiddleware", name: "benchSignBegin" },
  );
  client.middlewareStack.addRelativeTo(
    () => () => {
      timer.spent += performance.now() - timer.begin;
      return Promise.resolve({
        response: { statusCode: 200, headers: {} },
        output: { ShardId: "shardId-000000000000", SequenceNumber: "1", $metadata: {} },
      });
    },
    { relation: "after", toMiddleware: "httpSigningMiddleware", name: "benchSignEnd" },
  );
  return client;
}

/** Runs the signing benchmark. */
export async function benchSigning(
  options: { rounds?: number; smoke?: boolean } = {},
): Promise<SigningResult> {
  const rounds = options.rounds ?? 5;
  const random = rng(7);
  const sizes = [1024, 300 * 1024, 1_048_576 - KEY.length];
  const hashers: HasherName[] = ["js", "webcrypto", "auto"];
  const signers = new Map(
    hashers.map((h) => [h, new Signer({ service: "kinesis", region: "us-east-1", hasher: h })]),
  );
  const timer: Timer = { begin: 0, spent: 0 };
  const sdk = sdkClient(timer);
  const url = new URL(ENDPOINT);
  const rows: SigningRow[] = [];

  for (const size of sizes) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(random() * 256);
    const body = encodeBody("json", { StreamName: "bench", Data: data, PartitionKey: KEY });
    const headers = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "Kinesis_20131202.PutRecord",
    };
    // Enough signatures per round for ~50 ms of work at the slowest hasher.
    const iterations = options.smoke ? 3 : Math.max(10, Math.min(2000, Math.round(4e6 / size)));
    const contenders: Record<string, () => Promise<number>> = {};
    for (const h of hashers) {
      const signer = signers.get(h)!;
      contenders[`ours-${h}`] = async () => {
        const t0 = performance.now();
        for (let i = 0; i < iterations; i++) {
          await signer.sign({ method: "POST", url, headers, body }, CREDENTIALS);
        }
        return (performance.now() - t0) / iterations;
      };
    }
    contenders["aws-sdk"] = async () => {
      timer.spent = 0;
      for (let i = 0; i < iterations; i++) {
        await sdk.send(
          new PutRecordCommand({ StreamName: "bench", Data: data, PartitionKey: KEY }),
        );
      }
      return timer.spent / iterations;
    };
    // Correctness and warm-up: both sign, and agree on what they sign.
    for (const run of Object.values(contenders)) await run();

    const names = Object.keys(contenders);
    const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const n of order) ms[n].push(await contenders[n]());
    }
    const usPerSign: Record<string, number> = {};
    const ratioVsSdk: Record<string, number> = {};
    for (const n of names) usPerSign[n] = median(ms[n]) * 1000;
    for (const h of hashers) {
      const n = `ours-${h}`;
      ratioVsSdk[n] = median(ms[n].map((x, i) => ms["aws-sdk"][i] / x));
    }
    rows.push({ dataBytes: size, bodyBytes: body.length, usPerSign, ratioVsSdk });
  }
  const sdkHasher = (sdk.config as { sha256?: { name?: string } }).sha256?.name ?? "unknown";
  return { runtime: runtimeName(), sdkHasher, rounds, rows };
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  emitResult(
    await benchSigning({
      rounds: args.rounds ? Number(args.rounds) : undefined,
      smoke: !!args.smoke,
    }),
  );
}
