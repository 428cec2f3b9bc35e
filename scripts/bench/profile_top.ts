/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof` or `node --cpu-prof`):
 * the functions with the most self time, and the most inclusive time.
 *
 * `deno run -A scripts/bench/profile_top.ts <file.cpuprofile> [--top 30] [--filter src/]`
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "./common.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive milliseconds per function in `profile`. */
export function summarize(profile: Profile): { name: string; selfMs: number; totalMs: number }[] {
  const byId = new Map<number, Node>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const label = (n: Node) => {
    const url = n.callFrame.url.replace(/^.*\/(node_modules|src|scripts)\//, "$1/");
    return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  return [...total.keys()].map((name) => ({
    name,
    selfMs: (self.get(name) ?? 0) / 1000,
    totalMs: (total.get(name) ?? 0) / 1000,
  }));
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2));
  const file = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (!file) throw new Error("usage: profile_top.ts <file.cpuprofile> [--top N] [--filter text]");
  const top = Number(args.top ?? 30);
  const filter = typeof args.filter === "string" ? args.filter : "";
  const rows = summarize(JSON.parse(readFileSync(file, "utf8"))).filter((r) =>
    r.name.includes(filter)
  );
  const all = JSON.parse(readFileSync(file, "utf8")) as Profile;
  console.log(`profile: ${((all.endTime - all.startTime) / 1000).toFixed(0)} ms`);
  console.log("\n== self time ==");
  for (const r of [...rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    console.log(`${r.selfMs.toFixed(1).padStart(9)} ms  ${r.name}`);
  }
  console.log("\n== inclusive time ==");
  for (const r of [...rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
    console.log(`${r.totalMs.toFixed(1).padStart(9)} ms  ${r.name}`);
  }
}
