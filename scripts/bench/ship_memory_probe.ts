/**
 * Runs the ship CLI in this process and samples `Deno.memoryUsage()` every
 * `SHIP_PROBE_MS` ms (default 50): rss, V8 heap used/total and external
 * (ArrayBuffer backing stores). Prints one JSON line to stderr at exit with
 * each field's peak and the split at the RSS peak, so the benchmark can say
 * where the memory is. Used by `ship_memory.ts --probe`.
 * @module
 */
import process from "node:process";
import { runCli } from "../../src/cli/main.ts";

const MiB = 1024 * 1024;
const every = Number(process.env.SHIP_PROBE_MS ?? 50);
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
let atRssPeak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
const series: number[][] = [];
const started = performance.now();
const sample = () => {
  const m = Deno.memoryUsage();
  if (m.rss > peak.rss) atRssPeak = { ...m };
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  peak.external = Math.max(peak.external, m.external);
  series.push([
    Math.round(performance.now() - started),
    ...[m.rss, m.heapUsed, m.heapTotal, m.external].map((v) => Math.round(v / MiB)),
  ]);
};
const timer = setInterval(sample, every);
const mib = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / MiB * 10) / 10]));
process.on("exit", () => {
  clearInterval(timer);
  sample();
  process.stderr.write(
    `probe ${
      JSON.stringify({ peakMiB: mib(peak), atRssPeakMiB: mib(atRssPeak), series: series })
    }\n`,
  );
});
await runCli();
