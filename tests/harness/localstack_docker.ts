/**
 * Docker mode of the LocalStack harness: one container through testcontainers,
 * exactly as a user with Docker Hub access runs it, plus what these machines
 * need (no registry, no bridge):
 *
 * - host networking, with LocalStack told which free loopback port to serve
 *   (`GATEWAY_LISTEN`), since there is no port mapping;
 * - readiness from LocalStack's health endpoint (a testcontainers wait
 *   strategy), failing fast when the container exits;
 * - cleanup on every exit path: `stop()`, testcontainers itself when readiness
 *   fails, an exit/SIGINT/SIGTERM hook, and for a test process that died
 *   without hooks (SIGKILL), a sweep of its labelled containers at the next
 *   start (and by scripts/docker_engine.sh before the engine stops). Ryuk, the
 *   usual reaper, is an image that cannot be pulled here
 *   (`TESTCONTAINERS_RYUK_DISABLED=true` in CI); where it runs it reaps too.
 *
 * Test code: `node:` modules only, runs under Deno, Node and Bun.
 * @module
 */
import { execFileSync } from "node:child_process";
import { hostname } from "node:os";
import process from "node:process";
import { track } from "../../src/cli/reaper.ts";

/** The published image; `latest` refuses to start without LOCALSTACK_AUTH_TOKEN since 2026-03-23. */
export const LOCALSTACK_IMAGE = "localstack/localstack:4.14.0";

/** Label on every container this harness starts (also swept by scripts/docker_engine.sh). */
export const HARNESS_LABEL = "kpl.harness";
const HARNESS_VALUE = "localstack";
/** Label holding {@linkcode ownerId} of the test process that owns the container. */
export const OWNER_LABEL = "kpl.harness.owner";

/** `<hostname>:<pid>` of this process. */
export function ownerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Options for {@linkcode startContainer}. */
export interface ContainerOptions {
  /** Image reference, e.g. {@linkcode LOCALSTACK_IMAGE}. */
  image: string;
  /** Loopback port LocalStack serves on (host networking). */
  port: number;
  /** Environment for LocalStack (GATEWAY_LISTEN is set from `port`). */
  env: Record<string, string>;
  /** Time for the health endpoint to report Kinesis and STS, ms. */
  timeoutMs: number;
}

/** A started container; `stop()` stops and removes it, idempotent. */
export interface RunningContainer {
  id: string;
  stop(): Promise<void>;
}

/** Thrown when no container engine answers (the caller tries its next mode). */
export class NoEngineError extends Error {}

/** Why docker mode cannot run here, or undefined when an engine answers. */
export async function engineUnavailable(): Promise<string | undefined> {
  try {
    if (typeof (globalThis as { Bun?: unknown }).Bun !== "undefined") {
      // Ryuk (the reaper container) does not work under Bun.
      process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
    }
    // Host networking: the container is on this host's loopback. Without this,
    // testcontainers sees /.dockerenv (present on these machines), assumes it
    // runs inside a container and looks up the `bridge` network, which an
    // engine started with --bridge=none lacks, and rejects the engine.
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
    const { getContainerRuntimeClient } = await import("testcontainers");
    // Rejects within milliseconds when no engine answers.
    await getContainerRuntimeClient();
    return undefined;
  } catch (err) {
    return `no container engine (${(err as Error).message})`;
  }
}

/**
 * Starts LocalStack in a container and waits until its health endpoint
 * reports Kinesis and STS available.
 * @throws {NoEngineError} When no engine answers.
 * @throws {Error} When the image is missing, the container exits, or it is not
 *   healthy within `timeoutMs` (the container is removed first).
 */
