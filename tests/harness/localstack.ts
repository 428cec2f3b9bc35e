/**
 * One entry point to a LocalStack 4.14.0 (Kinesis + STS) for tests, whatever
 * the machine offers. {@linkcode startLocalStack} tries, in order:
 *
 * 1. `external`: `LOCALSTACK_ENDPOINT` is set; use it, `stop()` is a no-op.
 * 2. `docker`: a container engine answers; a container of
 *    `KPL_LOCALSTACK_IMAGE` (default the published `localstack/localstack:4.14.0`;
 *    CI sets its locally built `kpl-localstack:...`) through testcontainers, on
 *    host networking (see localstack_docker.ts).
 * 3. `host`: LocalStack from PyPI in `.venv-localstack/`, installed by
 *    `scripts/install_localstack.sh`, run as `python -m localstack.runtime.main`.
 *
 * `KPL_LOCALSTACK_MODES` (comma-separated, e.g. `docker`) narrows the modes;
 * CI sets it so that the path it announced is the one that runs.
 *
 * Test code: it uses `node:` modules and must run under `deno test -A` and
 * Node (compiled), so no `Deno.*`.
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { track } from "../../src/cli/reaper.ts";
import { kinesisRaw } from "./raw_aws.ts";
import {
  engineUnavailable,
  LOCALSTACK_IMAGE,
  NoEngineError,
  startContainer,
} from "./localstack_docker.ts";

export { LOCALSTACK_IMAGE };

/** How the emulator was provided. */
export type LocalStackMode = "external" | "docker" | "host";

/** Options for {@linkcode startLocalStack}. */
export interface LocalStackOptions {
  /**
   * Region for readiness calls and for the caller's requests.
   * @default {process.env.AWS_REGION ?? "us-east-1"}
   */
  region?: string;
  /**
   * Modes to try, in this order; the first one available is used.
   * @default {process.env.KPL_LOCALSTACK_MODES split on commas, else ["external", "docker", "host"]}
   */
  modes?: LocalStackMode[];
  /**
   * Docker mode's image.
   * @default {process.env.KPL_LOCALSTACK_IMAGE ?? LOCALSTACK_IMAGE}
   */
  image?: string;
  /**
   * Extra environment for LocalStack, applied last (e.g. `KINESIS_ERROR_PROBABILITY`).
   * @default {{}}
   */
  env?: Record<string, string>;
  /**
   * Time allowed for the emulator to report Kinesis and STS ready.
   * @default {120000}
   */
  readyTimeoutMs?: number;
  /**
   * Host mode's virtualenv (made by scripts/install_localstack.sh).
   * @default {process.env.LOCALSTACK_VENV, else the nearest `.venv-localstack` above this file or the cwd}
   */
  venvDir?: string;
  /**
   * Echo the emulator's output to stderr (also on with LOCALSTACK_HARNESS_LOG=1).
   * @default {false}
   */
  verbose?: boolean;
}

/** A running (or borrowed) LocalStack. */
export interface LocalStack {
  /** Base URL serving every service, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** Region to use in requests. */
  region: string;
  /** Which mode provided it. */
  mode: LocalStackMode;
  /** Stops what this harness started and frees its ports. Idempotent. */
  stop(): Promise<void>;
}

/** No mode could provide LocalStack; `reasons` says why, one entry per mode. */
export class LocalStackUnavailableError extends Error {
  /** Always `"LocalStackUnavailableError"`. */
  override name = "LocalStackUnavailableError";
  /** One line per mode tried, e.g. `host: LocalStack is not installed: ...`. */
  readonly reasons: string[];
  /** Builds the message from `reasons`, one line per mode tried. */
  constructor(reasons: string[]) {
    super(`No LocalStack available: ${reasons.join("; ")}`);
    this.reasons = reasons;
  }
}

const KINESIS_LOCAL_VERSION = "0.5.2";
const VENV_NAME = ".venv-localstack";

/** Thrown by a mode that does not apply here; the next mode is tried. */
class NotAvailable extends Error {}

