/**
 * Shared by the runtime tests: find the repository, run a child process, and
 * read a whole stream back and deaggregate it. Uses only the library's public
 * API, so under Node it exercises the built package.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { deaggregate, type DeaggregatedRecord } from "../../mod.ts";
import { KinesisClient, readStream as readAllShards } from "../../aws.ts";

/** Which runtime runs this test. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/**
 * The repository root: the nearest directory above this file holding
 * deno.json. Under Node this file runs compiled from .build/, so a fixed
 * relative path would not do.
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("Cannot find the repository root: no deno.json above the test");
    dir = up;
  }
  return dir;
}

/** What a child process printed, and how it ended. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to completion (killed after `timeoutMs`). */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: (options.env ?? process.env) as Record<string, string>,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c) => (stdout += c));
    child.stderr!.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `env` without AWS settings that could leak in from the machine running the tests. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("AWS_")) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Where the stream lives; kinesis-mock checks only the shape of the signature. */
export interface StreamLocation {
  endpoint: string;
  region: string;
  streamName: string;
}

/** Options for {@link readStream}. */
export interface ReadStreamOptions {
  /** Stop once this many user records are in. */
  expect: number;
  /** Give up after this long; returns what arrived. @default {20000} */
  timeoutMs?: number;
}

/** What came back: user records, and how many Kinesis records carried them. */
export interface StreamContents {
  records: DeaggregatedRecord[];
  kinesisRecords: number;
}

/** Dummy keys: kinesis-mock wants a well-formed SigV4 header, nothing more. */
export const DUMMY_CREDENTIALS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

/** A client for `loc` with dummy credentials. */
export function clientFor(loc: StreamLocation): KinesisClient {
  return new KinesisClient({
    endpoint: loc.endpoint,
    region: loc.region,
    credentials: DUMMY_CREDENTIALS,
  });
}

/**
 * Reads every shard of the stream and deaggregates each record. Delivery may
 * still be under way (a Worker's `waitUntil`), so while fewer than `expect`
 * records are in it reads the whole stream again, until the timeout.
 */
export async function readStream(
  loc: StreamLocation,
  { expect, timeoutMs = 20_000 }: ReadStreamOptions,
): Promise<StreamContents> {
  const client = clientFor(loc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records: DeaggregatedRecord[] = [];
    let kinesisRecords = 0;
    for await (const { record } of readAllShards(client, { streamName: loc.streamName })) {
      kinesisRecords++;
      records.push(...deaggregate(record.data, record.partitionKey));
    }
    if (records.length >= expect || Date.now() >= deadline) return { records, kinesisRecords };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
