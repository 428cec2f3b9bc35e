/**
 * The producer: records in, Kinesis records out (KPL aggregates, or user
 * records unaggregated), with bounded memory, congestion control, per-entry
 * retries, and a report for every record that fails.
 *
 * The parts: admission and linger here; the {@link SendQueue} (fresh entries
 * and retries waiting out their backoff); the {@link Congestion} windows
 * (stream-wide and per shard); {@link sendBatch} (one PutRecord or PutRecords
 * call and its per-entry outcomes).
 * @module
 */
import { utf8Length } from "../aws/request_limits.ts";
import { Aggregator } from "../format/aggregator.ts";
import { RecordError, RecordTooLargeError } from "../format/errors.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../format/limits.ts";
import type { AggregatedRecord, UserRecord } from "../format/record.ts";
import type { TimerHandle } from "./clock.ts";
import { shardPredictor } from "./congestion.ts";
import { createEntry, type Entry, markSettled, whenSettled } from "./entry.ts";
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
import { copyHistogram, observeSpread } from "./histogram.ts";
import { RecordDeliveries, type RecordDelivery } from "./record_delivery.ts";
import { producerWritable, type WritableRecord } from "./writable.ts";
import { gzip } from "../format/compression.ts";
import { KinesisError } from "../aws/errors.ts";
import { createTransport, type Transport } from "./transport.ts";
import {
  decide,
  initialFacts,
  staleFactsHint,
  StreamDescriber,
  type StreamFacts,
  type StreamFactsClient,
  type StreamSnapshot,
} from "./stream_facts.ts";
import { partitionKeyHash } from "../format/keys.ts";
import { bigintToWords, type ShardMap } from "../format/shard_map.ts";

/** Per-record keys for keyed mode. */
export interface RecordKeys {
  /** 1–256 characters. */
  partitionKey?: string;
  /** Decimal in 0..2^128−1. */
  explicitHashKey?: string;
}

/** Options for {@link KinesisProducer.put} and {@link KinesisProducer.deliver}: keys, and a signal. */
export interface PutOptions extends RecordKeys {
  /**
   * Gives up waiting for room in the buffer: the call rejects with the
   * signal's reason and the record is not taken. A record already accepted is
   * not recalled.
   */
  signal?: AbortSignal;
}

/** Options for {@link KinesisProducer.flush}. */
export interface FlushOptions {
  /** Stops waiting (rejecting with the signal's reason); delivery goes on. */
  signal?: AbortSignal;
}

