/**
 * The scheduler: decides which queued entries go now and in which call, sends
 * them, and applies each entry's outcome. Calls hold a slot only while on the
 * wire; an entry that must back off waits in the {@link SendQueue}, so it
 * never holds up the others. The {@link Congestion} windows (stream-wide, and
 * per shard when a shard map is known) bound what is in flight.
 * @module
 */
import type { TimerHandle } from "./clock.ts";
import { Congestion, type ShardPredictor } from "./congestion.ts";
import type { Entry } from "./entry.ts";
import type { PutRecordClient, ResolvedOptions } from "./options.ts";
import { type GiveUpReason, nextRetry } from "./retry.ts";
import { observe } from "./histogram.ts";
import { callKind, type EntryOutcome, sendBatch } from "./sender.ts";
import { SendQueue } from "./send_queue.ts";
import type { ProducerStats } from "./stats.ts";

/** Where finished entries go: the producer reports and settles them. */
export interface SchedulerHooks {
  /** `entry` is stored. */
  deliver(entry: Entry, shardId: string, sequenceNumber: string): void;
  /** `entry` gave up. */
  fail(entry: Entry, error: unknown, reason: GiveUpReason): void;
}

/** Sends queued entries under the congestion windows; retries them after their backoff. */
export class Scheduler {
  readonly #o: ResolvedOptions;
  readonly #client: PutRecordClient;
  readonly #stats: ProducerStats;
  readonly #signal: AbortSignal;
  readonly #hooks: SchedulerHooks;
  readonly #queue = new SendQueue();
  readonly #congestion: Congestion;
  #wakeTimer: TimerHandle | undefined;
  #wakeAt = Infinity;
  #lastSequenceNumber: string | undefined;
  // Calls in flight, aborted together when `signal` aborts. One listener on the shared
  // signal, not one per call: Node warns (MaxListenersExceededWarning) past 10 listeners
  // on one AbortSignal, and 8 calls in flight each adding two passed that.
  readonly #inFlight = new Set<AbortController>();
  /** Calls in a row that stored nothing: how long the stream has been failing. */
  #failingCalls = 0;
  /** Calls in a row with a throttle (of the call or of an entry): how long load has been too high. */
  #throttledCalls = 0;

  /** `stats` is updated in place; `signal` aborts calls in flight (close deadline). */
  constructor(
    o: ResolvedOptions,
    client: PutRecordClient,
    stats: ProducerStats,
    signal: AbortSignal,
    hooks: SchedulerHooks,
    predictor: ShardPredictor | undefined,
  ) {
    this.#o = o;
    this.#client = client;
    this.#stats = stats;
    this.#signal = signal;
    this.#hooks = hooks;
    this.#congestion = new Congestion(o.concurrency, predictor);
    signal.addEventListener("abort", () => {
      for (const call of [...this.#inFlight]) call.abort(signal.reason);
    }, { once: true });
  }

  /** The windows, for stats and for installing a shard predictor. */
  get congestion(): Congestion {
    return this.#congestion;
  }

  /** Entries waiting out a backoff. */
  get waitingForRetry(): number {
    return this.#queue.waitingCount;
  }

  /** Queues a fresh entry; call {@link pump} after a group of pushes. */
  push(entry: Entry): void {
    this.#queue.push(entry);
  }

  /** Removes and returns every queued entry (close deadline). */
  drain(): Entry[] {
    this.clearWake();
    return this.#queue.drain();
  }

  /** Starts calls while the stream window has room: oldest entries first, batched when allowed. */
  pump(): void {
    const o = this.#o;
    if (this.#signal.aborted) return;
    const now = o.clock.now();
    const queue = this.#queue;
    const congestion = this.#congestion;
    queue.promote(now);
    const batching = !o.ordered && (o.aggregation === "off" || o.collect) &&
      this.#client.putRecords !== undefined;
    // The earliest time an entry held back by its shard's limiter could go.
    let blockedUntil = Infinity;
    while (congestion.stream.isOpen() && queue.size > queue.waitingCount) {
      const batch = queue.take({
        maxEntries: batching ? o.requestLimits.maxEntries : 1,
        maxBytes: o.requestLimits.maxBytes,
        admits: (e) => {
          if (e.shard === undefined) return true;
          const limiter = congestion.shard(e.shard, now);
          if (limiter.admits(e.bytes, now)) {
            limiter.take(e.bytes);
            return true;
          }
          blockedUntil = Math.min(blockedUntil, limiter.readyAt(e.bytes, now));
          return false;
        },
        // Strict order: a retry keeps its place at the head; nothing overtakes it.
        retriesOnly: o.ordered && queue.retryCount > 0,
      });
      if (batch.length === 0) break;
      const live = batch.filter((e) => {
        if (now - e.cutAt < o.retry.deadlineMs) return true;
        if (e.attempts === 0) this.#stats.expiredUnattempted++;
        this.#hooks.fail(
          e,
          new Error(`not delivered within deadlineMs (${o.retry.deadlineMs} ms)`),
          "deadline-exceeded",
        );
        return false;
      });
      if (live.length === 0) continue;
      this.#dispatch(live, now);
    }
    this.#armWake(now, blockedUntil);
  }

  /** One call for `batch`, then each entry's outcome: delivered, retried later, or reported. */
  async #dispatch(batch: Entry[], sentAt: number): Promise<void> {
    const { clock, target, ordered } = this.#o;
    const signal = this.#signal;
    const stats = this.#stats;
    const congestion = this.#congestion;
    const kind = callKind(this.#client, batch);
    let retry = 0;
    for (const e of batch) {
      if (e.attempts > 0) stats.retries++;
      retry = Math.max(retry, e.attempts);
      e.attempts++;
    }
    stats.calls++;
    stats.callsByKind[kind] = (stats.callsByKind[kind] ?? 0) + 1;
    stats.entriesSent += batch.length;
    stats.inFlight++;
    congestion.stream.inFlight++;
    let outcomes: EntryOutcome[] | undefined;
    let callError: unknown;
    // This call's own signal: the client and abortable() listen to it, not to the shared one.
    const call = new AbortController();
    if (signal.aborted) call.abort(signal.reason);
    this.#inFlight.add(call);
    try {
      outcomes = await abortable(
        sendBatch(this.#client, target, batch, {
          signal: call.signal,
          retry,
          sequenceNumberForOrdering: ordered ? this.#lastSequenceNumber : undefined,
        }),
        call.signal,
      );
    } catch (e) {
      callError = e;
    } finally {
      this.#inFlight.delete(call);
    }
    stats.inFlight--;
    congestion.stream.inFlight--;
    const shards = new Set<string>();
    for (const e of batch) if (e.shard !== undefined) shards.add(e.shard);
    const now = clock.now();
    observe(stats.callLatencyMs, now - sentAt);
    const storedAny = outcomes?.some((out) => out.ok) ?? false;
    this.#failingCalls = storedAny ? 0 : this.#failingCalls + 1;
    const throttled = outcomes === undefined
      ? isThrottle(callError)
      : outcomes.some((out) => !out.ok && out.error.kind === "throttling");
    this.#throttledCalls = throttled ? this.#throttledCalls + 1 : 0;
    if (outcomes === undefined) {
      // The whole call failed: every entry in it gets the call's error.
      if (isThrottle(callError)) {
        stats.throttles++;
        if (shards.size === 1 && batch.every((e) => e.shard !== undefined)) {
          this.#shardThrottled([...shards][0], sentAt, now);
        } else congestion.stream.onThrottle(sentAt, now);
      }
      for (const e of batch) this.#attemptFailed(e, callError, now);
    } else {
      let streamThrottled = false;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        const out = outcomes[i];
        if (out.ok) {
          if (e.shard !== undefined) congestion.shard(e.shard, now).onSuccess();
          if (ordered) this.#lastSequenceNumber = out.sequenceNumber;
          this.#hooks.deliver(e, out.shardId, out.sequenceNumber);
          continue;
        }
        if (out.error.kind === "throttling") {
          stats.throttles++;
          if (e.shard !== undefined) this.#shardThrottled(e.shard, sentAt, now);
          else streamThrottled = true;
        }
        this.#attemptFailed(e, out.error, now);
      }
      if (streamThrottled) congestion.stream.onThrottle(sentAt, now);
      else congestion.stream.onSuccess();
    }
    this.pump();
  }