/**
 * Provides a LocalStack with Kinesis and STS and waits until both answer
 * (health says available and a real ListStreams succeeds, which also starts
 * kinesis-mock inside LocalStack).
 *
 * @example Use and stop
 * ```ts ignore
 * const ls = await startLocalStack();
 * try {
 *   // point the client at ls.endpoint, region ls.region
 * } finally {
 *   await ls.stop();
 * }
 * ```
 * @throws {LocalStackUnavailableError} When no mode applies (nothing installed).
 * @throws {Error} When a mode applies but fails to start; with its last output.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const {
    region = process.env.AWS_REGION || "us-east-1",
    modes = defaultModes(),
    image = process.env.KPL_LOCALSTACK_IMAGE || LOCALSTACK_IMAGE,
    env = {},
    readyTimeoutMs = 120_000,
    venvDir = process.env.LOCALSTACK_VENV || findVenv(),
    verbose = process.env.LOCALSTACK_HARNESS_LOG === "1",
  } = opts;
  if (!(readyTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot start LocalStack as readyTimeoutMs must be > 0: current value is ${readyTimeoutMs}`,
    );
  }
  const reasons: string[] = [];
  for (const mode of modes) {
    try {
      if (mode === "external") return await startExternal(region, readyTimeoutMs);
      if (mode === "docker") return await startDocker(region, readyTimeoutMs, image, env);
      if (mode === "host") return await startHost(region, readyTimeoutMs, venvDir, verbose, env);
      throw new RangeError(`Cannot start LocalStack as mode is unknown: current value is ${mode}`);
    } catch (err) {
      if (!(err instanceof NotAvailable)) throw err;
      reasons.push(`${mode}: ${err.message}`);
    }
  }
  throw new LocalStackUnavailableError(reasons);
}

/**
 * Why no mode would apply, without starting anything (for `describe(..., { skip })`);
 * `undefined` when some mode looks usable.
 */
export async function localStackUnavailable(
  opts: Pick<LocalStackOptions, "modes" | "venvDir"> = {},
): Promise<string | undefined> {
  const {
    modes = defaultModes(),
    venvDir = process.env.LOCALSTACK_VENV || findVenv(),
  } = opts;
  const reasons: string[] = [];
  for (const mode of modes) {
    const why = mode === "external"
      ? (process.env.LOCALSTACK_ENDPOINT ? undefined : "LOCALSTACK_ENDPOINT is not set")
      : mode === "docker"
      ? await engineUnavailable()
      : hostUnavailable(venvDir);
    if (!why) return undefined;
    reasons.push(`${mode}: ${why}`);
  }
  return `No LocalStack available: ${reasons.join("; ")}`;
}

// --- external -------------------------------------------------------------

async function startExternal(region: string, timeoutMs: number): Promise<LocalStack> {
  const endpoint = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, "");
  if (!endpoint) throw new NotAvailable("LOCALSTACK_ENDPOINT is not set");
  await waitReady(endpoint, region, timeoutMs, () => undefined);
  return { endpoint, region, mode: "external", stop: () => Promise.resolve() };
}

// --- docker ---------------------------------------------------------------

function defaultModes(): LocalStackMode[] {
  const list = process.env.KPL_LOCALSTACK_MODES?.split(",").map((m) => m.trim()).filter(Boolean);
  if (!list?.length) return ["external", "docker", "host"];
  for (const m of list) {
    if (m !== "external" && m !== "docker" && m !== "host") {
      throw new RangeError(
        `Cannot start LocalStack as KPL_LOCALSTACK_MODES has an unknown mode: current value is ${m}`,
      );
    }
  }
  return list as LocalStackMode[];
}

/** What both the container and host mode need, see the host-mode list below. */
function commonEnv(): Record<string, string> {
  return {
    SERVICES: "kinesis,sts",
    DNS_ADDRESS: "0",
    SKIP_SSL_CERT_DOWNLOAD: "1",
    DISABLE_EVENTS: "1",
    KINESIS_MOCK_PROVIDER_ENGINE: "node",
    KINESIS_PERSISTENCE: "0",
  };
}

async function startDocker(
  region: string,
  timeoutMs: number,
  image: string,
  extraEnv: Record<string, string>,
): Promise<LocalStack> {
  const port = await freePort();
  let container;
  try {
    container = await startContainer({
      image,
      port,
      env: { ...commonEnv(), ...extraEnv },
      timeoutMs,
    });
  } catch (err) {
    if (err instanceof NoEngineError) throw new NotAvailable(err.message);
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await container.stop();
      await waitPortFree(port, 5_000);
    })();
  try {
    await waitReady(endpoint, region, timeoutMs, () => undefined);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, region, mode: "docker", stop };
}

// --- host -----------------------------------------------------------------

