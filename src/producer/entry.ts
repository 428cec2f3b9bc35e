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
  /** Resolves once it is delivered or reported. */
  readonly settled: Promise<void>;
  /** Resolves {@link settled}. */
  settle(): void;
}

/** Fields of a new entry; the delivery state starts empty. */
export type EntryInit = Omit<Entry, "attempts" | "readyAt" | "retryDelayMs" | "settled" | "settle">;

/** Creates an entry with no attempts made. */
export function createEntry(init: EntryInit): Entry {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { ...init, attempts: 0, readyAt: 0, retryDelayMs: 0, settled, settle };
}
