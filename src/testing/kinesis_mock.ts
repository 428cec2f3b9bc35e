/**
 * Launches kinesis-mock (npm `kinesis-local`) as a local Kinesis endpoint, for
 * the CLI's `--local` mode, for our tests and for yours (the `/testing` entry
 * point). Node/Deno/Bun only: it spawns `node <package dir>/main.js`.
 *
 * kinesis-mock checks only the shape of the SigV4 `Authorization` header, never
 * the signature; it does not throttle. Use it for correctness, not speed.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import process from "node:process";
import { track } from "./reaper.ts";

/** A stream to create when kinesis-mock starts. */
export interface KinesisMockStream {
  /** Stream name: 1-128 of `[a-zA-Z0-9_.-]`. */
  name: string;
  /**
   * Number of shards.
   * @default {4}
   */
  shards?: number;
}

/** Options for {@linkcode startKinesisMock}. */
export interface KinesisMockOptions {
  /**
   * Streams to create at start; the call resolves once all are ACTIVE.
   * @default {[]}
   */
  streams?: KinesisMockStream[];
  /**
   * Region the streams are created in and the readiness calls are signed for.
   * @default {"us-east-1"}
   */
  region?: string;
  /**
   * How long to wait for the mock to answer and the streams to be ACTIVE.
   * @default {60000}
   */
  readyTimeoutMs?: number;
  /**
   * The Node.js executable. Under Deno and Bun `process.execPath` is not Node,
   * so this is looked up on `PATH`.
   * @default {"node"}
   */
  nodePath?: string;
  /**
   * Directory of the `kinesis-local` package (holding `main.js` and `server.json`).
   * @default {the `kinesis-local` resolved from this module's node_modules}
   */
  packageDir?: string;
  /**
   * Receives each line kinesis-mock prints; by default they are only kept for
   * error messages.
   * @default {undefined}
   */
  onLog?: (line: string) => void;
  /**
   * Kill the mock and re-raise on SIGINT/SIGTERM. Set false when the caller
   * handles those signals and stops the mock itself; the exit hook and the
   * stdin watchdog still apply.
   * @default {true}
   */
  handleSignals?: boolean;
}

