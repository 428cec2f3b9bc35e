/**
 * The part of a run that turns records into puts: feeds the producer, sends
 * refused and failed records to the dead-letter file, keeps the counts and
 * (for `--local`) the digest of what was shipped. File input, replay and the
 * HTTP intake all go through here.
 * @module
 */
import { RecordError } from "../format/errors.ts";
import { ProducerClosedError } from "../producer/errors.ts";
import type { Delivery, DeliveryFailure } from "../producer/options.ts";
import type { KinesisProducer } from "../producer/producer.ts";
import { type DeadLetter, type DeadLetterFile, parseDeadLetter } from "./dead_letter.ts";
import type { LineEvent } from "./lines.ts";
import type { Settle } from "./settlement.ts";
import type { RunCounts } from "./summary.ts";
import { lineKeys } from "./key_fields.ts";
import type { RecordDigest } from "./verify.ts";
import { FailureReasons } from "./failure_reasons.ts";
import { ReadChunks } from "./read_chunks.ts";

const decoder = new TextDecoder();

/** Where a failure report lands: one callback per failed record. */
export type FailureListener = (data: Uint8Array) => void;

/** Feeds one producer; see the module doc. */
export class Shipper {
  /** Counts for the summary. */
  readonly counts: RunCounts = {
    recordsRead: 0,
    emptySkipped: 0,
    bytesRead: 0,
    deadLetters: 0,
    lost: 0,
    fragmentsSkipped: 0,
    keyFieldMissing: 0,
  };
  /** Set when the run stops early (fail-fast): the reason, for chunks given up on unsent. */
  stoppedEarly: string | undefined;
  /** Why records failed, grouped, for the summary. */
  readonly reasons: FailureReasons = new FailureReasons();
  /** The input's read chunks, each freed once its lines settle (readers register them). */
  readonly readChunks: ReadChunks = new ReadChunks();
  /** Gets every record that ends up in the dead-letter file (the HTTP intake counts them). */
  onDeadLetter: FailureListener | undefined;
  #producer: KinesisProducer | undefined;
  readonly #deadLetters: DeadLetterFile;
  readonly #digest: RecordDigest | undefined;
  readonly #keepEmpty: boolean;
  readonly #maxRecordBytes: number;
  readonly #replayFragments: boolean;
  #overflowing = false;
  readonly #keyFields:
    | { partitionKey?: readonly string[]; explicitHashKey?: readonly string[] }
    | undefined;
  // Who to tell when a record settles (checkpoints, spool), by the array put.
  readonly #settles = new Map<Uint8Array, Settle>(); // emptied as records settle

  /**
   * `digest`: when given, every accepted record is added and every failed one
   * removed. `replayFragments`: replay lines marked as fragments (cut by a
   * signal) instead of keeping them in the dead-letter file.
   */
  constructor(options: {
    deadLetters: DeadLetterFile;
    digest?: RecordDigest;
    keepEmpty: boolean;
    maxRecordBytes: number;
    replayFragments?: boolean;
    /** Calculated keys: the JSON field paths each line's keys come from. */
    keyFields?: { partitionKey?: readonly string[]; explicitHashKey?: readonly string[] };
  }) {
    this.#keyFields = options.keyFields;
    this.#replayFragments = options.replayFragments ?? false;
    this.#deadLetters = options.deadLetters;
    this.#digest = options.digest;
    this.#keepEmpty = options.keepEmpty;
    this.#maxRecordBytes = options.maxRecordBytes;
  }

  /** Attaches the producer (built after the shipper, since its `onFailure` points here). */
  set producer(producer: KinesisProducer) {
    this.#producer = producer;
  }

  /** The producer's `onFailure`: every record of a failed chunk goes to the dead-letter file. */
  readonly onFailure = (failure: DeliveryFailure): void => {
    let error = failure.error.message;
    if (failure.reason === "closed" && this.stoppedEarly !== undefined) {
      // Given up on because nothing could succeed: say so, with the cause.
      error = `not sent: stopped early, every first PutRecord failed: ${this.stoppedEarly}`;
      this.reasons.add("stopped-early", error, failure.records.length, failure.attempts);
    } else {
      this.reasons.addFailure(failure);
    }
    for (const record of failure.records) {
      this.#deadLetter(record.data, failure.reason, error, false, false);
      this.#digest?.remove(record.data);
      this.#settled(record.data);
    }
  };

  /** The producer's `onDelivered`: settles each delivered record. */
  readonly onDelivered = (delivery: Delivery): void => {
    for (const record of delivery.userRecords) this.#settled(record.data);
  };

