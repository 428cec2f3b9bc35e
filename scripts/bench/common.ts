/**
 * Shared pieces of the benchmarks: deterministic record sets, CPU and wall
 * clocks, medians, machine info, and running one contender in a child process.
 *
 * Everything here uses `node:` modules only, so the same scripts run under
 * Deno (primary), Bun and Node.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync } from "node:fs";
import os from "node:os";
import { basename, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { rng } from "../../tests/support/random.ts";

/** A child prints exactly one line starting with this, followed by its JSON result. */
export const RESULT_MARKER = "BENCH_RESULT ";

/** Deterministic PRNG (mulberry32), the tests' own: same records in every process and run. */
export { rng };

/** One named record set: sizes drawn from a distribution, payloads from a pool. */
export interface Dataset {
  /** Short name used in tables, e.g. `200B`. */
  name: string;
  /** Human description of the size mix. */
  description: string;
  /** Number of records in a full run. */
  records: number;
  /** Size in bytes of record `i` (deterministic given the random source). */
  size(random: () => number): number;
}

/** Record sets for the aggregation benchmark. */
export const DATASETS: readonly Dataset[] = [
  {
    name: "200B",
    description: "300,000 records of 200 bytes",
    records: 300_000,
    size: () => 200,
  },
  {
    name: "40B",
    description: "500,000 records of 40 bytes (metrics-sized; framing dominates)",
    records: 500_000,
    size: () => 40,
  },
  {
    name: "logs-mix",
    description: "200,000 records: 90% 100–300 B, 9% 1–4 KiB, 1% 10–50 KiB",
    records: 200_000,
    size: (r) => {
      const p = r();
      if (p < 0.9) return 100 + Math.floor(r() * 201);
      if (p < 0.99) return 1024 + Math.floor(r() * 3073);
      return 10240 + Math.floor(r() * 40961);
    },
  },
];

/** Returns the dataset called `name`, or throws. */
export function dataset(name: string): Dataset {
  const d = DATASETS.find((x) => x.name === name);
  if (!d) {
    throw new Error(
      `Unknown dataset ${name}: expected one of ${DATASETS.map((x) => x.name).join(", ")}`,
    );
  }
  return d;
}

const POOL = 4096;

/**
 * `count` payloads following `sizeOf`. Payload bytes come from a pool of 4,096
 * distinct random ASCII buffers per size, so a million records cost little
 * memory while every contender still copies every byte.
 */
export function makePayloads(
  count: number,
  sizeOf: (r: () => number) => number,
  seed = 42,
): Uint8Array[] {
  const random = rng(seed);
  // Long enough for the largest record any benchmark asks for (102,400 B) from any slot.
  const text = new Uint8Array(128 * 1024 + POOL);
  for (let i = 0; i < text.length; i++) text[i] = 0x21 + Math.floor(random() * 94);
  // A pool entry is a view into one backing store per distinct size+offset pair.
  const cache = new Map<number, Uint8Array>();
  const out = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    const size = sizeOf(random);
    const slot = i % POOL;
    const key = size * POOL + slot;
    let p = cache.get(key);
    if (!p) {
      p = text.slice(slot, slot + size);
      if (cache.size < 200_000) cache.set(key, p);
    }
    out[i] = p;
  }
  return out;
}

/** Total bytes of `payloads`. */
export function totalBytes(payloads: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of payloads) n += p.length;
  return n;
}

