// scripts/docker_engine.sh fault paths, each against a real dockerd in a temp
// state dir: a second daemon on the same socket, a second run on the same data
// root, a daemon that exits during start. Each must fail fast with one line
// naming the step, exit 3 ("no engine here", so CI may fall back), and leave
// no daemon behind. Needs root and Debian's docker.io; skips otherwise.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const script = new URL("../../scripts/docker_engine.sh", import.meta.url).pathname;
const hasDockerd = spawnSync("sh", ["-c", "command -v dockerd"]).status === 0;
const skip = process.getuid?.() !== 0
  ? "needs root"
  : !hasDockerd
  ? "dockerd is not installed (apt-get install docker.io)"
  : false;

interface Run {
  status: number | null;
  stderr: string;
  stdout: string;
  ms: number;
}

function engine(args: string[], env: Record<string, string>): Run {
  const t0 = Date.now();
  const r = spawnSync("bash", [script, ...args], {
    env: { ...process.env, DOCKER_ENGINE_INSTALL: "0", DOCKER_ENGINE_TIMEOUT: "30", ...env },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, ms: Date.now() - t0 };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("scripts/docker_engine.sh faults", { skip }, () => {
  let root: string;
  let a: Record<string, string>;
  let pid = 0;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "kpl-engine-test-"));
    a = { KPL_DOCKER_DIR: join(root, "a"), KPL_DOCKER_RUN_DIR: join(root, "ra") };
    const up = engine(["start"], a);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /^export DOCKER_HOST=unix:\/\/.*docker\.sock$/m);
    pid = Number(readFileSync(join(root, "ra", "launched.pid"), "utf8"));
    assert.ok(alive(pid));
  });

  after(() => {
    engine(["stop"], a);
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses a second daemon on a socket where one answers", () => {
    const b = engine(["start"], {
      KPL_DOCKER_DIR: join(root, "b"),
      KPL_DOCKER_RUN_DIR: a.KPL_DOCKER_RUN_DIR,
    });
    assert.equal(b.status, 3, b.stderr);
    assert.match(
      b.stderr,
      /^docker engine: start dockerd: another daemon already answers on \S+docker\.sock$/m,
    );
    assert.ok(alive(pid), "the first daemon must survive");
  });

  it("refuses a second run on the same data root", () => {
    const b = engine(["start"], {
      KPL_DOCKER_DIR: a.KPL_DOCKER_DIR,
      KPL_DOCKER_RUN_DIR: join(root, "rb"),
    });
    assert.equal(b.status, 3, b.stderr);
    assert.match(b.stderr, /^docker engine: start dockerd: another run holds \S+lock/m);
  });

  it("reports a daemon that exits during start, and leaves none", () => {
    const c = { KPL_DOCKER_DIR: join(root, "c"), KPL_DOCKER_RUN_DIR: join(root, "rc") };
    // A directory where its pidfile goes: dockerd exits at once.
    mkdirSync(join(root, "rc", "dockerd.pid"), { recursive: true });
    const r = engine(["start"], c);
    assert.equal(r.status, 3, r.stderr);
    assert.match(
      r.stderr,
      /^docker engine: start dockerd: it exited during start: .+ \(log: \S+\)$/m,
    );
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
    assert.equal(engine(["status"], c).status, 1);
  });

  it("stops its daemon by PID, and a second stop is a no-op", () => {
    const s = engine(["stop"], a);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(alive(pid), false, `dockerd ${pid} still running`);
    assert.equal(engine(["stop"], a).status, 0);
    assert.equal(engine(["status"], a).status, 1);
  });
});