  #settled(data: Uint8Array): void {
    const settle = this.#settles.get(data);
    if (settle) {
      this.#settles.delete(data);
      settle();
    }
    // Last: nothing may read `data` after this (its chunk may be freed).
    this.readChunks.settled(data);
  }

  /**
   * Ships one record. Resolves true once accepted (the producer may still
   * fail it later), false when it was refused (too large, producer closed)
   * and went to the dead-letter file. `settle`, when given, is called once the
   * record is delivered or in the dead-letter file (`data` must be an array
   * of its own: settlement is tracked by identity).
   */
  async put(data: Uint8Array, settle?: Settle): Promise<boolean> {
    // Added before the put: its chunk may fail (and be removed) before the put's promise settles.
    this.#digest?.add(data);
    if (settle) this.#settles.set(data, settle);
    this.readChunks.taken(data);
    try {
      const fields = this.#keyFields;
      if (fields) {
        const keys = lineKeys(data, fields.partitionKey, fields.explicitHashKey);
        if (keys.missing) this.counts.keyFieldMissing = (this.counts.keyFieldMissing ?? 0) + 1;
        await this.#producer!.put(data, keys);
      } else {
        await this.#producer!.put(data);
      }
      return true;
    } catch (error) {
      this.#digest?.remove(data);
      if (error instanceof RecordError) {
        const reason = error.code === "RecordTooLarge" ? "too-large" : "invalid";
        this.#deadLetter(data, reason, error.message);
      } else if (error instanceof ProducerClosedError) {
        this.#deadLetter(data, "closed", error.message);
      } else {
        this.#settles.delete(data);
        this.readChunks.forget(data);
        throw error;
      }
      this.#settled(data);
      return false;
    }
  }

  /** Counts one input line; false when it is an empty line to skip. */
  countLine(bytes: Uint8Array): boolean {
    this.counts.recordsRead++;
    if (bytes.length === 0 && !this.#keepEmpty) {
      this.counts.emptySkipped++;
      return false;
    }
    return true;
  }

  /** Handles one event of an input file: a line is a record. */
  async line(event: LineEvent): Promise<void> {
    if (event.type === "line") {
      if (this.countLine(event.bytes)) await this.put(event.bytes);
      return;
    }
    // A line over the record limit: streamed to the dead-letter file, never held whole.
    if (event.type === "overflow") {
      if (event.first) {
        this.counts.recordsRead++;
        this.#overflowing = true;
        const error =
          `Cannot ship line: it is longer than the ${this.#maxRecordBytes}-byte record limit`;
        this.reasons.add(`too-large:${error}`, error, 1);
        this.#deadLetters.streamStart("too-large", error);
      }
      this.#deadLetters.streamPart(event.bytes);
      return;
    }
    this.#overflowing = false;
    this.#counted(this.#deadLetters.streamEnd(event.length));
  }

  /** Handles one event of a dead-letter file being replayed: a line is a dead letter. */
  async replayLine(event: LineEvent): Promise<void> {
    if (event.type === "line") {
      if (event.bytes.length === 0) return;
      this.counts.recordsRead++;
      let letter: DeadLetter;
      try {
        letter = parseDeadLetter(decoder.decode(event.bytes));
      } catch (error) {
        // Kept as it was, so fixing the file by hand and replaying again works.
        this.#deadLetter(
          event.bytes,
          "bad-dead-letter",
          `Cannot replay line: ${(error as Error).message}`,
        );
        return;
      }
      if (letter.fragment && !this.#replayFragments) {
        // Not known to be a whole record: kept as it is, for a person to decide.
        this.counts.fragmentsSkipped++;
        this.#deadLetter(letter.data, letter.reason, letter.error, true, false);
        return;
      }
      await this.put(letter.data);
      return;
    }
    // Too long to hold: its record is over the limit anyway, so the line is copied as it is.
    if (event.type === "overflow") {
      if (event.first) this.counts.recordsRead++;
      this.#deadLetters.appendRaw(event.bytes);
      return;
    }
    this.#counted(this.#deadLetters.endRaw());
  }

  /** True while an overlong line is being streamed. */
  get overflowing(): boolean {
    return this.#overflowing;
  }

  /** Keeps a partial line that a signal cut off (its newline never came). */
  interrupted(partial: Uint8Array): void {
    if (partial.length === 0) return;
    this.counts.recordsRead++;
    this.#deadLetter(
      partial,
      "interrupted",
      "Cannot ship line: reading stopped before its newline",
      true,
    );
  }

  #deadLetter(
    data: Uint8Array,
    reason: string,
    error: string,
    fragment = false,
    tally = true,
  ): void {
    if (tally) this.reasons.add(`${reason}:${error}`, error, 1);
    this.#counted(this.#deadLetters.write(data, reason, error, fragment));
    this.onDeadLetter?.(data);
  }

  /** Counts one dead letter, or one lost record when its line could not be written. */
  #counted(written: boolean): void {
    if (written) this.counts.deadLetters++;
    else this.counts.lost++;
  }
}