/** A running kinesis-mock. */
export interface KinesisMock {
  /** Plain-HTTP endpoint, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** Region the streams were created in. */
  region: string;
  /** Kills the process group and resolves once the port is free. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs main.js and exits when stdin reaches EOF, i.e. when this process dies
 * by any means, SIGKILL included: exit hooks alone leaked an orphaned mock
 * when a test runner was killed by `timeout`.
 */
const WATCHDOG = [
  'process.stdin.on("end", () => process.exit(0)).on("error", () => process.exit(0)).resume();',
  "require(process.argv[1]);",
].join("\n");

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * Starts kinesis-mock on free loopback ports and waits until it answers a
 * Kinesis call and every requested stream is ACTIVE. The process is killed on
 * `stop()`, and also when this process exits or (unless `handleSignals` is
 * false) gets SIGINT/SIGTERM.
 *
 * @example Start a mock with one stream
 * ```ts ignore
 * import { startKinesisMock } from "./kinesis_mock.ts";
 *
 * const mock = await startKinesisMock({ streams: [{ name: "events", shards: 2 }] });
 * try {
 *   console.log(`Kinesis at ${mock.endpoint} (${mock.region})`);
 * } finally {
 *   await mock.stop();
 * }
 * ```
 *
 * @param opts Streams, region and timeouts.
 * @returns The endpoint, region and a `stop()` function.
 * @throws {RangeError} If an option is out of range.
 * @throws {Error} If the package is missing, the process exits early or the
 * timeout passes; the message ends with the mock's last log lines.
 */
export async function startKinesisMock(opts: KinesisMockOptions = {}): Promise<KinesisMock> {
  const {
    streams = [],
    region = "us-east-1",
    readyTimeoutMs = 60_000,
    nodePath = "node",
    packageDir = resolvePackageDir(),
    onLog,
    handleSignals = true,
  } = opts;
  if (!(readyTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot start kinesis-mock as readyTimeoutMs must be > 0: current value is ${readyTimeoutMs}`,
    );
  }
  if (!REGION.test(region)) {
    throw new RangeError(
      `Cannot start kinesis-mock as region is not a region name: current value is "${region}"`,
    );
  }
  for (const s of streams) {
    if (!STREAM_NAME.test(s.name)) {
      throw new RangeError(
        `Cannot start kinesis-mock as a stream name must match ${STREAM_NAME}: current value is "${s.name}"`,
      );
    }
    if (s.shards !== undefined && !(Number.isInteger(s.shards) && s.shards >= 1)) {
      throw new RangeError(
        `Cannot start kinesis-mock as shards must be an integer >= 1: current value is ${s.shards} for "${s.name}"`,
      );
    }
  }

  const plainPort = await freePort();
  const tlsPort = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    // Without the certificate path main.js crashes, even though we only use plain HTTP.
    KINESIS_MOCK_CERT_PATH: join(packageDir, "server.json"),
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    AWS_REGION: region,
    INITIALIZE_STREAMS: streams.map((s) => `${s.name}:${s.shards ?? 4}:${region}`).join(","),
  };
  if (!streams.length) delete env.INITIALIZE_STREAMS;

  const proc = new GroupProcess(
    nodePath,
    ["-e", WATCHDOG, join(packageDir, "main.js")],
    env,
    onLog,
    handleSignals,
  );
  const endpoint = `http://127.0.0.1:${plainPort}`;
  const stop = () => proc.stop(plainPort);
  try {
    await proc.until(readyTimeoutMs, async () => {
      const listed = await kinesisCall(endpoint, region, "ListStreams", {});
      if (!listed) return false;
      for (const s of streams) {
        const d = await kinesisCall(endpoint, region, "DescribeStreamSummary", {
          StreamName: s.name,
        }) as { StreamDescriptionSummary?: { StreamStatus?: string } } | undefined;
        if (d?.StreamDescriptionSummary?.StreamStatus !== "ACTIVE") return false;
      }
      return true;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, region, stop };
}

function resolvePackageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("kinesis-local/package.json"));
  } catch (cause) {
    throw new Error(
      "kinesis-mock is not installed: add the npm package kinesis-local (npm install -D kinesis-local)",
      { cause },
    );
  }
}

/** Listens on port 0 to let the OS pick a free port, then releases it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true when nothing listens on `port` (a listen there succeeds). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * One Kinesis JSON call with a well-formed but fake SigV4 header (kinesis-mock
 * checks only its shape). Resolves the parsed body on 2xx, undefined otherwise
 * (including connection refused while starting).
 */
async function kinesisCall(
  endpoint: string,
  region: string,
  action: string,
  body: unknown,
): Promise<unknown> {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  try {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `Kinesis_20131202.${action}`,
        "x-amz-date": amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=000000000000/${
          amzDate.slice(0, 8)
        }/${region}/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${
          "0".repeat(64)
        }`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return res.ok ? JSON.parse(text || "{}") : undefined;
  } catch {
    return undefined;
  }
}

/** A child spawned as its own process group, so one kill reaches its children. */
class GroupProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #lines: string[] = [];
  #exitCode: number | null | undefined;
  #stopping?: Promise<void>;

  constructor(
    cmd: string,
    args: string[],
    env: Record<string, string | undefined>,
    onLog: ((line: string) => void) | undefined,
    handleSignals: boolean,
  ) {
    // stdin is the watchdog's pipe; detached so one kill(-pid) reaches the group.
    this.child = spawn(cmd, args, { env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        spawnError = err;
        this.#log(`spawn ${cmd}: ${err.message}`);
        this.#exitCode = null;
        resolve();
      });
      this.child.once("close", (code) => {
        if (!spawnError) this.#exitCode = code;
        resolve();
      });
    });
    const untrack = track(() => this.kill("SIGKILL"), { signals: handleSignals });
    this.exited.then(untrack);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let rest = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) {
          this.#log(line);
          onLog?.(line);
        }
      });
    }
  }

  #log(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > 40) this.#lines.shift();
  }

  /** The last lines of output, for error messages. */
  tail(): string {
    return this.#lines.join("\n");
  }

  /** Polls `ready` until it resolves true; rejects on timeout or early exit. */
  async until(timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (this.#exitCode !== undefined) {
        throw new Error(
          `kinesis-mock exited early (code ${this.#exitCode}). Last output:\n${this.tail()}`,
        );
      }
      if (await ready()) return;
      if (Date.now() > deadline) {
        throw new Error(
          `kinesis-mock was not ready within ${timeoutMs} ms. Last output:\n${this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  kill(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.#exitCode !== undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone.
    }
  }

  /**
   * SIGKILL the group, then wait until `port` is free. Not SIGTERM: the mock
   * has no state to flush, and its graceful shutdown waits for idle keep-alive
   * connections (fetch pools them), which took 5 s here.
   */
  stop(port: number): Promise<void> {
    this.#stopping ??= (async () => {
      this.kill("SIGKILL");
      await this.exited;
      for (let i = 0; i < 50 && !(await portIsFree(port)); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return this.#stopping;
  }
}
