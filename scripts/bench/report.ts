/**
 * Turns the benchmark results into `RESULTS.md` (tables) and `chart.svg` (a
 * hand-written bar chart of the headline ratios, with the targets marked).
 * @module
 */
import type { CollectionResult } from "./collection.ts";
import type { ThrottlingResult } from "./throttling.ts";
import type { AggregationResult } from "./aggregation.ts";
import type { MachineInfo } from "./common.ts";
import type { EndToEndResult } from "./end_to_end.ts";
import type { Md5Result } from "./md5.ts";
import type { UnitsRow } from "./payload_units.ts";
import type { SigningResult } from "./signing.ts";
import type { WireRow } from "./wire_bytes.ts";

/** Everything one `deno task bench` run produced. */
export interface BenchResults {
  smoke: boolean;
  machine: MachineInfo;
  runtimes: Record<string, string>;
  durationS: number;
  aggregation: AggregationResult[];
  signing?: SigningResult;
  endToEnd: EndToEndResult[];
  md5: Md5Result[];
  wireBytes?: { rows: WireRow[] };
  payloadUnits?: { targetBytes: number; unitBytes: number; rows: UnitsRow[] };
  shipMemory?: Record<string, unknown>;
  collection?: CollectionResult;
  throttling?: ThrottlingResult;
  gaps: string[];
  failures: string[];
}

/** One bar of the chart. */
interface Bar {
  group: string;
  label: string;
  ratio: number;
  target?: number;
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const kib = (
  n: number,
) => (n >= 1_000_000 ? `${f(n / 1_048_576, 2)} MiB` : `${f(n / 1024, 0)} KiB`);

/** The headline ratios, as chart bars. */
export function bars(r: BenchResults): Bar[] {
  const out: Bar[] = [];
  for (const a of r.aggregation) {
    const x = a.ratios.find((q) => q.ours === "ours-1MiB" && q.theirs === "aws-kinesis-agg");
    if (x) {
      out.push({
        group: "Aggregation (1 MiB) vs aws-kinesis-agg, same runtime",
        label: `${a.dataset}, ${short(a.runtime)}`,
        ratio: x.median,
        target: a.dataset === "200B" ? (a.runtime.startsWith("node") ? 2 : 1.7) : undefined,
      });
    }
  }
  for (const a of r.aggregation) {
    const k = a.ratios.find((q) => q.ours === "ours-keyed");
    if (k) {
      out.push({
        group: "Keyed (1,000 shards, 100,000 keys) vs default mode",
        label: short(a.runtime),
        ratio: k.median,
        target: 0.8,
      });
    }
  }
  for (const row of r.signing?.rows ?? []) {
    out.push({
      group: "Signing one PutRecord vs the SDK (hasher auto)",
      label: `${kib(row.dataBytes)} data`,
      ratio: row.ratioVsSdk["ours-auto"],
    });
  }
  for (const e of r.endToEnd) {
    for (const q of e.ratios) {
      if (q.baseline !== "sdk-putrecords") continue;
      out.push({
        group: "Records per CPU-second, end to end, vs SDK PutRecords",
        label: `${q.ours}, ${short(e.runtime)}`,
        ratio: q.cpu,
        target: q.ours === "ours-cbor" ? 3.5 : 3,
      });
    }
  }
  return out;
}

/** `deno 2.9.6` → `Deno`, `node v20.20.2` → `Node`. */
function short(runtime: string): string {
  return runtime.startsWith("node") ? "Node" : runtime.startsWith("bun") ? "Bun" : "Deno";
}

const range = (q: { median?: number; cpu?: number; min: number; max: number }) =>
  `**${f(q.median ?? q.cpu!)}×** (${f(q.min)}–${f(q.max)})`;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A horizontal bar chart of ratios (1× line, target ticks), as SVG text. */
export function chartSvg(r: BenchResults): string {
  const data = bars(r);
  const width = 860;
  const left = 250;
  const right = 70;
  const barH = 18;
  const gap = 6;
  const groupGap = 34;
  const top = 64;
  const max = Math.max(6, ...data.map((b) => Math.max(b.ratio, b.target ?? 0))) * 1.05;
  const x = (v: number) => left + (v / max) * (width - left - right);
  const groups = [...new Set(data.map((b) => b.group))];
  let y = top;
  const parts: string[] = [];
  for (const g of groups) {
    y += 8;
    parts.push(`<text x="12" y="${y}" class="group">${esc(g)}</text>`);
    y += 10;
    for (const b of data.filter((d) => d.group === g)) {
      const met = b.target === undefined ? b.ratio >= 1 : b.ratio >= b.target;
      const color = met ? "#2f7d32" : b.ratio >= 1 ? "#c77c02" : "#b3261e";
      const w = Math.max(1, x(b.ratio) - left);
      parts.push(
        `<text x="${left - 8}" y="${y + barH - 5}" class="label" text-anchor="end">${
          esc(b.label)
        }</text>`,
      );
      parts.push(
        `<rect x="${left}" y="${y}" width="${
          w.toFixed(1)
        }" height="${barH}" fill="${color}" rx="2"/>`,
      );
      parts.push(
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + barH - 5}" class="value">${
          f(b.ratio)
        }×</text>`,
      );
      if (b.target !== undefined) {
        const tx = x(b.target).toFixed(1);
        parts.push(
          `<line x1="${tx}" x2="${tx}" y1="${y - 2}" y2="${y + barH + 2}" class="target"/>`,
        );
      }
      y += barH + gap;
    }
    y += groupGap - gap;
  }
  const height = y + 30;
  const ticks: string[] = [];
  for (let v = 0; v <= max; v += 1) {
    const tx = x(v).toFixed(1);
    ticks.push(
      `<line x1="${tx}" x2="${tx}" y1="${top - 6}" y2="${y - groupGap + 10}" class="${
        v === 1 ? "one" : "grid"
      }"/>`,
    );
    ticks.push(`<text x="${tx}" y="${top - 10}" class="tick" text-anchor="middle">${v}×</text>`);
  }
  const m = r.machine;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<style>
