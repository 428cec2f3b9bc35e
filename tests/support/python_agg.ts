/**
 * The Python `aws-kinesis-agg` package as a test oracle: a venv under
 * `node_modules/.cache/` with pinned versions, installed on first use (PyPI),
 * and a script that parses aggregate bodies with the package's own protobuf
 * module (`messages_pb2`, upb underneath) and prints what it read.
 *
 * Test code: it uses `node:` modules and runs under Deno, Bun and Node.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";

/** Pinned: the deaggregator and the protobuf runtime it runs on here. */
export const PYTHON_AGG_PINS = ["aws-kinesis-agg==1.2.3", "protobuf==7.36.2", "six==1.16.0"];

// Under the checkout's node_modules (the test runners start at the repository root), so the
// Deno, Bun and Node runs share one install.
const ROOT = process.cwd();
const VENV = join(ROOT, "node_modules", ".cache", "aws-kinesis-agg-1.2.3");

// Reads base64 bodies (magic and digest stripped) from a file, one per line; prints one JSON
// object per line. A file, not stdin: a synchronous child with both pipes full would deadlock.
const SCRIPT = String.raw`
import base64, json, sys
import aws_kinesis_agg.deaggregator  # puts the package's generated modules on sys.path
from aws_kinesis_agg import messages_pb2
import google.protobuf.message

def b(x):
    return base64.b64encode(x.encode("utf-8") if isinstance(x, str) else bytes(x)).decode()

for line in open(sys.argv[1]):
    ar = messages_pb2.AggregatedRecord()
    try:
        ar.ParseFromString(base64.b64decode(line.strip()))
    except google.protobuf.message.DecodeError:
        print(json.dumps({"ok": False}))
        continue
    print(json.dumps({
        "ok": True,
        # Required fields (KCL's protobuf-java refuses a message without them; upb does not check).
        "init": ar.IsInitialized(),
        "pks": [b(k) for k in ar.partition_key_table],
        "ehks": [b(k) for k in ar.explicit_hash_key_table],
        "records": [{
            "d": b(r.data),
            "p": str(r.partition_key_index),
            "e": str(r.explicit_hash_key_index) if r.HasField("explicit_hash_key_index") else None,
        } for r in ar.records],
    }))
`;

/** What the oracle read from one body. */
export type OracleResult =
  | { ok: false }
  | {
    ok: true;
    init: boolean;
    pks: string[];
    ehks: string[];
    records: { d: string; p: string; e: string | null }[];
  };

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  }
  return r.stdout;
}

/** Creates the venv and installs the pins, unless already there. Returns its python. */
export function pythonAggOracle(): string {
  const python = join(VENV, "bin", "python");
  const marker = join(VENV, "installed.txt");
  if (!existsSync(marker)) {
    mkdirSync(join(ROOT, "node_modules", ".cache"), { recursive: true });
    run("python3", ["-m", "venv", "--clear", VENV]);
    run(python, [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      ...PYTHON_AGG_PINS,
    ]);
    writeFileSync(marker, PYTHON_AGG_PINS.join("\n") + "\n");
  }
  const script = join(VENV, "parse_bodies.py");
  writeFileSync(script, SCRIPT);
  return python;
}

/** Parses each body (protobuf bytes, no magic or digest) with the oracle. */
export function oracleParse(bodies: Uint8Array[]): OracleResult[] {
  const python = pythonAggOracle();
  const base64 = (body: Uint8Array) => {
    let s = "";
    for (const c of body) s += String.fromCharCode(c);
    return btoa(s);
  };
  const input = bodies.map(base64).join("\n") + "\n";
  const file = join(mkdtempSync(join(tmpdir(), "agg-oracle-")), "bodies.b64");
  writeFileSync(file, input);
  const out = run(python, [join(VENV, "parse_bodies.py"), file]);
  return out.trimEnd().split("\n").map((line) => JSON.parse(line) as OracleResult);
}
