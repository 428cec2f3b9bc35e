/**
 * The producer: records in, one PutRecord per chunk out, with bounded memory,
 * adaptive concurrency, retries, and a report for every record that fails.
 * @module
 */
import { Aggregator } from "../format/aggregator.ts";
import { RecordError } from "../format/errors.ts";
import type { AggregatedRecord, UserRecord } from "../format/record.ts";
import { sleep, type TimerHandle } from "./clock.ts";
import { ProducerClosedError } from "./errors.ts";
import {
  type KinesisProducerOptions,
  type PutRecordClient,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { type GiveUpReason, nextRetry } from "./retry.ts";
import { emptyStats, type ProducerStats, putPayloadUnits } from "./stats.ts";
import { createTransport, type Transport } from "./transport.ts";

/** Per-record keys for keyed mode. */
export interface RecordKeys {
  /** 1–256 characters. */
  partitionKey?: string;
  /** Decimal in 0..2^128−1. */
  explicitHashKey?: string;
}

/** Options for {@link KinesisProducer.close}. */
export interface CloseOptions {
  /**
   * Give up after this many ms: in-flight calls are aborted and every record
   * not yet delivered is reported to `onFailure`.
   * @default {Infinity}
   */
  deadlineMs?: number;
}

interface Chunk {
  readonly aggregate: AggregatedRecord;
  /** Buffered bytes this chunk holds until it settles. */
  readonly cost: number;
  readonly cutAt: number;
  attempts: number;
  readonly settled: Promise<void>;
  settle(): void;
}

interface Waiter {
  record: UserRecord;
  cost: number;
  resolve(): void;
  reject(error: unknown): void;
  /** Set once it leaves the queue, admitted or refused. */
  left?: boolean;
}

const encoder = new TextEncoder();
const RESOLVED: Promise<void> = Promise.resolve();
// Rough bytes of a record's bookkeeping beyond its data, for the memory bound.
const RECORD_OVERHEAD = 64;

/**
 * Settles with `promise`, or rejects when `signal` aborts: a close deadline must
 * hold even against a transport stuck where it cannot see the signal (for
 * example a credential provider).
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function recordCost(record: UserRecord): number {
  return record.data.length + RECORD_OVERHEAD + (record.partitionKey?.length ?? 0) * 2 +
    (record.explicitHashKey?.length ?? 0);
}

/**
 * Buffers records into KPL aggregates and ships each with one PutRecord.
 *
 * @example
 * ```ts ignore
 * import { KinesisProducer } from "./mod.ts";
 * const producer = new KinesisProducer({ streamName: "logs", region: "us-east-1" });
 * await producer.put('{"msg":"hello"}');
 * await producer.close();
 * ```
 */
export class KinesisProducer {
  readonly #o: ResolvedOptions;
  readonly #transport: Transport;
  readonly #client: PutRecordClient;
  readonly #aggregator: Aggregator;
  readonly #stats: ProducerStats = emptyStats();
  readonly #abort = new AbortController();
  readonly #queue: Chunk[] = [];
  readonly #outstanding = new Set<Chunk>();
  readonly #waiters: Waiter[] = [];
  #admissionListeners: (() => void)[] = [];
  #buffered = 0;
  #active = 0;
  #window: number;
  #lingerTimer: TimerHandle | undefined;
  #lastSequenceNumber: string | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #deadlineTimer: TimerHandle | undefined;
  #deadlineAt = Infinity;

  /** Validates options at once (`TypeError`/`RangeError`); the first network call happens on the first chunk. */
  constructor(options: KinesisProducerOptions) {
    this.#o = resolveOptions(options);
    const o = this.#o;
    this.#aggregator = new Aggregator({
      maxRecordBytes: o.maxRecordBytes,
      targetBytes: o.targetBytes,
      maxRecords: o.maxRecords,
      partitionKey: o.partitionKey,
      keyed: o.keyed,
      shards: o.shards,
      now: () => o.clock.now(),
    });
    this.#transport = createTransport(options);
    this.#client = this.#transport.client;
    this.#window = o.concurrency;
  }

  /** A snapshot of the counters. */
  get stats(): ProducerStats {
    return { ...this.#stats, bufferedBytes: this.#buffered };
  }

  /**
   * Buffers one record. Resolves once it is accepted; waits while the buffer is
   * full. Rejects at once with a {@link RecordError} for invalid input (too
   * large, bad key), and with a {@link ProducerClosedError} after `close()`.
   * A `Uint8Array` is kept, not copied: do not change it until it is delivered.
   */
  put(data: Uint8Array | string, keys?: RecordKeys): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new ProducerClosedError("Cannot put: the producer is closed"));
    }
    const record: UserRecord = { data: typeof data === "string" ? encoder.encode(data) : data };
    if (keys?.partitionKey !== undefined) record.partitionKey = keys.partitionKey;
    if (keys?.explicitHashKey !== undefined) record.explicitHashKey = keys.explicitHashKey;
    if (!(record.data instanceof Uint8Array)) {
      return this.#reject(
        new RecordError("InvalidData", "Cannot put record: data must be a Uint8Array or a string"),
      );
    }
    const cost = recordCost(record);
    if (
      this.#waiters.length === 0 &&
      (this.#buffered + cost <= this.#o.maxBufferedBytes || this.#buffered === 0)
    ) {
      try {
        this.#admit(record, cost);
      } catch (error) {
        return this.#reject(error);
      }
      return RESOLVED;
    }
    // Refuse bad input now, not after waiting for room.
    try {
      this.#aggregator.check(record);
    } catch (error) {
      return this.#reject(error);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ record, cost, resolve, reject }));
  }

  /** Resolves when every record put so far is delivered or reported failed. */
  async flush(): Promise<void> {
    // Puts still waiting for room count too. They leave the queue in order, so
    // the flush can go on once the last of them has.
    const last = this.#waiters.at(-1);
    while (last && !last.left) {
      this.#cut();
      await new Promise<void>((resolve) => this.#admissionListeners.push(resolve));
    }
    this.#cut();
    // Only the chunks that exist now: records put later must not keep a flush
    // waiting under steady load.
    await Promise.all([...this.#outstanding].map((c) => c.settled));
  }

  /**
   * Flushes, then stops: later `put`s reject. With a deadline, whatever is not
   * delivered by then is aborted and reported to `onFailure`. Idempotent; no
   * timer outlives it.
   */
  close(options: CloseOptions = {}): Promise<void> {
    // A later call may bring a (sooner) deadline: it must bound the close
    // already under way, or close({ deadlineMs }) could wait forever.
    this.#armDeadline(options.deadlineMs ?? Infinity);
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #armDeadline(deadlineMs: number): void {
    if (this.#closed || !Number.isFinite(deadlineMs)) return;
    const clock = this.#o.clock;
    const at = clock.now() + deadlineMs;
    if (at >= this.#deadlineAt) return;
    if (this.#deadlineTimer !== undefined) clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = at;
    this.#deadlineTimer = clock.setTimeout(() => {
      this.#deadlineTimer = undefined;
      this.#abortAll();
    }, deadlineMs);
  }

  async #shutdown(): Promise<void> {
    const clock = this.#o.clock;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      if (this.#deadlineTimer !== undefined) clock.clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = undefined;
      this.#clearLinger();
      await this.#transport.close();
    }
  }

  #abortAll(): void {
    const reason = new ProducerClosedError("Cannot deliver: the close deadline passed");
    this.#abort.abort(reason);
    for (const waiter of this.#waiters.splice(0)) {
      waiter.left = true;
      waiter.reject(reason);
    }
    this.#notifyAdmission();
  }

  #reject(error: unknown): Promise<void> {
    this.#stats.recordsRejected++;
    return Promise.reject(error);
  }

  /** Adds an accepted record; throws a RecordError (and changes nothing) for a bad one. */
  #admit(record: UserRecord, cost: number): void {
    const done = this.#aggregator.add(record);
    this.#buffered += cost;
    this.#stats.records++;
    this.#stats.putUnitsUnaggregated += putPayloadUnits(
      record.data.length + (record.partitionKey?.length ?? this.#o.partitionKey?.length ?? 36),
    );
    if (done) this.#enqueue(done);
    if (this.#aggregator.pendingRecords > 0) this.#scheduleLinger();
  }

  #notifyAdmission(): void {
    if (this.#admissionListeners.length === 0) return;
    const listeners = this.#admissionListeners;
    this.#admissionListeners = [];
    for (const listener of listeners) listener();
  }

  /** Admits waiting puts, in order, while there is room. */
  #drainWaiters(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0];
      if (this.#buffered + next.cost > this.#o.maxBufferedBytes && this.#buffered > 0) break;
      this.#waiters.shift();
      next.left = true;
      try {
        this.#admit(next.record, next.cost);
        next.resolve();
      } catch (error) {
        this.#stats.recordsRejected++;
        next.reject(error);
      }
    }
    this.#notifyAdmission();
  }

  // ---- chunks ----

  /** Cuts every open aggregate into chunks. */
  #cut(): void {
    this.#clearLinger();
    for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
  }

  #enqueue(aggregate: AggregatedRecord): void {
    let cost = 0;
    for (const record of aggregate.records) cost += recordCost(record);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const chunk: Chunk = {
      aggregate,
      cost,
      cutAt: this.#o.clock.now(),
      attempts: 0,
      settled,
      settle,
    };
    this.#outstanding.add(chunk);
    this.#queue.push(chunk);
    this.#pump();
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#active < Math.max(1, Math.floor(this.#window))) {
      const chunk = this.#queue.shift()!;
      this.#active++;
      this.#send(chunk).finally(() => {
        this.#active--;
        this.#settle(chunk);
        this.#pump();
      });
    }
  }

  async #send(chunk: Chunk): Promise<void> {
    const { clock, retry, random, target, concurrency } = this.#o;
    const signal = this.#abort.signal;
    const stats = this.#stats;
    const { aggregate } = chunk;
    // Strict order needs one key and one call at a time; SequenceNumberForOrdering
    // then keeps a retried chunk from landing after its successor.
    const ordered = concurrency === 1 && this.#o.partitionKey !== undefined;
    for (;;) {
      if (signal.aborted) return this.#fail(chunk, signal.reason, "closed");
      chunk.attempts++;
      stats.calls++;
      if (chunk.attempts > 1) stats.retries++;
      stats.inFlight++;
      let error: unknown;
      try {
        const out = await abortable(
          this.#client.putRecord({
            ...target,
            data: aggregate.data,
            partitionKey: aggregate.partitionKey,
            explicitHashKey: aggregate.explicitHashKey,
            sequenceNumberForOrdering: ordered ? this.#lastSequenceNumber : undefined,
          }, { signal, retry: chunk.attempts - 1 }),
          signal,
        );
        stats.inFlight--;
        if (ordered) this.#lastSequenceNumber = out.sequenceNumber;
        this.#window = Math.min(concurrency, this.#window + 1 / this.#window);
        return this.#deliver(chunk, out.shardId, out.sequenceNumber);
      } catch (e) {
        stats.inFlight--;
        error = e;
      }
      const kind = (error as { kind?: string })?.kind;
      if (kind === "throttling") {
        stats.throttles++;
        this.#window = Math.max(1, this.#window / 2);
      }
      if (signal.aborted) return this.#fail(chunk, signal.reason, "closed");
      const next = nextRetry(
        retry,
        error as { retryable?: boolean },
        chunk.attempts,
        clock.now() - chunk.cutAt,
        random,
      );
      if ("giveUp" in next) return this.#fail(chunk, error, next.giveUp);
      try {
        await sleep(clock, next.delayMs, signal);
      } catch {
        return this.#fail(chunk, signal.reason, "closed");
      }
    }
  }

  #deliver(chunk: Chunk, shardId: string, sequenceNumber: string): void {
    const stats = this.#stats;
    const { aggregate } = chunk;
    stats.chunks++;
    stats.recordsDelivered += aggregate.records.length;
    stats.bytes += aggregate.size;
    stats.putUnits += putPayloadUnits(aggregate.size);
    this.#callback("onDelivered", 0, {
      records: aggregate.records.length,
      shardId,
      sequenceNumber,
      attempts: chunk.attempts,
      userRecords: aggregate.records,
    });
  }

  #fail(chunk: Chunk, error: unknown, reason: GiveUpReason): void {
    const { aggregate } = chunk;
    this.#stats.chunksFailed++;
    this.#stats.recordsFailed += aggregate.records.length;
    this.#callback("onFailure", aggregate.records.length, {
      records: aggregate.records,
      error: error instanceof Error ? error : new Error(String(error)),
      attempts: chunk.attempts,
      reason,
      partitionKey: aggregate.partitionKey,
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

  #settle(chunk: Chunk): void {
    this.#outstanding.delete(chunk);
    this.#buffered -= chunk.cost;
    chunk.settle();
    this.#drainWaiters();
  }

  // ---- linger ----

  #scheduleLinger(): void {
    if (this.#lingerTimer !== undefined) return;
    const oldest = this.#aggregator.oldestPendingAt;
    if (oldest === undefined) return;
    const { clock, lingerMs } = this.#o;
    this.#lingerTimer = clock.setTimeout(
      () => this.#onLinger(),
      Math.max(0, oldest + lingerMs - clock.now()),
    );
  }

  #onLinger(): void {
    this.#lingerTimer = undefined;
    const oldest = this.#aggregator.oldestPendingAt;
    if (oldest === undefined) return;
    if (this.#o.clock.now() - oldest >= this.#o.lingerMs) this.#cut();
    else this.#scheduleLinger();
  }

  #clearLinger(): void {
    if (this.#lingerTimer === undefined) return;
    this.#o.clock.clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
  }
}