.title{font-size:16px;font-weight:600}.sub{font-size:11px;fill:#555}.group{font-size:13px;font-weight:600}
.label{font-size:12px}.value{font-size:12px;font-weight:600}.tick{font-size:11px;fill:#555}
.grid{stroke:#e3e3e3}.one{stroke:#333;stroke-width:1.5}.target{stroke:#000;stroke-width:2;stroke-dasharray:3 2}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" class="title">kinesis-kpl-producer: how many times better than the alternative (higher is better)</text>
<text x="12" y="40" class="sub">${
    esc(
      `${m.cpuModel}, ${m.cores} cores, ${m.runtime}; ${
        m.date.slice(0, 10)
      }. Side-by-side medians. Dashed: target. Green: met (or > 1×); amber: short; red: worse.`,
    )
  }</text>
${ticks.join("\n")}
${parts.join("\n")}
</svg>
`;
}

/** The markdown report. */
export function resultsMarkdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  const p = (s = "") => lines.push(s);
  p(`# Benchmark results${r.smoke ? " (SMOKE RUN: tiny inputs, numbers mean nothing)" : ""}`);
  p();
  p(`Machine: **${m.cpuModel}**, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}. Run ${m.date}, ${
    f(r.durationS / 60, 1)
  } min.`);
  p(`Runtimes: ${Object.entries(r.runtimes).map(([k, v]) => `${k}: ${v}`).join("; ")}.`);
  p();
  p("These machines are noisy, so every comparison is a **ratio measured side by side in the same run** (median of per-round ratios, contender order alternating between rounds). Absolute times are shown for scale only.");
  p();
  p("![ratios](chart.svg)");
  p();
  if (r.failures.length) {
    p("## Failures");
    p();
    for (const x of r.failures) p(`- ${x}`);
    p();
  }
  p("## 1. Aggregation (targets, 200 B: ≤ 1.10× the floor; ≥ 2.0× aws-kinesis-agg in Node, ≥ 1.7× in Deno)");
  p();
  p("Each contender runs alone in its own process, in the runtime named (Node runs an esbuild bundle of the same script), on the same records; the order alternates between rounds. Cost = CPU time (user + system, all threads), steady state: after a verified warm-up and one full pass that does not count, the median of 7 timed full passes (3 left Node's heap unsettled); on this shared machine wall time mostly measures waiting for a core. Ratios are medians of per-round ratios, with their range. `ours-1MiB` and `aws-kinesis-agg` both pack to 1 MiB and emit the same aggregate count and bytes (columns *aggregates*). **Floor** = one copy of every record into aggregate-shaped 1 MiB buffers plus MD5 of each, with the fastest MD5 the runtime has; *× floor* = contender CPU / floor CPU. **Floor-fresh** = the same with a fresh buffer per aggregate, as any aggregator whose aggregates outlive the call must write into (the floor reuses one). `ours-1MiB` (and `ours-default`) call `Aggregator.release` on each aggregate once counted, as the producer does once an aggregate is delivered, so later aggregates reuse its buffer; `ours-1MiB-norelease` does not (a fresh buffer per aggregate) and has its own *× floor* column.");
  p();
  p("| Dataset | Runtime | ours-1MiB rec/CPU-s | aws-kinesis-agg rec/CPU-s | floor rec/CPU-s | ours-1MiB / agg | ours-1MiB × floor | ours-1MiB × floor-fresh | no release × floor | agg × floor | default size / agg | aggregates ours / agg / floor |");
  p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const a of r.aggregation) {
    const c = (n: string) => a.contenders.find((x) => x.name === n)!;
    const q = (o: string, t: string) => a.ratios.find((x) => x.ours === o && x.theirs === t)!;
    const fl = (o: string, floor = "floor") =>
      a.aboveFloor.find((x) => x.ours === o && x.theirs === floor);
    p(`| ${a.dataset} | ${a.runtime} | ${int(c("ours-1MiB").recordsPerCpuSec)} | ${
      int(c("aws-kinesis-agg").recordsPerCpuSec)
    } | ${int(c("floor").recordsPerCpuSec)} | ${range(q("ours-1MiB", "aws-kinesis-agg"))} | ${
      range(fl("ours-1MiB")!)
    } | ${((f) => f ? range(f) : "–")(fl("ours-1MiB", "floor-fresh"))} | ${
      ((f) => f ? range(f) : "–")(fl("ours-1MiB-norelease"))
    } | ${range(fl("aws-kinesis-agg")!)} | ${range(q("ours-default", "aws-kinesis-agg"))} | ${
      c("ours-1MiB").aggregates
    } / ${c("aws-kinesis-agg").aggregates} / ${c("floor").aggregates} |`);
  }
  p();
  p(
    "Datasets: " + [...new Map(r.aggregation.map((a) => [a.dataset, a.description]))]
      .map(([k, v]) => `${k} = ${v}`).join("; ") +
      `. Rounds: ${r.aggregation[0]?.rounds ?? 0}.`,
  );
  p();
  const md5 = r.aggregation.filter((a) => a.dataset === "200B");
  if (md5.length) {
    p("MD5 candidates inside the floor process (200B): wall ms of one floor pass with each MD5, same process, median over rounds; the fastest sets the floor.");
    p();
    p(
      "| Runtime | " + Object.keys(md5[0].contenders.find((x) => x.name === "floor")!.md5 ?? {})
        .join(" | ") +
        " |",
    );
    p(
      "|---|" + Object.keys(md5[0].contenders.find((x) => x.name === "floor")!.md5 ?? {}).map(
        () => "---:",
      ).join("|") + "|",
    );
    for (const a of md5) {
      const m = a.contenders.find((x) => x.name === "floor")!.md5 ?? {};
      p(`| ${a.runtime} | ${Object.values(m).map((v) => f(v, 0)).join(" | ")} |`);
    }
    p();
  }
  const keyed = r.aggregation.filter((a) => a.ratios.some((x) => x.ours === "ours-keyed"));
  if (keyed.length) {
    p("### Keyed mode (target: ≥ 0.8× default mode's records per second)");
    p();
    p("200 B records, keyed mode with a 1,000-shard map (even split) and 100,000 distinct partition keys in round-robin order, against default mode (shared key, default target size), same records, each in its own process.");
    p();
    p("| Runtime | keyed rec/CPU-s | default rec/CPU-s | keyed / default | keyed aggregates | default aggregates |");
    p("|---|---:|---:|---:|---:|---:|");
    for (const a of keyed) {
      const k = a.contenders.find((x) => x.name === "ours-keyed")!;
      const d = a.contenders.find((x) => x.name === "ours-default")!;
      const q = a.ratios.find((x) => x.ours === "ours-keyed")!;
      p(`| ${a.runtime} | ${int(k.recordsPerCpuSec)} | ${int(d.recordsPerCpuSec)} | ${range(q)} | ${
        int(k.aggregates)
      } | ${int(d.aggregates)} |`);
    }
    p();
  }
  if (r.md5.length) {
    p("### MD5 candidates, per runtime (chooses `src/format/md5.ts`)");
    p();
    p(`ns of CPU per hash, each candidate and size in its own process, median of ${
      r.md5[0].rounds
    } alternating rounds; *vs node:crypto* = per-round node:crypto ns / candidate ns (above 1: faster), median and range. 250,000 B is an aggregate body, 24 B a partition key.`);
    p();
    p("| Runtime | Bytes | Candidate | ns per hash | MB/s | vs node:crypto |");
    p("|---|---:|---|---:|---:|---:|");
    for (const m of r.md5) {
      for (const row of m.rows) {
        for (const c of row.candidates) {
          p(`| ${m.runtime} | ${int(row.bytes)} | ${c.name} | ${int(c.medianNs)} | ${
            f(c.mbPerSec, 0)
          } | ${range(c.vsNode)} |`);
        }
      }
    }
    p();
  }
  if (r.signing) {
    const s = r.signing;
    p("## 2. Signing cost per PutRecord");
    p();
    p(`µs per SigV4 signature of a PutRecord (JSON body), median of ${s.rounds} rounds. The SDK column is the \`httpSigningMiddleware\` step of \`@aws-sdk/client-kinesis\` for the same call (its hasher here: \`${s.sdkHasher}\`). Ratio = SDK µs / ours µs (above 1: ours is cheaper). Runtime: ${s.runtime}.`);
    p();
    p("| Data | Body | sha256-js | WebCrypto | auto (node:crypto here) | SDK | SDK/js | SDK/WebCrypto | SDK/auto |");
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const row of s.rows) {
      const u = row.usPerSign;
      const q = row.ratioVsSdk;
      p(`| ${kib(row.dataBytes)} | ${int(row.bodyBytes)} B | ${int(u["ours-js"])} | ${
        int(u["ours-webcrypto"])
      } | ${int(u["ours-auto"])} | ${int(u["aws-sdk"])} | ${f(q["ours-js"])}× | ${
        f(q["ours-webcrypto"])
      }× | **${f(q["ours-auto"])}×** |`);
    }
    p();
  }
  if (r.endToEnd.length) {
    const e0 = r.endToEnd[0];
    p("## 3. End to end (targets: ≥ 3× the SDK's PutRecords in records per CPU-second with JSON, ≥ 3.5× with CBOR)");
    p();
    p(`${
      int(e0.records)
    } records of ${e0.recordBytes} bytes; each contender in its own child process, in the runtime named, against a loopback sink in another process (${e0.sinkRuntime}) that validates each request, counts user records and answers at once. CPU = \`process.cpuUsage()\` (user + system, all threads) of the client process from the first record to the last answer. ${e0.rounds} rounds, contender order alternating; ratios are medians of per-round ratios, with their range. **Floor** = for each default-size aggregate, one copy of its records, MD5 (fastest here) and SHA-256 of a body of that size (SigV4's payload hash): no encoding, no HTTP.`);
    p();
    for (const e of r.endToEnd) {
      p(`**${e.runtime}**`);
      p();
      p("| Contender | records/s (wall) | CPU-s per million | records per CPU-s | × floor (CPU) | calls | wire bytes per user byte | peak RSS MiB |");
      p("|---|---:|---:|---:|---:|---:|---:|---:|");
      for (const c of e.contenders) {
        const fl = e.aboveFloor.find((x) => x.ours === c.contender);
        p(`| ${c.contender} | ${int(c.recordsPerSec)} | ${f(c.cpuSecondsPerMillion)} | ${
          int(c.recordsPerCpuSecond)
        } | ${fl ? range(fl) : "1"} | ${int(c.calls)} | ${
          c.contender === "floor" ? "–" : f(c.wireBytesPerUserByte, 3)
        } | ${f(c.peakRssMiB, 0)} |`);
      }
      p();
      p("| Ours | Baseline | Ratio, records per CPU-s (range) | Ratio, records/s | per round (CPU) |");
      p("|---|---|---:|---:|---|");
      for (const q of e.ratios) {
        p(`| ${q.ours} | ${q.baseline} | ${range(q)} | ${f(q.wall)}× | ${
          q.cpuPerRound.map((x) => f(x)).join(", ")
        } |`);
      }
      p();
    }
  }
  if (r.wireBytes) {
    p("## 4. Bytes on the wire per user byte, JSON against CBOR");
    p();
    p("Request body bytes per user data byte, computed exactly from the bodies the client sends (default 250,000-byte aggregates). Headers add about 600 bytes per call; the end-to-end table above includes them as measured by the sink.");
    p();
    p("| Record size | JSON (aggregated) | CBOR (aggregated) | JSON / CBOR | SDK-style PutRecords JSON (unaggregated) |");
    p("|---:|---:|---:|---:|---:|");
    for (const w of r.wireBytes.rows) {
      p(`| ${int(w.recordBytes)} B | ${f(w.json, 3)} | ${f(w.cbor, 3)} | ${
        f(w.jsonOverCbor, 3)
      }× | ${f(w.putRecordsJson, 3)} |`);
    }
    p();
  }
  if (r.payloadUnits) {
    const u0 = r.payloadUnits;
    p("## 5. PUT payload units per million records, the bill (target: within 2% of the floor at the default)");
    p();
    p(`Provisioned mode bills each Kinesis record in ${
      int(u0.unitBytes)
    }-byte units, rounded up; on-demand rounds each record up to 1 KiB. *Default* = the producer's default aggregates (${
      int(u0.targetBytes)
    } bytes, partition key included); *bytes floor* = the units those aggregates' bytes need without per-record rounding; *data floor* = user data bytes alone (no framing: KPL's protobuf framing costs 3–8 bytes per record, 4% at 200 B). *256 KiB* = the previous default. Unaggregated = one record per user record, each with a 36-character partition key.`);
    p();
    p("| Record size | Units, default | Bytes floor | Default / floor | Data floor | Units, 256 KiB | Units, unaggregated | Saving | On-demand KiB, default | On-demand KiB, unaggregated |");
    p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const u of u0.rows) {
      p(`| ${int(u.recordBytes)} B | ${int(u.aggregatedUnits)} | ${int(u.bytesFloorUnits)} | **${
        f(u.overFloor, 3)
      }×** | ${int(u.dataFloorUnits)} | ${int(u.units256KiB)} | ${int(u.unaggregatedUnits)} | ${
        f(u.saving, 1)
      }× | ${int(u.onDemandAggregatedKB)} | ${int(u.onDemandUnaggregatedKB)} |`);
    }
    p();
  }
  p("## 6. Peak resident memory of `deno task ship` on 1 GB");
  p();
  if (r.shipMemory) {
    p("| Field | Value |");
    p("|---|---|");
    for (const [k, v] of Object.entries(r.shipMemory)) p(`| ${k} | ${String(v)} |`);
  } else {
    p("Not measured in this run (see gaps).");
  }
  p();
  p("## 7. PutRecords collection: keyed, 64 shards, 10,000 keys (scripts/bench/collection.ts)");
  p();
  if (r.collection) {
    p("| Contender | Calls | Records per CPU-s | Calls per CPU-s | CPU-s per million |");
    p("|---|--:|--:|--:|--:|");
    for (const row of r.collection.rows) {
      p(`| ${row.contender} | ${int(row.calls)} | ${int(row.recordsPerCpuSecond)} | ${
        f(row.callsPerCpuSecond, 1)
      } | ${f(row.cpuSecondsPerMillion)} |`);
    }
  } else {
    p("Not measured in this run.");
  }
  p();
  p("## 8. Throughput against a load-dependent throttling fake (scripts/bench/throttling.ts)");
  p();
  if (r.throttling) {
    p("| Scenario | Shard map | MiB/s per shard | Total MiB/s | Throttled entries | Calls |");
    p("|---|---|---|--:|--:|--:|");
    for (const run of r.throttling.runs) {
      p(`| ${run.scenario} | ${run.shardMap ? "yes" : "no"} | ${run.mibPerSecond.join(", ")} | ${
        f(run.totalMiBPerSecond)
      } | ${int(run.throttled.reduce((a, b) => a + b, 0))} | ${int(run.calls)} |`);
    }
  } else {
    p("Not measured in this run.");
  }
  p();
  if (r.gaps.length) {
    p("## Gaps");
    p();
    for (const g of r.gaps) p(`- ${g}`);
    p();
  }
  return lines.join("\n");
}
