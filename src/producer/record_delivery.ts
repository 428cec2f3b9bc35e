/**
 * Per-record delivery results for {@link KinesisProducer.deliver}: a map from
 * the records `deliver` made to their promises. Records from `put` are never
 * in it, so when nobody calls `deliver` the producer only checks its size.
 * @module
 */
import type { UserRecord } from "../format/record.ts";

/** Where one record ended up: what {@link KinesisProducer.deliver} resolves to. */
export interface RecordDelivery {
  /** The shard that stored the record's aggregate. */
  shardId: string;
  /** The aggregate's sequence number, shared by every record inside it. */
  sequenceNumber: string;
  /** The record's position inside the aggregate (KCL's sub-sequence number). */
  subSequenceNumber: number;
  /** PutRecord attempts the aggregate took. */
  attempts: number;
}

interface Settle {
  resolve(delivery: RecordDelivery): void;
  reject(error: Error): void;
}

/** The records awaiting a delivery result. */
export class RecordDeliveries {
  readonly #waiting = new Map<UserRecord, Settle>();

  /** Records awaiting a result. */
  get size(): number {
    return this.#waiting.size;
  }

  /** A promise for `record`'s result; the record must be accepted afterwards or {@link forget}-ten. */
  track(record: UserRecord): Promise<RecordDelivery> {
    return new Promise((resolve, reject) => this.#waiting.set(record, { resolve, reject }));
  }

  /** Drops a record that was refused (its `put` rejected instead). */
  forget(record: UserRecord): void {
    this.#waiting.delete(record);
  }

  /** Resolves the tracked records among `records`, in aggregate order. */
  delivered(
    records: readonly UserRecord[],
    shardId: string,
    sequenceNumber: string,
    attempts: number,
  ): void {
    for (let i = 0; i < records.length; i++) {
      const settle = this.#waiting.get(records[i]);
      if (settle === undefined) continue;
      this.#waiting.delete(records[i]);
      settle.resolve({ shardId, sequenceNumber, subSequenceNumber: i, attempts });
    }
  }

  /** Rejects the tracked records among `records` with the error `onFailure` gets. */
  failed(records: readonly UserRecord[], error: Error): void {
    for (const record of records) {
      const settle = this.#waiting.get(record);
      if (settle === undefined) continue;
      this.#waiting.delete(record);
      settle.reject(error);
    }
  }
}
