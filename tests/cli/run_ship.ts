/**
 * Runs the real CLI as a subprocess, with a clean environment: no profile, no
 * instance metadata, dummy keys unless a test says otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** The CLI entry point. */
export const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "ship-test-"));
}

/** Environment for the CLI: `overrides` win; a value of `undefined` removes a variable. */
export function shipEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: tempDir(),
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "test-secret-key",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    NO_COLOR: "1",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

/** Starts the CLI; stdio is piped. */
export function spawnShip(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): ChildProcess {
  const runtime = (globalThis as { Deno?: unknown }).Deno
    ? ["run", "-A", "--config", join(ROOT, "deno.json"), MAIN]
    : [MAIN];
  return spawn(process.execPath, [...runtime, ...args], {
    env: shipEnv(options.env),
    // A scratch directory: a default dead-letter file must not land in the repository.
    cwd: options.cwd ?? tempDir(),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** What a finished run printed. */
export interface ShipResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess): Promise<ShipResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  );
}

/** Runs the CLI to the end, feeding `stdin` (or closing it at once). */
export function runShip(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    stdin?: Uint8Array | string;
    cwd?: string;
  } = {},
): Promise<ShipResult> {
  const child = spawnShip(args, options);
  const done = finished(child);
  child.stdin!.on("error", () => {}); // the CLI may exit before reading stdin
  child.stdin!.end(options.stdin ?? "");
  return done;
}

/** Waits until `predicate` holds, polling. */
export async function until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}
