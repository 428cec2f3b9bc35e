/**
 * Starts kinesis-mock (npm `kinesis-local`) for a test, on free loopback ports.
 * Stands in until `src/cli/kinesis_mock.ts` exists; it always runs the mock
 * with `node`, whichever runtime runs the tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";

const PKG = fileURLToPath(new URL("../../node_modules/kinesis-local/", import.meta.url));

/** Whether the mock can run here. */
export const kinesisMockAvailable: boolean = existsSync(`${PKG}main.js`);

/** A running mock. */
export interface KinesisMock {
  /** Plain-HTTP endpoint. */
  url: string;
  /** Kills the process and waits for it to exit. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts kinesis-mock with `streams` (`name:shards,…`) and waits until it answers HTTP. */
export async function startKinesisMock(streams: string): Promise<KinesisMock> {
  const [plain, tls] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn("node", [`${PKG}main.js`], {
    env: {
      PATH: process.env.PATH ?? "",
      KINESIS_MOCK_CERT_PATH: `${PKG}server.json`,
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      INITIALIZE_STREAMS: streams,
      LOG_LEVEL: "WARN",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // kinesis-mock's graceful shutdown takes 30 s; it holds no state worth keeping.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.pid && process.kill(child.pid, "SIGKILL"), 500);
      await exited;
      clearTimeout(timer);
    }
    await exited;
  };
  const url = `http://127.0.0.1:${plain}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kinesis-mock exited: ${stderr}`);
    try {
      const res = await fetch(url, { method: "GET" });
      await res.body?.cancel();
      return { url, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`kinesis-mock did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}
