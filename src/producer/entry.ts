/**
 * One Kinesis record on its way out: a KPL aggregate, or (unaggregated) one
 * user record. It is the unit of sending, retrying and reporting: an entry is
 * atomic, so a partial PutRecords failure never splits or duplicates one.
 * @module
 */
import type { UserRecord } from "../format/record.ts";

/** An entry and its delivery state. */
export interface Entry {
  /** The Kinesis record's data. */
  readonly data: Uint8Array;
  /** The Kinesis record's partition key. */
  readonly partitionKey: string;
  /** The Kinesis record's explicit hash key. */
  readonly explicitHashKey: string | undefined;
  /** The user records inside, in order (one when unaggregated). */
  readonly records: UserRecord[];
  /** Data + UTF-8 partition key: what Kinesis counts against record and request limits. */
  readonly bytes: number;
  /** Buffered bytes it holds until it settles (the memory bound). */
  readonly cost: number;
  /** When it was cut (clock ms): the start of its deadline. */
  readonly cutAt: number;
  /** When its first user record went in (clock ms), for latency; `cutAt` when unknown. */
  readonly openedAt?: number;
  /** The shard it is predicted to land on, when a shard map is known. */
  readonly shard: string | undefined;
  /** Attempts made so far. */
  attempts: number;
  /** When its backoff ends (clock ms); 0 before any failure. */
  readyAt: number;
  /** Ms of backoff it has waited out (the SDK's `$metadata.totalRetryDelay`). */
  retryDelayMs: number;
  /** Whether it is delivered or reported. */
  done: boolean;
  /** Wakes {@link whenSettled} callers; made only when someone waits (flush). */
  wake: (() => void) | undefined;
}

/** Whether `entry` is a KPL aggregate (an unaggregated entry's data is its record's own). */
export function isAggregate(entry: Entry): boolean {
  return entry.records.length > 1 || entry.data !== entry.records[0]?.data;
}

/** Fields of a new entry; the delivery state starts empty. */
export type EntryInit = Omit<Entry, "attempts" | "readyAt" | "retryDelayMs" | "done" | "wake">;

/** Creates an entry with no attempts made. */
export function createEntry(init: EntryInit): Entry {
  // A literal, not a spread: unaggregated mode makes one per user record.
  return {
    data: init.data,
    partitionKey: init.partitionKey,
    explicitHashKey: init.explicitHashKey,
    records: init.records,
    bytes: init.bytes,
    cost: init.cost,
    cutAt: init.cutAt,
    openedAt: init.openedAt,
    shard: init.shard,
    attempts: 0,
    readyAt: 0,
    retryDelayMs: 0,
    done: false,
    wake: undefined,
  };
}

/** Marks `entry` delivered or reported and wakes whoever waits for it. */
export function markSettled(entry: Entry): void {
  entry.done = true;
  const wake = entry.wake;
  entry.wake = undefined;
  wake?.();
}

const SETTLED: Promise<void> = Promise.resolve();

/** Resolves once `entry` is delivered or reported. */
export function whenSettled(entry: Entry): Promise<void> {
  if (entry.done) return SETTLED;
  return new Promise((resolve) => {
    const previous = entry.wake;
    entry.wake = previous
      ? () => {
        previous();
        resolve();
      }
      : resolve;
  });
}