/** CPU seconds (user + system) this process has used so far, all threads. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Median of `values` (mean of the middle two for even counts). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Which runtime runs this code, with its version. */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.version}`;
}

/** Machine and runtime facts to print next to every result. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  runtime: string;
  v8: string;
  date: string;
}

/** Reads the CPU model from /proc/cpuinfo (falls back to `os.cpus()`). */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    runtime: runtimeName(),
    v8: process.versions.v8 ?? "unknown",
    date: new Date().toISOString(),
  };
}

/** Prints the result line a parent reads with {@link runChild}. */
export function emitResult(value: unknown): void {
  process.stdout.write(RESULT_MARKER + JSON.stringify(value) + "\n");
}

/** The command that runs a TypeScript script under the current runtime. */
export function scriptCommand(script: string, args: readonly string[]): [string, string[]] {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) return [process.execPath, ["run", "-A", script, ...args]];
  if (g.Bun) return [process.execPath, ["run", script, ...args]];
  throw new Error(
    "Cannot run TypeScript children under Node 20: run the benchmarks with Deno or Bun",
  );
}

/** A runtime a contender can run in. */
export type Runtime = "deno" | "node";

/** Whether the module whose `import.meta` is given is the entry point (Deno, Bun, or a Node bundle). */
export function isMain(meta: ImportMeta): boolean {
  const m = (meta as { main?: boolean }).main;
  if (m !== undefined) return m;
  try {
    return realpathSync(fileURLToPath(meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

const root = new URL("../../", import.meta.url).pathname;
const bundled = new Map<string, string>();

/**
 * Bundles `script` (TypeScript) into one ESM file Node 20 runs, once per
 * orchestrator process, with esbuild. Packages stay external, so Node loads the
 * same `node_modules` the Deno run uses; the bundle lives in `.bench-out/node/`,
 * inside the project, so Node finds them.
 */
export function nodeBundle(script: string): string {
  const done = bundled.get(script);
  if (done) return done;
  const dir = join(root, ".bench-out/node");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, basename(script).replace(/\.ts$/, ".mjs"));
  const r = spawnSync(join(root, "node_modules/.bin/esbuild"), [
    script,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    "--packages=external",
    `--outfile=${out}`,
    "--log-level=error",
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`esbuild failed on ${script}: ${r.stderr}`);
  bundled.set(script, out);
  return out;
}

/** `deno 2.9.6` / `node v20.20.2`: the version of a runtime contenders run in. */
export function runtimeVersion(runtime: Runtime): string {
  if (runtime === "deno" && (globalThis as { Deno?: unknown }).Deno) return runtimeName();
  const r = spawnSync(runtime, ["--version"], { encoding: "utf8" });
  return `${runtime} ${(r.stdout ?? "").split("\n")[0].replace(/^deno /, "").trim()}`;
}

/** The command that runs `script` in `runtime`: Deno directly, Node through {@link nodeBundle}. */
export function runtimeCommand(
  runtime: Runtime,
  script: string,
  args: readonly string[],
): [string, string[]] {
  if (runtime === "node") return ["node", [nodeBundle(script), ...args]];
  const g = globalThis as { Deno?: unknown };
  return [g.Deno ? process.execPath : "deno", ["run", "-A", script, ...args]];
}

/**
 * Runs `script` in a child process under the current runtime and returns the
 * JSON it reported. Throws with the child's stderr when it fails or reports nothing.
 */
export function runChild<T>(
  script: string,
  args: readonly string[],
  timeoutMs = 600_000,
): Promise<T> {
  return spawnForResult<T>(scriptCommand(script, args), script, timeoutMs);
}

/** {@link runChild} in a chosen runtime. */
export function runChildIn<T>(
  runtime: Runtime,
  script: string,
  args: readonly string[],
  timeoutMs = 600_000,
): Promise<T> {
  return spawnForResult<T>(runtimeCommand(runtime, script, args), script, timeoutMs);
}

function spawnForResult<T>(
  [cmd, argv]: [string, string[]],
  script: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) {
        reject(
          new Error(
            `${script} ${argv.slice(-6).join(" ")} failed (code ${code}, signal ${signal}):\n${
              err.slice(-4000)
            }`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as T);
    });
  });
}

/** Reads `--name value` / `--name=value` / `--flag` style arguments. */
export function parseArgs(argv: readonly string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

/** Rounds to `digits` significant digits, for tables. */
export function sig(n: number, digits = 3): number {
  if (!Number.isFinite(n) || n === 0) return n;
  return Number(n.toPrecision(digits));
}

/** Forces a GC when the runtime exposes one (`--v8-flags=--expose-gc`); otherwise a no-op. */
export function tryGc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
