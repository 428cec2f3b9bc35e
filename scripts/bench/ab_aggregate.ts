/**
 * A/B of two aggregator builds in one process, interleaved, median of per-pair
 * ratios; for commit messages of builder changes. `--old <dir>` is a checkout
 * (e.g. `git archive <rev> src | tar -x -C /tmp/old`, with node_modules linked).
 * @module
 */
import process from "node:process";
import { Aggregator } from "../../src/format/aggregator.ts";
import { cpuSeconds, dataset, makePayloads, median, parseArgs } from "./common.ts";

const args = parseArgs(process.argv.slice(2));
const old = (await import(`file://${args.old}/src/format/aggregator.ts`)) as {
  Aggregator: typeof Aggregator;
};
for (const name of String(args.datasets ?? "200B,40B").split(",")) {
  const d = dataset(name);
  const n = Number(args.records ?? d.records);
  const records = makePayloads(n, d.size).map((data) => ({ data }));
  const run = (A: typeof Aggregator) => {
    const c0 = cpuSeconds();
    const agg = new A({ targetBytes: 1_048_576, partitionKey: "k" });
    for (let i = 0; i < records.length; i++) agg.add(records[i]);
    agg.flush();
    return cpuSeconds() - c0;
  };
  run(old.Aggregator);
  run(Aggregator);
  const ratios: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < Number(args.rounds ?? 7); i++) {
    const first = i % 2 === 0;
    const x = first ? run(old.Aggregator) : 0;
    const y = run(Aggregator);
    const x2 = first ? x : run(old.Aggregator);
    a.push(x2);
    b.push(y);
    ratios.push(x2 / y);
  }
  console.log(
    `${name}: old ${(median(a) * 1000).toFixed(0)} ms CPU, new ${
      (median(b) * 1000).toFixed(0)
    } ms CPU, old/new median ${median(ratios).toFixed(3)} [${
      ratios.map((r) => r.toFixed(2)).join(" ")
    }]`,
  );
}
