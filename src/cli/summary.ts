/**
 * The end-of-run summary: as an object (`--json` prints it on stdout) and as
 * a short human-readable block for stderr.
 * @module
 */
import type { ProducerStats } from "../producer/stats.ts";
import type { FailureReason } from "./failure_reasons.ts";

/** What one run did. Field names are stable: scripts read them from `--json`. */
export interface Summary {
  /** Lines (or replayed / posted records) read. */
  recordsRead: number;
  /** Records accepted by the producer. */
  records: number;
  /** Records delivered to Kinesis. */
  recordsDelivered: number;
  /** Records written to the dead-letter file (failed, too large, invalid), kept-back fragments aside. */
  recordsFailed: number;
  /**
   * Records neither delivered nor in the dead-letter file: their line could
   * not be written (disk full, I/O error) or a failure callback threw. Exit code 5.
   */
  recordsLost: number;
  /** Empty lines skipped. */
  emptySkipped: number;
  /** Replayed lines kept back because they are fragments cut by a signal (see `--replay-fragments`). */
  fragmentsSkipped?: number;
  /** With `--partition-key-field`/`--explicit-hash-key-field`: lines not JSON or without the field, sent with a random key. */
  keyFieldMissing?: number;
  /** Aggregates delivered (one PutRecord each). */
  chunks: number;
  /** Aggregates that finally failed. */
  chunksFailed: number;
  /** Bytes delivered: aggregate data plus partition keys, as Kinesis counts them. */
  bytes: number;
  /** Input bytes read. */
  bytesRead: number;
  /** Calls (PutRecord and PutRecords), retries included. */
  putRecordCalls: number;
  /** Calls by kind: `PutRecord`, `PutRecords`. */
  callsByKind: Record<string, number>;
  /** Retries. */
  retries: number;
  /** Throttled attempts. */
  throttles: number;
  /** Seconds from start to end. */
  elapsedSeconds: number;
  /** PUT payload units used. */
  putUnits: number;
  /** PUT payload units the same records would cost as one PutRecord each. */
  putUnitsUnaggregated: number;
  /** Where dead letters went, when there were any. */
  deadLetterFile?: string;
  /** Set when a signal stopped the run. */
  interrupted?: "SIGINT" | "SIGTERM";
  /** Why records failed, the most common first (at most 3). */
  failureReasons?: FailureReason[];
  /** Set when the run stopped early because every first PutRecord failed the same way. */
  stoppedEarly?: {
    /** What failed. */
    reason: string;
    /** The next step. */
    hint: string;
    /** Failed attempts seen before stopping. */
    attempts: number;
  };
  /** `--local` read-back result. */
  verify?: {
    /** True when count and digest match what was delivered. */
    ok: boolean;
    /** User records read back. */
    recordsReadBack: number;
    /** Kinesis records (aggregates) read back. */
    kinesisRecords: number;
    /** Digest of what was delivered. */
    expectedDigest: string;
    /** Digest of what was read back. */
    actualDigest: string;
  };
  /** Process exit code. */
  exitCode: number;
}

/** Extra counts the CLI keeps beside the producer's. */
export interface RunCounts {
  recordsRead: number;
  emptySkipped: number;
  bytesRead: number;
  deadLetters: number;
  /** Records whose dead-letter line could not be written. */
  lost: number;
  /** Replayed fragments kept in the dead-letter file instead of shipped. */
  fragmentsSkipped: number;
  /** Lines that were not JSON or lacked a key field: shipped with a random key. */
  keyFieldMissing?: number;
}

