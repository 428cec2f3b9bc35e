/**
 * The producer: records in, Kinesis records out (KPL aggregates, or user
 * records unaggregated), with bounded memory, congestion control, per-entry
 * retries, and a report for every record that fails.
 *
 * The parts: admission, linger and lifecycle here; the {@link Scheduler}
 * (send queue, congestion windows, calls); {@link StreamAwareness} (what the
 * stream says, and the wrong-shard rule); {@link DeliveryReport} (stats,
 * callbacks and `deliver()` results for each finished entry).
 * @module
 */
import { utf8Length } from "../aws/request_limits.ts";
import { Aggregator } from "../format/aggregator.ts";
import { RecordError, RecordTooLargeError } from "../format/errors.ts";
import type { AggregatedRecord, UserRecord } from "../format/record.ts";
import type { TimerHandle } from "./clock.ts";
import { shardPredictor } from "./congestion.ts";
import { createEntry, type Entry, isAggregate, markSettled, whenSettled } from "./entry.ts";
import { abortable, Scheduler } from "./scheduler.ts";
import { checkUnaggregated, unaggregatedEntry } from "./unaggregated.ts";
import { ProducerClosedError } from "./errors.ts";
import {
  type KinesisProducerOptions,
  type PutRecordClient,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import type { GiveUpReason } from "./retry.ts";
import { emptyStats, onDemandBilledBytes, type ProducerStats, putPayloadUnits } from "./stats.ts";
import { copyHistogram } from "./histogram.ts";
import { RecordDeliveries, type RecordDelivery } from "./record_delivery.ts";
import { producerWritable, type WritableRecord } from "./writable.ts";
import { gzip } from "../format/compression.ts";
import { createTransport, type Transport } from "./transport.ts";
import { DeliveryReport } from "./delivery_report.ts";
import { StreamAwareness, type StreamHost } from "./stream_awareness.ts";
import type { CloseOptions, FlushOptions, PutOptions } from "./put_options.ts";

export type { CloseOptions, FlushOptions, PutOptions, RecordKeys } from "./put_options.ts";

interface Waiter {
  record: UserRecord;
  cost: number;
  resolve(): void;
  reject(error: unknown): void;
  /** Set once it leaves the queue, admitted or refused. */
  left?: boolean;
  /** Too large for the limit known now: waits for the stream's own limit. */
  needsFacts?: boolean;
}

const encoder = new TextEncoder();
const RESOLVED: Promise<void> = Promise.resolve();
// Rough bytes of a record's bookkeeping beyond its data, for the memory bound.
const RECORD_OVERHEAD = 64;

function recordCost(record: UserRecord): number {
  return record.data.length + RECORD_OVERHEAD + (record.partitionKey?.length ?? 0) * 2 +
    (record.explicitHashKey?.length ?? 0);
}

/**
 * Buffers records into KPL aggregates (or, with `aggregation: "off"`, keeps
 * them as they are) and ships them with PutRecord or PutRecords.
 *
 * @example
 * ```ts ignore
 * import { KinesisProducer } from "@kpl/kinesis-producer";
 * const producer = new KinesisProducer({ streamName: "logs", region: "us-east-1" });
 * await producer.put('{"msg":"hello"}');
 * await producer.close();
 * ```
 */
export class KinesisProducer {
  readonly #o: ResolvedOptions;
  readonly #transport: Transport;
  readonly #client: PutRecordClient;
  // Whether delivered aggregates' buffers go back to the aggregator: only with
  // our own client, which copies `data` into the request body and is done with
  // it when the call answers. A caller's client may keep what it was given.
  readonly #recycles: boolean;
  #aggregator: Aggregator;
  readonly #stats: ProducerStats = emptyStats();
  readonly #abort = new AbortController();
  readonly #scheduler: Scheduler;
  readonly #outstanding = new Set<Entry>();
  /** Unaggregated mode: entries collecting until a full request or the linger. */
  #pending: Entry[] = [];
  #pendingBytes = 0;
  readonly #waiters: Waiter[] = [];
  #admissionListeners: (() => void)[] = [];
  #buffered = 0;
  #lingerTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #deadlineTimer: TimerHandle | undefined;
  #deadlineAt = Infinity;
  readonly #deliveries = new RecordDeliveries();
  #compressing: Promise<unknown> = RESOLVED;
  #writable: WritableStream<WritableRecord> | undefined;
  readonly #report: DeliveryReport;
  // Stream awareness, and whether admission may start.
  readonly #stream: StreamAwareness;
  #ready: boolean;
  #configError: Error | undefined;
  /** Entries cut before the stream is described: sent once it is. */
  #held: Entry[] = [];

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
      shards: o.keyed ? o.shards : undefined,
      placeAggregate: o.spread ? () => this.#stream.placeChunk() : undefined,
      now: () => o.clock.now(),
    });
    this.#report = new DeliveryReport(o, this.#stats, this.#deliveries);
    this.#transport = createTransport(options);
    this.#client = this.#transport.client;
    this.#recycles = options.client === undefined;
    this.#scheduler = new Scheduler(o, this.#client, this.#stats, this.#abort.signal, {
      deliver: (entry, shardId, sequenceNumber) => this.#deliver(entry, shardId, sequenceNumber),
      fail: (entry, error, reason) => this.#fail(entry, error, reason),
    }, o.shards ? shardPredictor(o.shards) : undefined);
    this.#stream = new StreamAwareness(o, this.#client, this.#abort.signal, this.#streamHost());
    this.#ready = !this.#stream.describes;
  }

  /** What stream awareness may do here: a narrow view of the buffers. */
  #streamHost(): StreamHost {
    return {
      congestion: this.#scheduler.congestion,
      cutAggregates: () => {
        for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
      },
      rebuildAggregator: () => {
        this.#aggregator = this.#newAggregator();
      },
      regroup: (map) => {
        for (const aggregate of this.#aggregator.setShardMap(map)) this.#enqueue(aggregate);
      },
      pump: () => this.#scheduler.pump(),
      refuseAll: (error) => {
        this.#ready = true;
        this.#refuseAll(error);
      },
      refused: () => this.#configError !== undefined,
      unpackHeld: () => {
        for (const entry of this.#held.splice(0)) this.#unpack(entry);
      },
      unpackQueued: () => {
        for (const entry of this.#scheduler.drain()) {
          if (isAggregate(entry)) this.#unpack(entry);
          else this.#scheduler.push(entry);
        }
      },
      open: () => {
        this.#ready = true;
        for (const entry of this.#held.splice(0)) this.#scheduler.push(entry);
        this.#drainWaiters();
        if (this.#pending.length > 0) this.#scheduleLinger();
        this.#scheduler.pump();
      },
      isOutstanding: (entry) => this.#outstanding.has(entry),
      delivered: (entry, shardId, sequenceNumber) =>
        this.#delivered(entry, shardId, sequenceNumber),
      resend: (entry) => {
        this.#stats.records -= entry.records.length;
        this.#replace(entry);
        this.#scheduler.pump();
      },
    };
  }

  /** A snapshot of the counters. */
  get stats(): ProducerStats {
    const s = this.#stats;
    return {
      ...s,
      callsByKind: { ...s.callsByKind },
      entriesFailedByCode: { ...s.entriesFailedByCode },
      bufferedBytes: this.#buffered,
      waitingForRetry: this.#scheduler.waitingForRetry,
      window: Math.round(this.#scheduler.congestion.stream.size * 100) / 100,
      shardWindows: this.#scheduler.congestion.shardWindows(),
      throttlesByShard: this.#scheduler.congestion.shardThrottles(),
      callLatencyMs: copyHistogram(s.callLatencyMs),
      recordLatencyMs: copyHistogram(s.recordLatencyMs),
      stream: this.#stream.facts,
    };
  }

  /**
   * The producer as a Web `WritableStream` of `Uint8Array | string | { data,
   * partitionKey?, explicitHashKey? }`: `readable.pipeTo(producer.writable)`.
   * Each write waits while the producer holds `maxBufferedBytes`, and the
   * stream's queue (sized in bytes) holds at most `targetBytes` more, so
   * `pipeTo` and `writer.ready` feel the backpressure. Closing the stream
   * closes the producer; aborting it closes at once (see `close({ signal })`).
   *
   * @example Pipe lines into Kinesis
   * ```ts ignore
   * import { KinesisProducer } from "@kpl/kinesis-producer";
   * const producer = new KinesisProducer({ streamName: "logs" });
   * await ReadableStream.from(["a", "b", "c"]).pipeTo(producer.writable);
   * ```
   */
  get writable(): WritableStream<WritableRecord> {
    return this.#writable ??= producerWritable(this, this.#o.targetBytes);
  }

  /** Closes the producer: `await using producer = new KinesisProducer(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Like {@link put}, and resolves only when the record is delivered, with its
   * shard, sequence number, sub-sequence number and the attempts it took; or
   * rejects with the error `onFailure` gets for its chunk (which is reported
   * there too). Records from `put` pay nothing for this.
   *
   * @example Await one record's delivery
   * ```ts ignore
   * import { KinesisProducer } from "@kpl/kinesis-producer";
   * const producer = new KinesisProducer({ streamName: "orders" });
   * const { shardId, sequenceNumber, subSequenceNumber } = await producer.deliver('{"order":1}');
   * ```
   */
  deliver(data: Uint8Array | string, options?: PutOptions): Promise<RecordDelivery> {
    let result: Promise<RecordDelivery> | undefined;
    return this.#put(data, options, (record) => (result = this.#deliveries.track(record)))
      .then(() => result!);
  }

  /**
   * Buffers one record. Resolves once it is accepted; waits while the buffer is
   * full. Rejects at once with a {@link RecordError} for invalid input (too
   * large, bad key), and with a {@link ProducerClosedError} after `close()`.
   * A `Uint8Array` is kept, not copied: do not change it until it is delivered.
   */
  put(data: Uint8Array | string, options?: PutOptions): Promise<void> {
    return this.#put(data, options, undefined);
  }

  #put(
    data: Uint8Array | string,
    keys: PutOptions | undefined,
    track: ((record: UserRecord) => void) | undefined,
  ): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new ProducerClosedError("Cannot put: the producer is closed"));
    }
    if (keys?.signal?.aborted) return this.#reject(keys.signal.reason);
    const record: UserRecord = { data: typeof data === "string" ? encoder.encode(data) : data };
    if (keys?.partitionKey !== undefined) record.partitionKey = keys.partitionKey;
    if (keys?.explicitHashKey !== undefined) record.explicitHashKey = keys.explicitHashKey;
    if (!(record.data instanceof Uint8Array)) {
      return this.#reject(
        new RecordError("InvalidData", "Cannot put record: data must be a Uint8Array or a string"),
      );
    }
    if (track) track(record);
    if (this.#o.compression) return this.#compress(record, keys?.signal);
    const admitted = this.#offer(record, keys?.signal);
    if (track && admitted !== RESOLVED) {
      admitted.catch(() => this.#deliveries.forget(record));
    }
    return admitted;
  }

  /** Gzips in put order (one at a time), then offers the record. */
  #compress(record: UserRecord, signal: AbortSignal | undefined): Promise<void> {
    const raw = record.data;
    const offered = this.#compressing.then(() => gzip(raw)).then((data) => {
      this.#stats.compressionBytesIn += raw.length;
      this.#stats.compressionBytesOut += data.length;
      record.data = data;
      return this.#offer(record, signal);
    });
    offered.catch(() => this.#deliveries.forget(record));
    this.#compressing = offered.catch(() => {});
    return offered;
  }

  /** Admits `record` now, or queues it until there is room. */
  #offer(record: UserRecord, signal: AbortSignal | undefined): Promise<void> {
    if (this.#configError) return this.#reject(this.#configError);
    const cost = recordCost(record);
    if (!this.#ready) this.#stream.start();
    // Before the stream is described, a record over the default limit may fit
    // the stream's own (MaxRecordSizeInKiB): it waits for the answer.
    // Keyed mode waits for its shard map: grouped by hash range meanwhile,
    // some keys would land on a neighbour of their shard.
    const needsFacts = !this.#ready &&
      ((this.#o.autoShards && this.#o.aggregation === "on") ||
        (this.#o.maxRecordBytesWish === undefined && this.#tooLarge(record)));
    if (
      !needsFacts && this.#waiters.length === 0 &&
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
    if (!needsFacts) {
      try {
        if (this.#o.aggregation === "off") checkUnaggregated(record, this.#o);
        else this.#aggregator.check(record);
      } catch (error) {
        return this.#reject(error);
      }
    }
    if (signal?.aborted) return this.#reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { record, cost, resolve, reject, needsFacts };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", () => {
        if (waiter.left) return;
        waiter.left = true;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        this.#stats.recordsRejected++;
        reject(signal.reason);
        this.#notifyAdmission();
      }, { once: true });
    });
  }

  /**
   * Resolves when every record put so far is delivered or reported failed.
   * With `signal`, rejects with its reason when it aborts; delivery goes on.
   */
  flush(options: FlushOptions = {}): Promise<void> {
    const { signal } = options;
    return signal ? abortable(this.#flush(), signal) : this.#flush();
  }

  async #flush(): Promise<void> {
    // Records still being compressed are part of "put so far".
    await this.#compressing;
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
    await Promise.all([...this.#outstanding].map(whenSettled));
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
    // An abort is a deadline reached now, without waiting on the clock.
    const { signal } = options;
    const abort = () => {
      if (!this.#closed) this.#abortAll();
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
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
      this.#scheduler.clearWake();
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
    this.#cut();
    for (const entry of this.#held.splice(0)) this.#fail(entry, reason, "closed");
    for (const entry of this.#scheduler.drain()) this.#fail(entry, reason, "closed");
    this.#notifyAdmission();
  }

  #reject(error: unknown): Promise<void> {
    this.#stats.recordsRejected++;
    return Promise.reject(error);
  }

  /** Adds an accepted record; throws a RecordError (and changes nothing) for a bad one. */
  #admit(record: UserRecord, cost: number): void {
    const o = this.#o;
    if (o.aggregation === "off") {
      const entry = unaggregatedEntry(
        record,
        cost,
        o.clock.now(),
        o,
        this.#scheduler.congestion.predictor,
      );
      this.#buffered += cost;
      this.#stats.records++;
      this.#stats.putUnitsUnaggregated += putPayloadUnits(entry.bytes);
      this.#stats.onDemandBilledBytesUnaggregated += onDemandBilledBytes(entry.bytes);
      this.#outstanding.add(entry);
      this.#pending.push(entry);
      this.#pendingBytes += entry.bytes;
      const { maxEntries, maxBytes } = o.requestLimits;
      if (this.#pending.length >= maxEntries || this.#pendingBytes >= maxBytes) this.#cut();
      else this.#scheduleLinger();
      return;
    }
    const done = this.#aggregator.add(record);
    this.#buffered += cost;
    this.#stats.records++;
    // Kinesis counts the key in UTF-8 bytes; a random key is a 36-byte UUID.
    const key = record.partitionKey ?? o.partitionKey;
    const alone = record.data.length + (key === undefined ? 36 : utf8Length(key));
    this.#stats.putUnitsUnaggregated += putPayloadUnits(alone);
    this.#stats.onDemandBilledBytesUnaggregated += onDemandBilledBytes(alone);
    if (done) {
      this.#enqueue(done);
      this.#scheduler.pump();
    }
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
      if (next.needsFacts && !this.#ready) break;
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

  // ---- entries ----

  /** Cuts every open aggregate (or the unaggregated batch) into entries and sends what can go. */
  #cut(): void {
    this.#clearLinger();
    for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
    for (const entry of this.#pending) this.#push(entry);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#scheduler.pump();
  }

  #enqueue(aggregate: AggregatedRecord): void {
    this.#stream.tick();
    let cost = 0;
    for (const record of aggregate.records) cost += recordCost(record);
    const entry = createEntry({
      data: aggregate.data,
      partitionKey: aggregate.partitionKey,
      explicitHashKey: aggregate.explicitHashKey,
      records: aggregate.records,
      bytes: aggregate.size,
      cost,
      cutAt: this.#o.clock.now(),
      openedAt: this.#aggregator.openedAt(aggregate),
      shard: this.#scheduler.congestion.predictor?.(
        aggregate.partitionKey,
        aggregate.explicitHashKey,
      ),
    });
    this.#outstanding.add(entry);
    this.#push(entry);
  }

  /** Hands `entry` to the scheduler, or holds it until the stream is described. */
  #push(entry: Entry): void {
    if (this.#ready || !this.#stream.describes) this.#scheduler.push(entry);
    else this.#held.push(entry);
  }

  #deliver(entry: Entry, shardId: string, sequenceNumber: string): void {
    if (
      entry.shard !== undefined && shardId !== entry.shard &&
      this.#stream.wrongShard(entry, shardId, sequenceNumber)
    ) {
      return;
    }
    this.#delivered(entry, shardId, sequenceNumber);
  }

  #delivered(entry: Entry, shardId: string, sequenceNumber: string): void {
    this.#report.delivered(entry, shardId, sequenceNumber);
    this.#settle(entry);
    // Delivered is final: the call that stored it has answered, no retry or
    // re-send follows, and reports hand out user records, never `data`. (Failed
    // entries are not recycled: a call abandoned at the close deadline may
    // still be running.) Ignored for entries this aggregator did not build.
    if (this.#recycles) this.#aggregator.release(entry);
  }

  #fail(entry: Entry, error: unknown, reason: GiveUpReason): void {
    const failure = this.#report.failed(entry, error, reason);
    this.#settle(entry);
    if (!this.#closing) this.#stream.failed(failure);
  }

  #settle(entry: Entry): void {
    if (!this.#outstanding.delete(entry)) return;
    this.#buffered -= entry.cost;
    markSettled(entry);
    this.#drainWaiters();
  }

  /** Re-admits the user records of an aggregate that was never sent, one by one. */
  #unpack(entry: Entry): void {
    this.#stats.records -= entry.records.length;
    this.#replace(entry);
  }

  /**
   * Admits `entry`'s records again and settles it once their new entries
   * settle, so a flush waiting on it waits for them too.
   */
  #replace(entry: Entry): void {
    const before = new Set(this.#outstanding);
    for (const record of entry.records) this.#readmit(record, entry);
    // Aggregated records become entries only when cut.
    if (this.#o.aggregation === "on") {
      for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
    }
    const replacements = [...this.#outstanding].filter((e) => !before.has(e) && e !== entry);
    Promise.all(replacements.map(whenSettled)).then(() => this.#settle(entry));
  }

  /** Admits `record` again (unpacked or re-sent); a refusal is reported as a failure. */
  #readmit(record: UserRecord, from: Entry): void {
    try {
      this.#admit(record, recordCost(record));
    } catch (error) {
      this.#report.refused(record, error, from);
    }
  }

  /** A configuration error: every record held or waiting fails with it, later puts reject. */
  #refuseAll(error: Error): void {
    this.#configError = error;
    for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
    for (const entry of this.#pending.splice(0)) this.#held.push(entry);
    this.#pendingBytes = 0;
    for (const entry of this.#held.splice(0)) this.#fail(entry, error, "not-retryable");
    for (const waiter of this.#waiters.splice(0)) {
      waiter.left = true;
      this.#stats.recordsRejected++;
      waiter.reject(error);
    }
    this.#notifyAdmission();
  }

  /** Whether `record` is over the record limit known now (it may fit the stream's). */
  #tooLarge(record: UserRecord): boolean {
    // A record far below the limit cannot be too large: skip the exact check (it builds
    // a whole aggregate builder, for every record until the stream is described).
    // Each key counts at most 3 UTF-8 bytes per UTF-16 unit, twice (table and outer key);
    // 128 bytes cover magic, MD5, tags and varints.
    const key = record.partitionKey ?? this.#o.partitionKey;
    const keys = (key?.length ?? 36) * 6 + (record.explicitHashKey?.length ?? 0) * 2;
    if (record.data.length + keys + 128 <= this.#o.maxRecordBytes) return false;
    try {
      if (this.#o.aggregation === "off") checkUnaggregated(record, this.#o);
      else this.#aggregator.check(record);
      return false;
    } catch (error) {
      return error instanceof RecordTooLargeError;
    }
  }

  #newAggregator(): Aggregator {
    const o = this.#o;
    return new Aggregator({
      maxRecordBytes: o.maxRecordBytes,
      targetBytes: Math.min(o.targetBytes, o.maxRecordBytes),
      maxRecords: o.maxRecords,
      partitionKey: o.partitionKey,
      keyed: o.keyed,
      shards: o.keyed ? o.shards : undefined,
      placeAggregate: o.spread ? () => this.#stream.placeChunk() : undefined,
      now: () => o.clock.now(),
    });
  }

  // ---- linger ----

  /** When the oldest record not yet cut was put. */
  #oldestPendingAt(): number | undefined {
    return this.#o.aggregation === "off"
      ? this.#pending[0]?.cutAt
      : this.#aggregator.oldestPendingAt;
  }

  #scheduleLinger(): void {
    if (this.#lingerTimer !== undefined) return;
    const oldest = this.#oldestPendingAt();
    if (oldest === undefined) return;
    const { clock, lingerMs } = this.#o;
    this.#lingerTimer = clock.setTimeout(
      () => this.#onLinger(),
      Math.max(0, oldest + lingerMs - clock.now()),
    );
  }

  #onLinger(): void {
    this.#lingerTimer = undefined;
    const oldest = this.#oldestPendingAt();
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