/** Options for {@link KinesisProducer.close}. */
export interface CloseOptions {
  /**
   * Aborting acts as a deadline reached now: in-flight calls are aborted and
   * every record not yet delivered is reported to `onFailure`.
   */
  signal?: AbortSignal;
  /**
   * Give up after this many ms: in-flight calls are aborted and every record
   * not yet delivered is reported to `onFailure`.
   * @default {Infinity}
   */
  deadlineMs?: number;
}

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
  // Stream awareness: the describer (absent for clients without the calls),
  // what it learned, and whether admission may start.
  readonly #describer: StreamDescriber | undefined;
  readonly #facts: StreamFacts;
  #ready: boolean;
  #configError: Error | undefined;
  /** Entries cut before the stream is described: sent once it is. */
  #held: Entry[] = [];
  /** Whether the stream's answer can change what is sent, so sends wait for it. */
  #holdSends = false;
  #describing = false;
  #lastRefresh: StreamSnapshot | undefined;
  // Spreading: the map the credits belong to, and each shard's credit.
  #spreadMap: ShardMap | undefined;
  #spreadCredit = new Float64Array(0);
  readonly #warned = new Set<string>();

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
      placeAggregate: o.spread ? () => this.#placeChunk() : undefined,
      now: () => o.clock.now(),
    });
    this.#transport = createTransport(options);
    this.#client = this.#transport.client;
    this.#scheduler = new Scheduler(o, this.#client, this.#stats, this.#abort.signal, {
      deliver: (entry, shardId, sequenceNumber) => this.#deliver(entry, shardId, sequenceNumber),
      fail: (entry, error, reason) => this.#fail(entry, error, reason),
    }, o.shards ? shardPredictor(o.shards) : undefined);
    const facts = this.#client as StreamFactsClient;
    this.#facts = initialFacts(o.aggregation === "on");
    this.#facts.mapShards = o.shards?.size ?? 0;
    // Asked only when the answer can change what is sent: with aggregation
    // on/off given, no strict order, no shard listing and no limit above the
    // default, the stream has nothing to say that matters.
    const needed = o.aggregationWish === "auto" || o.ordered || o.autoShards ||
      (o.maxRecordBytesWish ?? 0) > DEFAULT_MAX_RECORD_BYTES;
    const able = facts.describeStreamSummary || (o.autoShards && facts.listShards);
    if (needed && able) {
      this.#describer = new StreamDescriber(facts, o.target, {
        listShards: o.autoShards,
        now: () => o.clock.now(),
        signal: this.#abort.signal,
      });
      this.#ready = false;
      this.#holdSends = true;
    } else {
      this.#facts.check = needed ? "unsupported" : "skipped";
      this.#ready = true;
    }
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
      stream: { ...this.#facts },
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
    if (!this.#ready) this.#startDescribe();
    // Before the stream is described, a record over the default limit may fit
    // the stream's own (MaxRecordSizeInKiB): it waits for the answer.
    // Keyed mode waits for its shard map: grouped by key meanwhile, thousands
    // of keys would ship as thousands of tiny aggregates.
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
    if (this.#ready || !this.#holdSends) this.#scheduler.push(entry);
    else this.#held.push(entry);
  }

  #deliver(entry: Entry, shardId: string, sequenceNumber: string): void {
    if (
      entry.shard !== undefined && shardId !== entry.shard &&
      this.#checkWrongShard(entry, shardId, sequenceNumber)
    ) {
      return;
    }
    this.#delivered(entry, shardId, sequenceNumber);
  }

  #delivered(entry: Entry, shardId: string, sequenceNumber: string): void {
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
    this.#settle(entry);
  }

  #fail(entry: Entry, error: unknown, reason: GiveUpReason): void {
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
    this.#settle(entry);
    // The stream may have changed under us: describe it again (rate-limited,
    // single flight) so later records follow it; this one stays reported.
    if (this.#describer && !this.#closing && staleFactsHint(failure, this.#o.ordered)) {
      this.#describer.refresh()?.then((snap) => this.#applyRefresh(snap), () => {});
    }
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

  #settle(entry: Entry): void {
    if (!this.#outstanding.delete(entry)) return;
    this.#buffered -= entry.cost;
    markSettled(entry);
    this.#drainWaiters();
  }

  // ---- stream awareness (src/producer/stream_facts.ts) ----

  /** Describes the stream once, then applies what it says and lets puts in. */
  #startDescribe(): void {
    const describer = this.#describer!;
    if (this.#describing) return;
    this.#describing = true;
    describer.describe().then((snap) => this.#applyFirst(snap)).catch((error) => {
      // Only a bug lands here: let records flow rather than wait forever.
      this.#warn(`stream check failed: ${error instanceof Error ? error.message : error}`);
      this.#applyFirst({ check: "failed", listing: "none" });
    });
  }

  #applyFirst(snap: StreamSnapshot): void {
    const o = this.#o;
    const facts = this.#facts;
    this.#recordSnapshot(snap);
    const decision = decide(
      { aggregation: o.aggregationWish, ordered: o.ordered, maxRecordBytes: o.maxRecordBytesWish },
      snap.check,
      snap.summary,
    );
    for (const w of decision.warnings) this.#warn(w);
    const auto = snap.summary?.recordDistributionStrategy === "AUTO";
    if (o.autoShards && snap.listing !== "listed" && !auto) {
      this.#warn(
        o.spread
          ? `cannot list the stream's shards${
            snap.listing === "denied" ? " (kinesis:ListShards denied)" : ""
          }: spreadOverShards places chunks by random key instead; grant the permission or pass shards`
          : snap.listing === "denied"
          ? "cannot list the stream's shards (kinesis:ListShards denied): keyed mode groups records by key, which packs far worse; grant the permission or pass shards"
          : "cannot list the stream's shards: keyed mode groups records by key until a listing succeeds",
      );
    }
    if (decision.error) {
      this.#ready = true;
      this.#refuseAll(decision.error);
      return;
    }
    // Until #ready is set below, #push keeps held sends in #held.
    if (decision.maxRecordBytes !== undefined && decision.maxRecordBytes !== o.maxRecordBytes) {
      // Aggregates built so far respect the old limit; later ones use the stream's.
      for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
      o.maxRecordBytes = decision.maxRecordBytes;
      this.#aggregator = this.#newAggregator();
    }
    if (!decision.aggregate && o.aggregation === "on") {
      // The stream places records itself: what was aggregated goes out unaggregated.
      for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
      o.aggregation = "off";
      for (const entry of this.#held.splice(0)) this.#unpack(entry);
    }
    facts.aggregating = o.aggregation === "on";
    if (snap.map && o.keyed && o.aggregation === "on") this.#installMap(snap.map);
    else if (snap.map) this.#useMap(snap.map);
    this.#ready = true;
    for (const entry of this.#held.splice(0)) this.#scheduler.push(entry);
    this.#drainWaiters();
    if (this.#pending.length > 0) this.#scheduleLinger();
    this.#scheduler.pump();
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
    try {
      if (this.#o.aggregation === "off") checkUnaggregated(record, this.#o);
      else this.#aggregator.check(record);
      return false;
    } catch (error) {
      return error instanceof RecordTooLargeError;
    }
  }

  #recordSnapshot(snap: StreamSnapshot): void {
    const facts = this.#facts;
    facts.check = snap.check;
    facts.listing = snap.listing;
    facts.refreshes++;
    const s = snap.summary;
    if (s) {
      facts.status = s.streamStatus;
      facts.mode = s.streamMode;
      facts.openShardCount = s.openShardCount;
      facts.recordDistributionStrategy = s.recordDistributionStrategy;
      facts.maxRecordSizeInKiB = s.maxRecordSizeInKiB;
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
      placeAggregate: o.spread ? () => this.#placeChunk() : undefined,
      now: () => o.clock.now(),
    });
  }

  /** Default mode: per-shard limits from `map`, and chunk placement when spreading. */
  #useMap(map: ShardMap): void {
    this.#scheduler.congestion.predictor = shardPredictor(map);
    if (!this.#o.spread) return;
    this.#o.shards = map;
    this.#facts.mapShards = map.size;
  }

  /**
   * Spreading: the explicit hash key (a shard's starting hash key) of the next
   * chunk, or `undefined` (a random key) without a map. Smooth weighted round
   * robin over the open shards, each weighted by its limiter's rate: a shard
   * that throttled recently gets fewer chunks until successes restore it.
   */
  #placeChunk(): string | undefined {
    const map = this.#o.shards;
    if (!map || map.size === 0) return undefined;
    const n = map.size;
    if (this.#spreadMap !== map) {
      this.#spreadMap = map;
      this.#spreadCredit = new Float64Array(n);
    }
    const credit = this.#spreadCredit;
    const congestion = this.#scheduler.congestion;
    const now = this.#o.clock.now();
    let total = 0;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const rate = congestion.shard(map.ranges[i].shardId ?? `#${i}`, now).rate;
      credit[i] += rate;
      total += rate;
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= total;
    return map.ranges[best].startingHashKey;
  }

  /** Groups later records by `map`; aggregates open under the old one ship now. */
  #installMap(map: ShardMap): void {
    this.#o.shards = map;
    this.#facts.mapShards = map.size;
    this.#scheduler.congestion.predictor = shardPredictor(map);
    for (const aggregate of this.#aggregator.setShardMap(map)) this.#enqueue(aggregate);
    this.#scheduler.pump();
  }

  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    try {
      this.#o.onWarning(message);
    } catch {
      // A failing warning sink must not stop delivery.
    }
  }

  /**
   * A put answer named another shard than predicted: the map is stale (or the
   * stream places records itself). Refreshes the map, then applies the rule:
   * if a record of the aggregate hashes outside the storing shard, KCL drops
   * the whole aggregate, so its records are sent again; otherwise nothing was
   * lost and nothing is re-sent. Returns true when it took over the entry.
   */
  #checkWrongShard(entry: Entry, shardId: string, sequenceNumber: string): boolean {
    this.#facts.wrongShard++;
    // A shard the map does not know proves it stale: refresh past the rate limit.
    const unknown = (this.#o.shards?.indexOfShardId(shardId) ?? -1) < 0;
    const refresh = this.#describer?.refresh(unknown);
    const aggregated = entry.records.length > 1 || entry.data !== entry.records[0]?.data;
    // Only a map the producer keeps itself can be trusted after a refresh; a
    // single record is safe on any shard.
    if (!aggregated || !this.#o.autoShards || !this.#o.keyed) {
      refresh?.then((snap) => this.#applyRefresh(snap), () => {});
      return false;
    }
    const decideWith = (map: ShardMap | undefined) => {
      if (!this.#outstanding.has(entry)) return;
      if (this.#insideShard(entry, shardId, map)) {
        this.#delivered(entry, shardId, sequenceNumber);
        return;
      }
      // Sent again, re-aggregated under the fresh map: not counted twice in stats.
      this.#facts.recordsResent += entry.records.length;
      this.#stats.records -= entry.records.length;
      this.#replace(entry);
      this.#scheduler.pump();
    };
    if (refresh) {
      refresh.then((snap) => {
        this.#applyRefresh(snap);
        decideWith(snap.map ?? this.#o.shards);
      }, () => decideWith(this.#o.shards));
    } else {
      queueMicrotask(() => decideWith(this.#o.shards));
    }
    return true;
  }

  #applyRefresh(snap: StreamSnapshot): void {
    // Callers sharing one refresh each hand it over: apply it once.
    if (snap === this.#lastRefresh) return;
    this.#lastRefresh = snap;
    const o = this.#o;
    this.#recordSnapshot(snap);
    if (snap.summary?.recordDistributionStrategy === "AUTO" && o.aggregationWish === "auto") {
      o.aggregation = "off";
      this.#facts.aggregating = false;
    }
    if (snap.summary && !this.#configError) {
      const decision = decide(
        {
          aggregation: o.aggregationWish,
          ordered: o.ordered,
          maxRecordBytes: o.maxRecordBytesWish,
        },
        snap.check,
        snap.summary,
      );
      for (const w of decision.warnings) this.#warn(w);
      if (decision.error) {
        // E.g. strict ordering on a stream that became AUTO: later puts reject.
        this.#refuseAll(decision.error);
        return;
      }
      if (decision.maxRecordBytes !== undefined && decision.maxRecordBytes !== o.maxRecordBytes) {
        // UpdateMaxRecordSize: what is open ships as built; later records use the new limit.
        for (const aggregate of this.#aggregator.flush()) this.#enqueue(aggregate);
        o.maxRecordBytes = decision.maxRecordBytes;
        this.#aggregator = this.#newAggregator();
        this.#scheduler.pump();
      }
    }
    if (snap.map && this.#o.keyed && this.#o.aggregation === "on") this.#installMap(snap.map);
    else if (snap.map && this.#o.spread) this.#useMap(snap.map);
  }

  /** Whether every record of `entry` hashes into `shardId`'s range in `map`. */
  #insideShard(entry: Entry, shardId: string, map: ShardMap | undefined): boolean {
    const index = map?.indexOfShardId(shardId) ?? -1;
    if (!map || index < 0) return false;
    for (const record of entry.records) {
      const key = record.partitionKey ?? entry.partitionKey;
      const hash = record.explicitHashKey !== undefined
        ? BigInt(record.explicitHashKey)
        : partitionKeyHash(key);
      const w = bigintToWords(hash);
      if (!map.coversWords(index, w[0], w[1], w[2], w[3])) return false;
    }
    return true;
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
