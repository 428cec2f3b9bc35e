/**
 * Delivery reporting: what happens once an entry's fate is known. Counts it
 * in stats, settles the `deliver()` promises of its records, and calls the
 * user's `onDelivered` / `onFailure`, whose exceptions never stall delivery.
 * Releasing the entry's buffer room is the producer's part.
 * @module
 */
import { KinesisError } from "../aws/errors.ts";
import type { UserRecord } from "../format/record.ts";
import type { Entry } from "./entry.ts";
import { observeSpread } from "./histogram.ts";
import type { KinesisProducerOptions, ResolvedOptions } from "./options.ts";
import type { RecordDeliveries } from "./record_delivery.ts";
import type { GiveUpReason } from "./retry.ts";
import { onDemandBilledBytes, type ProducerStats, putPayloadUnits } from "./stats.ts";

/** The options reporting reads: the clock and the user's callbacks. */
export type ReportOptions = Pick<
  ResolvedOptions,
  "clock" | "onDelivered" | "onFailure" | "onCallbackError"
>;

/** Reports each entry's outcome to stats, `deliver()` callers and callbacks. */
export class DeliveryReport {
  readonly #o: ReportOptions;
  readonly #stats: ProducerStats;
  readonly #deliveries: RecordDeliveries;

  /** `stats` is updated in place. */
  constructor(o: ReportOptions, stats: ProducerStats, deliveries: RecordDeliveries) {
    this.#o = o;
    this.#stats = stats;
    this.#deliveries = deliveries;
  }

  /** `entry` is stored in `shardId` at `sequenceNumber`. */
  delivered(entry: Entry, shardId: string, sequenceNumber: string): void {
    const stats = this.#stats;
    stats.chunks++;
    stats.recordsDelivered += entry.records.length;
    stats.bytes += entry.bytes;
    stats.putUnits += putPayloadUnits(entry.bytes);
    stats.onDemandBilledBytes += onDemandBilledBytes(entry.bytes);
    // Records went in between the aggregate's opening and its cut: spread over
    // that span rather than reading the clock in every put().
    const now = this.#o.clock.now();
    observeSpread(
      stats.recordLatencyMs,
      now - entry.cutAt,
      now - Math.min(entry.openedAt ?? entry.cutAt, entry.cutAt),
      entry.records.length,
    );
    if (this.#deliveries.size > 0) {
      this.#deliveries.delivered(entry.records, shardId, sequenceNumber, entry.attempts);
    }
    this.#callback("onDelivered", 0, {
      records: entry.records.length,
      shardId,
      sequenceNumber,
      attempts: entry.attempts,
      userRecords: entry.records,
    });
  }

  /** `entry` gave up with `error`; returns the error as reported. */
  failed(entry: Entry, error: unknown, reason: GiveUpReason): Error {
    this.#stats.chunksFailed++;
    this.#stats.recordsFailed += entry.records.length;
    const failure = error instanceof Error ? error : new Error(String(error));
    if (failure instanceof KinesisError) {
      // The SDK's $metadata counts the entry's attempts and backoff.
      failure.$metadata.attempts = entry.attempts;
      failure.$metadata.totalRetryDelay = entry.retryDelayMs;
    }
    if (this.#deliveries.size > 0) this.#deliveries.failed(entry.records, failure);
    this.#callback("onFailure", entry.records.length, {
      records: entry.records,
      error: failure,
      attempts: entry.attempts,
      reason,
      partitionKey: entry.partitionKey,
    });
    return failure;
  }

  /** `record`, taken from `from` to be admitted again, was refused with `error`. */
  refused(record: UserRecord, error: unknown, from: Entry): void {
    this.#stats.records++;
    this.#stats.recordsFailed++;
    this.#callback("onFailure", 1, {
      records: [record],
      error: error instanceof Error ? error : new Error(String(error)),
      attempts: from.attempts,
      reason: "not-retryable",
      partitionKey: from.partitionKey,
    });
  }

  /**
   * Runs a user callback; its exceptions must not stall delivery of other
   * chunks. When `onFailure` throws, its `records` count as lost: nothing says
   * the caller kept them.
   */
  #callback<K extends "onFailure" | "onDelivered">(
    name: K,
    records: number,
    value: Parameters<NonNullable<KinesisProducerOptions[K]>>[0],
  ): void {
    const fn = this.#o[name] as ((v: typeof value) => void) | undefined;
    if (!fn) return;
    try {
      fn(value);
    } catch (error) {
      this.#stats.callbackErrors++;
      this.#stats.recordsLost += records;
      try {
        this.#o.onCallbackError(error, name, records);
      } catch {
        // The error callback itself failed: the counts above still say it.
      }
    }
  }
}