  /** A throttle from `shard`: halve its rate, once per round trip. */
  #shardThrottled(shard: string, sentAt: number, now: number): void {
    this.#congestion.shard(shard, now).onThrottle(sentAt, now);
  }

  /** An attempt of `entry` failed with `error`: queue it for a retry after its backoff, or report it. */
  #attemptFailed(entry: Entry, error: unknown, now: number): void {
    const { retry, random } = this.#o;
    const stats = this.#stats;
    const code = errorCode(error);
    stats.entriesFailedByCode[code] = (stats.entriesFailedByCode[code] ?? 0) + 1;
    const signal = this.#signal;
    if (signal.aborted) return this.#hooks.fail(entry, signal.reason, "closed");
    // The backoff grows with the stream's streak (calls in a row that stored
    // nothing; for throttles, calls in a row that were throttled), capped by
    // the entry's own attempts: under random faults a chunk is not pushed
    // toward the 20 s cap by bad luck alone (the issue-19 run went from
    // 110 s to 29 s), while a stream that keeps failing or throttling backs
    // off fully.
    const next = nextRetry(
      retry,
      error as { retryable?: boolean },
      entry.attempts,
      now - entry.cutAt,
      random,
      Math.min(
        entry.attempts,
        isThrottle(error) ? Math.max(this.#failingCalls, this.#throttledCalls) : this.#failingCalls,
      ),
    );
    if ("giveUp" in next) return this.#hooks.fail(entry, error, next.giveUp);
    entry.readyAt = now + next.delayMs;
    entry.retryDelayMs += next.delayMs;
    this.#queue.retry(entry);
  }

  /** Wakes the pump when the next retry's backoff ends, or a held-back shard has tokens again. */
  #armWake(now: number, blockedUntil: number): void {
    const at = Math.min(this.#queue.nextReadyAt, blockedUntil);
    if (at === Infinity || at >= this.#wakeAt) return;
    this.clearWake();
    this.#wakeAt = at;
    this.#wakeTimer = this.#o.clock.setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
      this.pump();
    }, Math.max(0, at - now));
  }

  /** Cancels the wake-up timer (close). */
  clearWake(): void {
    if (this.#wakeTimer !== undefined) this.#o.clock.clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wakeAt = Infinity;
  }
}

/**
 * Settles with `promise`, or rejects when `signal` aborts: a close deadline must
 * hold even against a transport stuck where it cannot see the signal (for
 * example a credential provider).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function isThrottle(error: unknown): boolean {
  return (error as { kind?: unknown } | undefined)?.kind === "throttling";
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : "Error";
}
