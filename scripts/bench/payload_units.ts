/**
 * Benchmark 5: the bill. PUT payload units (provisioned mode: 25 KB units per
 * record, rounded up) per million user records, aggregated (the producer's
 * default 256 KiB aggregates, random 36-character outer key) against one
 * PutRecord per record (same 36-character key each), for several record sizes.
 * Also on-demand mode, which rounds each record up to 1 KB.
 * Exact arithmetic over real aggregates, no network.
 * @module
 */
import process from "node:process";
import { aggregate } from "../../src/format/aggregator.ts";
import { putPayloadUnits } from "../../src/producer/stats.ts";
import { emitResult, makePayloads, parseArgs } from "./common.ts";

const KEY_BYTES = 36;

/** One record size's bill per million records. */
export interface UnitsRow {
  recordBytes: number;
  /** Records actually aggregated; counts are scaled to one million. */
  sampled: number;
  aggregatedUnits: number;
  unaggregatedUnits: number;
  /** unaggregated / aggregated: how many times cheaper aggregation is. */
  saving: number;
  /** On-demand billed KB per million records (each record rounded up to 1 KB). */
  onDemandAggregatedKB: number;
  onDemandUnaggregatedKB: number;
  kinesisRecordsAggregated: number;
}

/** Computes the payload-units table. */
export function benchPayloadUnits(options: { smoke?: boolean } = {}): { rows: UnitsRow[] } {
  const rows: UnitsRow[] = [];
  for (const size of [20, 100, 200, 500, 1024, 5120, 25600, 102400]) {
    const n = options.smoke ? 2000 : Math.min(1_000_000, Math.max(20_000, Math.ceil(2e8 / size)));
    const payloads = makePayloads(n, () => size);
    let units = 0;
    let kb = 0;
    let count = 0;
    for (const a of aggregate(payloads.map((data) => ({ data })))) {
      units += putPayloadUnits(a.size);
      kb += Math.ceil(a.size / 1024);
      count++;
    }
    const scale = 1_000_000 / n;
    const unaggregated = putPayloadUnits(size + KEY_BYTES) * 1_000_000;
    rows.push({
      recordBytes: size,
      sampled: n,
      aggregatedUnits: Math.round(units * scale),
      unaggregatedUnits: unaggregated,
      saving: unaggregated / (units * scale),
      onDemandAggregatedKB: Math.round(kb * scale),
      onDemandUnaggregatedKB: Math.ceil((size + KEY_BYTES) / 1024) * 1_000_000,
      kinesisRecordsAggregated: Math.round(count * scale),
    });
  }
  return { rows };
}

if (import.meta.main) {
  emitResult(benchPayloadUnits({ smoke: !!parseArgs(process.argv.slice(2)).smoke }));
}