export async function startContainer(opts: ContainerOptions): Promise<RunningContainer> {
  const why = await engineUnavailable();
  if (why) throw new NoEngineError(why);
  const { GenericContainer, getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  await sweepOrphans(client);
  const owner = ownerId();
  const endpoint = `http://127.0.0.1:${opts.port}`;
  let container;
  try {
    container = await new GenericContainer(opts.image)
      .withNetworkMode("host")
      .withEnvironment({ ...opts.env, GATEWAY_LISTEN: `127.0.0.1:${opts.port}` })
      .withLabels({ [HARNESS_LABEL]: HARNESS_VALUE, [OWNER_LABEL]: owner })
      .withWaitStrategy(new HealthWait(endpoint, client).withStartupTimeout(opts.timeoutMs))
      .start();
  } catch (err) {
    // testcontainers has stopped and removed a container that failed readiness.
    throw new Error(
      `LocalStack container (${opts.image}) did not start: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const id = container.getId();
  const untrack = track(() => removeNow(id));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        // Removes it too (testcontainers' default).
        await container.stop({ timeout: 10_000 });
      } finally {
        untrack();
      }
    })();
  return { id, stop };
}

/**
 * Synchronous removal for the exit hook (no event loop left there): the docker
 * CLI with testcontainers' DOCKER_HOST, best effort; the sweep at the next
 * start catches what it misses.
 */
function removeNow(id: string): void {
  try {
    execFileSync("docker", ["rm", "-f", id], { stdio: "ignore", timeout: 15_000 });
  } catch {
    // No CLI, or already gone.
  }
}

type Client = Awaited<ReturnType<typeof import("testcontainers").getContainerRuntimeClient>>;

/** Removes containers of this harness whose owning process (on this host) is gone. */
async function sweepOrphans(client: Client): Promise<void> {
  const host = hostname();
  let list;
  try {
    list = await client.container.dockerode.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${HARNESS_LABEL}=${HARNESS_VALUE}`] }),
    });
  } catch {
    return;
  }
  for (const info of list) {
    const [h, pid] = (info.Labels?.[OWNER_LABEL] ?? "").split(":");
    if (h !== host || !pid || alive(Number(pid))) continue;
    try {
      await client.container.dockerode.getContainer(info.Id).remove({ force: true });
    } catch {
      // Removed meanwhile by another sweeper.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

const UP = new Set(["available", "running"]);

/**
 * testcontainers wait strategy: GET `/_localstack/health` until Kinesis and STS
 * are up. With host networking there are no bound ports to probe, so it takes
 * the endpoint; it checks the container is still running between polls.
 */
class HealthWait {
  #timeoutMs = 60_000;
  #set = false;
  constructor(readonly endpoint: string, readonly client: Client) {}

  withStartupTimeout(ms: number): this {
    this.#timeoutMs = ms;
    this.#set = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.#set;
  }
  getStartupTimeout(): number {
    return this.#timeoutMs;
  }

  async waitUntilReady(container: import("dockerode").Container): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let last = "no answer yet";
    while (true) {
      const state = (await container.inspect()).State;
      if (!state.Running) {
        throw new Error(
          `it exited (code ${state.ExitCode}) before it was healthy. Last output:\n${await tail(
            container,
          )}`,
        );
      }
      try {
        const res = await fetch(`${this.endpoint}/_localstack/health`, {
          signal: AbortSignal.timeout(5_000),
        });
        const services = (await res.json() as { services?: Record<string, string> }).services ??
          {};
        last = `kinesis=${services.kinesis}, sts=${services.sts}`;
        if (res.ok && UP.has(services.kinesis) && UP.has(services.sts)) return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `not healthy within ${this.#timeoutMs} ms at ${this.endpoint}/_localstack/health (last: ${last}). Last output:\n${await tail(
            container,
          )}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The container's last 30 log lines (stdout and stderr, demultiplexed). */
async function tail(container: import("dockerode").Container): Promise<string> {
  try {
    const raw = await container.logs({ stdout: true, stderr: true, tail: 30, follow: false });
    const buf = raw as unknown as Uint8Array;
    // Without a TTY each frame is [stream, 0, 0, 0, size (u32 BE)] + payload.
    const dec = new TextDecoder();
    let out = "";
    for (let i = 0; i + 8 <= buf.length;) {
      const size = new DataView(buf.buffer, buf.byteOffset + i + 4, 4).getUint32(0);
      out += dec.decode(buf.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    return out.trimEnd();
  } catch (err) {
    return `(no logs: ${(err as Error).message})`;
  }
}