/** Builds the summary from the producer's stats and the CLI's counts. */
export function buildSummary(
  stats: ProducerStats,
  counts: RunCounts,
  elapsedMs: number,
  extra: Pick<
    Summary,
    "deadLetterFile" | "interrupted" | "verify" | "exitCode" | "failureReasons" | "stoppedEarly"
  >,
): Summary {
  const summary: Summary = {
    recordsRead: counts.recordsRead,
    records: stats.records,
    recordsDelivered: stats.recordsDelivered,
    // Kept-back fragments are in the dead-letter file but did not fail: counted apart.
    recordsFailed: counts.deadLetters - counts.fragmentsSkipped,
    recordsLost: counts.lost + stats.recordsLost,
    emptySkipped: counts.emptySkipped,
    chunks: stats.chunks,
    chunksFailed: stats.chunksFailed,
    bytes: stats.bytes,
    bytesRead: counts.bytesRead,
    putRecordCalls: stats.calls,
    callsByKind: stats.callsByKind,
    retries: stats.retries,
    throttles: stats.throttles,
    elapsedSeconds: Math.round(elapsedMs) / 1000,
    putUnits: stats.putUnits,
    putUnitsUnaggregated: stats.putUnitsUnaggregated,
    exitCode: extra.exitCode,
  };
  if (counts.fragmentsSkipped > 0) summary.fragmentsSkipped = counts.fragmentsSkipped;
  if (counts.keyFieldMissing) summary.keyFieldMissing = counts.keyFieldMissing;
  if (extra.deadLetterFile !== undefined) summary.deadLetterFile = extra.deadLetterFile;
  if (extra.interrupted !== undefined) summary.interrupted = extra.interrupted;
  if (extra.verify !== undefined) summary.verify = extra.verify;
  if (extra.failureReasons && extra.failureReasons.length > 0) {
    summary.failureReasons = extra.failureReasons;
  }
  if (extra.stoppedEarly !== undefined) summary.stoppedEarly = extra.stoppedEarly;
  return summary;
}

const n = (value: number): string => value.toLocaleString("en-US");

/** Formats bytes as B, KiB, MiB or GiB with one decimal. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The summary as a few lines for a person. */
export function formatSummary(s: Summary): string {
  const secs = s.elapsedSeconds;
  const rate = secs > 0 ? ` (${n(Math.round(s.recordsDelivered / secs))} records/s)` : "";
  const saved = s.putUnits > 0 && s.putUnitsUnaggregated > 0
    ? `, ${(100 - (100 * s.putUnits) / s.putUnitsUnaggregated).toFixed(1)}% saved`
    : "";
  const lines = [
    `${s.interrupted ? `stopped by ${s.interrupted}: ` : ""}delivered ${n(s.recordsDelivered)} of ${
      n(s.recordsRead)
    } records in ${secs.toFixed(1)} s${rate}`,
    `  chunks ${n(s.chunks)} (${formatBytes(s.bytes)}), calls ${n(s.putRecordCalls)}` +
    (s.callsByKind
      ? ` (${
        Object.entries(s.callsByKind).map(([kind, count]) => `${kind} ${n(count)}`).join(", ")
      })`
      : "") +
    `, ` +
    `retries ${n(s.retries)}, throttles ${n(s.throttles)}`,
    `  failures ${n(s.recordsFailed)} records` +
    (s.chunksFailed > 0 ? ` (${n(s.chunksFailed)} chunk${s.chunksFailed === 1 ? "" : "s"})` : "") +
    (s.emptySkipped > 0 ? `, empty lines skipped ${n(s.emptySkipped)}` : "") +
    (s.keyFieldMissing ? `, key field missing (random key) ${n(s.keyFieldMissing)}` : ""),
    ...(s.failureReasons ?? []).map((r) =>
      `    ${n(r.records)} record${r.records === 1 ? "" : "s"} failed: ${r.reason}` +
      (r.attempts > 0 ? ` (after ${n(r.attempts)} attempt${r.attempts === 1 ? "" : "s"})` : "")
    ),
    ...(s.recordsLost > 0
      ? [`  LOST ${n(s.recordsLost)} records: neither delivered nor dead-lettered`]
      : []),
    ...(s.fragmentsSkipped
      ? [
        `  fragments skipped ${
          n(s.fragmentsSkipped)
        } (kept in the dead-letter file; --replay-fragments sends them)`,
      ]
      : []),
    `  PUT payload units ${n(s.putUnits)} vs ${n(s.putUnitsUnaggregated)} unaggregated${saved}`,
  ];
  if (s.deadLetterFile) {
    lines.push(`  dead letters: ${s.deadLetterFile} (replay with --replay ${s.deadLetterFile})`);
  }
  if (s.verify) {
    lines.push(
      s.verify.ok
        ? `  verified: read back ${n(s.verify.recordsReadBack)} records from ${
          n(s.verify.kinesisRecords)
        } Kinesis records; count and digest match`
        : `  VERIFY FAILED: read back ${n(s.verify.recordsReadBack)} records, expected ${
          n(s.recordsDelivered)
        }; digest ${s.verify.actualDigest} vs ${s.verify.expectedDigest}`,
    );
  }
  return lines.join("\n") + "\n";
}
