/**
 * Benchmark 5: the bill. PUT payload units (provisioned mode: 25,000-byte
 * units per record, rounded up) per million user records, for several record
 * sizes: the producer's default aggregates (random 36-character outer key,
 * default `targetBytes`), the old 256 KiB default, and one PutRecord per record
 * (same 36-character key each). Also on-demand mode, which rounds each record
 * up to 1 KiB. Exact arithmetic over real aggregates, no network.
 *
 * Floors: *bytes floor* = the units the aggregates' bytes would cost without
 * per-record rounding (their total Kinesis-counted bytes / 25,000); *data floor*
 * = user data bytes / 25,000 (what no framing at all would cost).
 * @module
 */
import process from "node:process";
import { aggregate } from "../../src/format/aggregator.ts";
import { DEFAULT_TARGET_BYTES } from "../../src/format/limits.ts";
import { PUT_PAYLOAD_UNIT_BYTES, putPayloadUnits } from "../../src/producer/stats.ts";
import { emitResult, makePayloads, parseArgs } from "./common.ts";

const KEY_BYTES = 36;

/** One record size's bill per million records. */
export interface UnitsRow {
  recordBytes: number;
  /** Records actually aggregated; counts are scaled to one million. */
  sampled: number;
  /** Units at the default target size. */
  aggregatedUnits: number;
  /** Units the same aggregates' bytes need without per-record rounding. */
  bytesFloorUnits: number;
  /** aggregatedUnits / bytesFloorUnits. */
  overFloor: number;
  /** User data bytes / 25,000. */
  dataFloorUnits: number;
  /** Units with the previous default, 256 KiB aggregates. */
  units256KiB: number;
  unaggregatedUnits: number;
  /** unaggregated / aggregated: how many times cheaper aggregation is. */
  saving: number;
  /** On-demand billed KiB per million records (each record rounded up to 1 KiB). */
  onDemandAggregatedKB: number;
  onDemandUnaggregatedKB: number;
  kinesisRecordsAggregated: number;
}

function bill(payloads: readonly Uint8Array[], targetBytes: number) {
  let units = 0;
  let bytes = 0;
  let kib = 0;
  let count = 0;
  for (const a of aggregate(payloads.map((data) => ({ data })), { targetBytes })) {
    units += putPayloadUnits(a.size);
    bytes += a.size;
    kib += Math.ceil(a.size / 1024);
    count++;
  }
  return { units, bytes, kib, count };
}

/** Computes the payload-units table. */
export function benchPayloadUnits(
  options: { smoke?: boolean } = {},
): { targetBytes: number; unitBytes: number; rows: UnitsRow[] } {
  const rows: UnitsRow[] = [];
  for (const size of [20, 100, 200, 500, 1024, 5120, 25600, 102400]) {
    const n = options.smoke ? 2000 : Math.min(1_000_000, Math.max(20_000, Math.ceil(2e8 / size)));
    const payloads = makePayloads(n, () => size);
    const now = bill(payloads, DEFAULT_TARGET_BYTES);
    const old = bill(payloads, 256 * 1024);
    const scale = 1_000_000 / n;
    const unaggregated = putPayloadUnits(size + KEY_BYTES) * 1_000_000;
    const floor = Math.ceil(now.bytes * scale / PUT_PAYLOAD_UNIT_BYTES);
    rows.push({
      recordBytes: size,
      sampled: n,
      aggregatedUnits: Math.round(now.units * scale),
      bytesFloorUnits: floor,
      overFloor: now.units * scale / floor,
      dataFloorUnits: Math.ceil(size * 1_000_000 / PUT_PAYLOAD_UNIT_BYTES),
      units256KiB: Math.round(old.units * scale),
      unaggregatedUnits: unaggregated,
      saving: unaggregated / (now.units * scale),
      onDemandAggregatedKB: Math.round(now.kib * scale),
      onDemandUnaggregatedKB: Math.ceil((size + KEY_BYTES) / 1024) * 1_000_000,
      kinesisRecordsAggregated: Math.round(now.count * scale),
    });
  }
  return { targetBytes: DEFAULT_TARGET_BYTES, unitBytes: PUT_PAYLOAD_UNIT_BYTES, rows };
}

if (import.meta.main) {
  emitResult(benchPayloadUnits({ smoke: !!parseArgs(process.argv.slice(2)).smoke }));
}
