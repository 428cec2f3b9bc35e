/**
 * Sends one batch of entries in one call: `PutRecord` for a single entry (and
 * always in strict-ordering mode, for `SequenceNumberForOrdering`),
 * `PutRecords` for several. Returns one outcome per entry; a failure of the
 * whole call (throttle, 5xx, network, unreadable answer) is thrown, and the
 * caller applies it to every entry in the batch.
 * @module
 */
import { KinesisError } from "../aws/errors.ts";
import type { StreamTarget } from "../aws/kinesis_types.ts";
import type { Entry } from "./entry.ts";
import type { PutRecordClient } from "./options.ts";

/** What happened to one entry of a call. */
export type EntryOutcome =
  | { ok: true; shardId: string; sequenceNumber: string }
  | { ok: false; error: KinesisError };

/** The kind of call a batch went out as. */
export type CallKind = "PutRecord" | "PutRecords";

/** Per-call settings. */
export interface SendOptions {
  /** Aborts the call (close deadline). */
  signal: AbortSignal;
  /** The batch's highest retry number, for debug events. */
  retry: number;
  /** Strict order: the previous sequence number from this producer. */
  sequenceNumberForOrdering?: string;
}

/** Whether `batch` goes as PutRecords with `client`. */
export function callKind(client: PutRecordClient, batch: readonly Entry[]): CallKind {
  return batch.length > 1 && client.putRecords ? "PutRecords" : "PutRecord";
}

/**
 * The error for an entry Kinesis refused inside a PutRecords answer, classified
 * by its code: `ProvisionedThroughputExceededException` throttling,
 * `InternalFailure` transient, a code this library does not know fatal.
 */
export function entryError(code: string, message: string): KinesisError {
  return new KinesisError({ code, message: message || code, action: "PutRecords" });
}

/** Sends `batch` (1–500 entries) to `target`; see the module doc for what throws. */
export async function sendBatch(
  client: PutRecordClient,
  target: StreamTarget,
  batch: readonly Entry[],
  options: SendOptions,
): Promise<EntryOutcome[]> {
  const request = { signal: options.signal, retry: options.retry };
  if (callKind(client, batch) === "PutRecord") {
    if (batch.length !== 1) throw new TypeError("Cannot send several entries without putRecords");
    const e = batch[0];
    const out = await client.putRecord({
      ...target,
      data: e.data,
      partitionKey: e.partitionKey,
      explicitHashKey: e.explicitHashKey,
      sequenceNumberForOrdering: options.sequenceNumberForOrdering,
    }, request);
    return [{ ok: true, shardId: out.shardId, sequenceNumber: out.sequenceNumber }];
  }
  const out = await client.putRecords!({
    ...target,
    records: batch.map((e) => ({
      data: e.data,
      partitionKey: e.partitionKey,
      explicitHashKey: e.explicitHashKey,
    })),
  }, request);
  // A client that breaks the one-result-per-entry promise fails the whole call.
  if (!out || !Array.isArray(out.records) || out.records.length !== batch.length) {
    throw new KinesisError({
      code: "InvalidResponse",
      message: `PutRecords answered ${out?.records?.length} results for ${batch.length} entries`,
      action: "PutRecords",
      kind: "transient",
    });
  }
  return out.records.map((r): EntryOutcome =>
    r.errorCode !== undefined
      ? { ok: false, error: entryError(r.errorCode, r.errorMessage) }
      : typeof r.shardId === "string" && typeof r.sequenceNumber === "string"
      ? { ok: true, shardId: r.shardId, sequenceNumber: r.sequenceNumber }
      : {
        ok: false,
        error: new KinesisError({
          code: "InvalidResponse",
          message: "entry without ShardId or ErrorCode",
          action: "PutRecords",
          kind: "transient",
        }),
      }
  );
}