function findVenv(): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = resolve(start);; dir = dirname(dir)) {
      if (existsSync(join(dir, VENV_NAME))) return join(dir, VENV_NAME);
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

function hostUnavailable(venvDir: string | undefined): string | undefined {
  const hint = "LocalStack is not installed: run scripts/install_localstack.sh";
  if (!venvDir) return `${hint} (no ${VENV_NAME} found; or set LOCALSTACK_VENV)`;
  if (!existsSync(join(venvDir, "bin", "python"))) return `${hint} (no ${venvDir}/bin/python)`;
  return undefined;
}

/**
 * `python -m localstack.runtime.main` plus a watchdog thread for when this
 * process dies without running its exit hooks (SIGKILL, `timeout`): at EOF on
 * stdin it kills LocalStack's process tree (kinesis-mock runs in a group of
 * its own) and deletes the run's temp dir. Not a graceful SIGTERM: with our
 * end of the stdout pipe gone, LocalStack's shutdown stalled and the forced
 * kill that followed orphaned kinesis-mock.
 */
const HOST_MAIN = [
  "import os, runpy, shutil, signal, sys, threading, psutil",
  "def _watch():",
  "    sys.stdin.buffer.read()",
  "    for p in psutil.Process().children(recursive=True):",
  "        try: p.kill()",
  "        except psutil.Error: pass",
  "    shutil.rmtree(os.environ['KPL_HARNESS_TMP'], ignore_errors=True)",
  "    os.killpg(os.getpgid(0), signal.SIGKILL)",
  "threading.Thread(target=_watch, daemon=True).start()",
  "runpy.run_module('localstack.runtime.main', run_name='__main__', alter_sys=True)",
].join("\n");

/*
 * Host mode's environment, each one needed here (LocalStack 4.14.0, Python 3.13):
 *   SERVICES=kinesis,sts         load only these providers (faster start)
 *   GATEWAY_LISTEN=127.0.0.1:<p> free loopback port instead of 4566, so runs can overlap
 *   DNS_ADDRESS=0                else it starts a DNS server on port 53
 *   SKIP_SSL_CERT_DOWNLOAD=1     else it downloads a TLS certificate at start
 *   DISABLE_EVENTS=1             no analytics calls
 *   KINESIS_MOCK_PROVIDER_ENGINE=node  `scala` would download a jar
 *   OVERRIDE_IN_DOCKER=0         this machine has /.dockerenv, so LocalStack thought it
 *                                was in its own image and used /var/lib/localstack and
 *                                /tmp/localstack (and npm-installed kinesis-local there)
 *   FILESYSTEM_ROOT=<tmp>/fs     host-mode root of all its dirs (libs, cache, tmp, state,
 *                                logs): one per run, deleted on stop
 *   <tmp>/fs/usr/lib/localstack -> <venv>/static-libs  (a symlink, not a variable): where
 *                                the installer put kinesis-local@0.5.2, so the Kinesis
 *                                provider skips `npm install` at first use
 *   LOCALSTACK_VOLUME_DIR=<tmp>/volume  only the CLI reads it; set so nothing defaults
 *                                to /tmp/localstack
 *   KINESIS_PERSISTENCE=0        kinesis-mock would otherwise write its state every 5 s
 * `node` must be on PATH: LocalStack runs `node main.js` for kinesis-mock.
 */
async function startHost(
  region: string,
  timeoutMs: number,
  venvDir: string | undefined,
  verbose: boolean,
  extraEnv: Record<string, string>,
): Promise<LocalStack> {
  const why = hostUnavailable(venvDir);
  if (why) throw new NotAvailable(why);
  const venv = resolve(venvDir!);
  const root = await mkdtemp(join(tmpdir(), "kpl-localstack-"));
  const fsRoot = join(root, "fs");
  await mkdir(join(fsRoot, "usr", "lib"), { recursive: true });
  const libs = join(venv, "static-libs");
  if (existsSync(join(libs, "kinesis-local", KINESIS_LOCAL_VERSION))) {
    await symlink(libs, join(fsRoot, "usr", "lib", "localstack"));
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...commonEnv(),
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    OVERRIDE_IN_DOCKER: "0",
    FILESYSTEM_ROOT: fsRoot,
    LOCALSTACK_VOLUME_DIR: join(root, "volume"),
    // Deleted by HOST_MAIN's watchdog if this process dies without cleanup.
    KPL_HARNESS_TMP: root,
    // An inherited one would point LocalStack's runtime package installs elsewhere.
    VIRTUAL_ENV: venv,
    ...extraEnv,
  };
  const proc = new Tree(join(venv, "bin", "python"), ["-c", HOST_MAIN], {
    cwd: root,
    env,
    verbose,
    cleanupSync: () => rmSync(root, { recursive: true, force: true }),
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await proc.stop(15_000);
      await waitPortFree(port, 5_000);
      await rm(root, { recursive: true, force: true });
    })();
  try {
    await waitReady(endpoint, region, timeoutMs, () => proc.exitMessage("LocalStack"));
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, region, mode: "host", stop };
}

// --- readiness ------------------------------------------------------------

const UP = new Set(["available", "running"]);

async function waitReady(
  endpoint: string,
  region: string,
  timeoutMs: number,
  dead: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (true) {
    const died = dead();
    if (died) throw new Error(died);
    try {
      const res = await fetch(`${endpoint}/_localstack/health`, {
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      const services = (JSON.parse(text) as { services?: Record<string, string> }).services ?? {};
      last = `health: kinesis=${services.kinesis}, sts=${services.sts}`;
      if (res.ok && UP.has(services.kinesis) && UP.has(services.sts)) {
        // The first Kinesis call starts kinesis-mock inside LocalStack (~2 s).
        const listed = await kinesisRaw(endpoint, region, "ListStreams", {}, 30_000);
        last = `ListStreams: HTTP ${listed.status} ${listed.text.slice(0, 200)}`;
        if (listed.status === 200) return;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `LocalStack at ${endpoint} was not ready within ${timeoutMs} ms (last: ${last})${
          dead() ?? ""
        }`,
      );
    }
    await sleep(250);
  }
}

// --- processes and ports --------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Listens on port 0 to let the OS pick a free port, then releases it. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** True when a listen on 127.0.0.1:`port` succeeds, i.e. nothing holds it. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

async function waitPortFree(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portIsFree(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} is still bound after stop`);
    await sleep(100);
  }
}

/** pid -> ppid for every process, via `ps` (Linux and macOS). */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  try {
    const out = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
    for (const line of out.split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined) table.set(pid, ppid);
    }
  } catch {
    // No ps: the process-group kill still covers most of the tree.
  }
  return table;
}

function descendants(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * A child in its own process group plus whatever it spawns. LocalStack starts
 * kinesis-mock in a process group of its own, so a group kill alone would
 * orphan it; the tree is snapshotted with `ps` and killed too.
 */
class Tree {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #exit: string | undefined;
  #lines: string[] = [];
  #cleanupSync?: () => void;

  constructor(
    cmd: string,
    args: string[],
    opts: {
      cwd: string;
      env: Record<string, string | undefined>;
      verbose: boolean;
      /** Runs in the exit hook after the kill, e.g. to delete a temp dir. */
      cleanupSync?: () => void;
    },
  ) {
    this.#cleanupSync = opts.cleanupSync;
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      // stdin is the watchdog's pipe (see HOST_MAIN).
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.exited = new Promise((res) => {
      this.child.once("error", (err) => {
        this.#exit = `could not spawn ${cmd}: ${err.message}`;
        res();
      });
      this.child.once("close", (code, sig) => {
        this.#exit ??= `exited with ${sig ?? `code ${code}`}`;
        res();
      });
    });
    const untrack = track(() => this.killNow());
    this.exited.then(untrack);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let rest = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        if (opts.verbose) process.stderr.write(chunk);
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        this.#lines.push(...parts);
        if (this.#lines.length > 60) this.#lines.splice(0, this.#lines.length - 60);
      });
    }
  }

  /** A message if the process has exited (with its last output), else undefined. */
  exitMessage(what: string): string | undefined {
    if (this.#exit === undefined) return undefined;
    return `${what} ${this.#exit}. Last output:\n${this.#lines.join("\n")}`;
  }

  /** SIGKILL the group and every descendant, synchronously (exit hook). */
  killNow(): void {
    const pid = this.child.pid;
    if (pid !== undefined && this.#exit === undefined) {
      const kids = descendants(pid);
      signal(-pid, "SIGKILL");
      for (const k of kids) signal(k, "SIGKILL");
    }
    try {
      this.#cleanupSync?.();
    } catch {
      // Best effort while exiting.
    }
  }

  /**
   * SIGTERM the group (LocalStack then stops kinesis-mock itself), SIGKILL
   * after `graceMs`, and in any case SIGKILL descendants that outlived it.
   */
  async stop(graceMs: number): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const kids = this.#exit === undefined ? descendants(pid) : [];
    signal(-pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => timer = setTimeout(() => r(true), graceMs)),
    ]);
    clearTimeout(timer);
    if (late) signal(-pid, "SIGKILL");
    await this.exited;
    for (const k of kids) signal(k, "SIGKILL");
  }
}
