/**
 * `deno task bench`: runs every benchmark (each in child processes, so heaps
 * and CPU accounting stay separate), then writes `results.json`, `RESULTS.md`
 * and `chart.svg`.
 *
 * - `deno task bench` → full run, written to `bench/results/` (about 10 minutes on 2 cores).
 * - `deno task bench:smoke` → tiny inputs, one round, written to `.bench-out/smoke/`;
 *   proves every contender still works and exits non-zero if one breaks.
 *
 * Flags: `--smoke`, `--out DIR`, `--skip-ship` (skip the 1 GB memory run),
 * `--only aggregation,md5,signing,e2e,wire,units,ship`, `--runtimes deno,node` (the
 * runtimes contenders run in; Node runs esbuild bundles of the same scripts).
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { benchAggregation } from "./aggregation.ts";
import { benchMd5 } from "./md5.ts";
import {
  DATASETS,
  machineInfo,
  parseArgs,
  runChild,
  type Runtime,
  runtimeName,
  runtimeVersion,
  scriptCommand,
} from "./common.ts";
import { benchEndToEnd } from "./end_to_end.ts";
import { benchCollection } from "./collection.ts";
import type { ThrottlingResult } from "./throttling.ts";
import { benchPayloadUnits } from "./payload_units.ts";
import { type BenchResults, chartSvg, resultsMarkdown } from "./report.ts";
import type { SigningResult } from "./signing.ts";
import { benchWireBytes } from "./wire_bytes.ts";

const args = parseArgs(process.argv.slice(2));
const smoke = !!args.smoke;
const here = (file: string) => new URL(`./${file}`, import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;
const out = typeof args.out === "string"
  ? args.out
  : join(root, smoke ? ".bench-out/smoke" : "bench/results");
const only = typeof args.only === "string" ? new Set(args.only.split(",")) : undefined;
const want = (name: string) => !only || only.has(name);
const log = (s: string) => console.error(s);

const started = performance.now();
const results: BenchResults = {
  smoke,
  machine: machineInfo(),
  runtimes: { "orchestrator and every contender": runtimeName() },
  durationS: 0,
  aggregation: [],
  endToEnd: [],
  md5: [],
  gaps: [],
  failures: [],
};

async function step<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  const t0 = performance.now();
  log(`▶ ${name}`);
  try {
    const value = await run();
    log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`✗ ${name} failed: ${message}`);
    results.failures.push(`${name}: ${message.split("\n").slice(0, 6).join(" ")}`);
    return undefined;
  }
}

const runtimes = (typeof args.runtimes === "string" ? args.runtimes : "deno,node")
  .split(",") as Runtime[];
results.runtimes = {
  orchestrator: runtimeName(),
  ...Object.fromEntries(runtimes.map((r) => [`${r} contenders`, runtimeVersion(r)])),
};

if (want("aggregation")) {
  for (const runtime of runtimes) {
    // Smoke: the 200B set only (it has every contender), tiny, one round.
    for (const d of smoke ? DATASETS.slice(0, 1) : DATASETS) {
      const r = await step(
        `aggregation ${d.name} in ${runtime}`,
        () =>
          benchAggregation(
            d.name,
            smoke ? { records: 3000, rounds: 1, runtime, log } : { rounds: 5, runtime, log },
          ),
      );
      if (r) {
        results.aggregation.push(r);
        const x = r.ratios[0];
        log(
          `  ours-1MiB / aws-kinesis-agg: ${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${
            x.max.toFixed(2)
          })`,
        );
      }
    }
  }
}

if (want("md5")) {
  for (const runtime of runtimes) {
    const m = await step(
      `md5 in ${runtime}`,
      () => benchMd5(smoke ? { rounds: 1, runtime, smoke } : { rounds: 5, runtime }),
    );
    if (m) results.md5.push(m);
  }
}

if (want("signing")) {
  results.signing = await step(
    "signing",
    () =>
      runChild<SigningResult>(
        here("signing.ts"),
        smoke ? ["--smoke", "--rounds", "1"] : ["--rounds", "7"],
      ),
  );
}

if (want("e2e")) {
  for (const runtime of runtimes) {
    const e = await step(
      `end to end in ${runtime}`,
      () =>
        benchEndToEnd(
          smoke
            ? { records: 3000, rounds: 1, smoke: true, runtime, log }
            : { records: 300_000, rounds: 5, runtime, log },
        ),
    );
    if (e) results.endToEnd.push(e);
  }
}

if (want("wire")) {
  results.wireBytes = await step("wire bytes", () => Promise.resolve(benchWireBytes({ smoke })));
}
if (want("units")) {
  results.payloadUnits = await step(
    "payload units",
    () => Promise.resolve(benchPayloadUnits({ smoke })),
  );
}

/** Runs scripts/bench/ship_memory.ts (owned by the CLI work) and parses the JSON it prints. */
function runShipMemory(mb: number): Promise<Record<string, unknown>> {
  const [cmd, argv] = scriptCommand(here("ship_memory.ts"), ["--mb", String(mb)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const start = stdout.indexOf("{");
      try {
        const value = JSON.parse(stdout.slice(start, stdout.lastIndexOf("}") + 1)) as Record<
          string,
          unknown
        >;
        if (code !== 0 || value.exitCode !== 0) {
          reject(
            new Error(
              `ship_memory exited ${code} (CLI exit ${value.exitCode}): ${stderr.slice(-1500)}`,
            ),
          );
        } else {
          resolve(value);
        }
      } catch {
        reject(
          new Error(`ship_memory exited ${code} without a JSON summary: ${stderr.slice(-1500)}`),
        );
      }
    });
  });
}

if (want("ship")) {
  if (!existsSync(here("ship_memory.ts"))) {
    results.gaps.push(
      "Item 6 (peak RSS of `deno task ship` on 1 GB): scripts/bench/ship_memory.ts does not exist yet.",
    );
  } else if (args["skip-ship"]) {
    results.gaps.push("Item 6 (peak RSS of `deno task ship` on 1 GB): skipped with --skip-ship.");
  } else {
    // Smoke: 4 MiB proves the pipeline works; full: 1 GiB as the issue asks.
    results.shipMemory = await step("ship memory", () => runShipMemory(smoke ? 4 : 1024));
    if (!results.shipMemory) {
      results.gaps.push("Item 6: ship_memory.ts failed in this run (see failures).");
    }
  }
}

if (want("collection")) {
  results.collection = await step(
    "PutRecords collection",
    () => benchCollection(smoke ? { records: 5000, rounds: 1, log } : { rounds: 3, log }),
  );
}
if (want("throttling")) {
  // In its own process: its fake and producer share one event loop.
  results.throttling = await step(
    "throttling",
    () => runChild<ThrottlingResult>(here("throttling.ts"), smoke ? ["--smoke"] : []),
  );
}

results.durationS = (performance.now() - started) / 1000;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "results.json"), JSON.stringify(results, null, 2) + "\n");
writeFileSync(join(out, "RESULTS.md"), resultsMarkdown(results) + "\n");
writeFileSync(join(out, "chart.svg"), chartSvg(results));
log(
  `wrote ${out}/RESULTS.md, chart.svg, results.json in ${(results.durationS / 60).toFixed(1)} min`,
);
if (results.failures.length) {
  log(`${results.failures.length} benchmark(s) failed:\n- ${results.failures.join("\n- ")}`);
  process.exit(1);
}
process.exit(0);
