/**
 * Live progress on stderr, rewritten in place: records/s, MB/s, calls in
 * flight against the window, chunks waiting out a retry backoff, retries,
 * throttled shards (with their rate), and the problem of the moment. Only for a terminal; piped or redirected stderr gets
 * nothing until the summary.
 * @module
 */
import type { ProducerStats } from "../producer/stats.ts";

/** Where progress goes and how often. */
export interface ProgressOptions {
  /** Writes a string to the terminal. */
  write: (text: string) => void;
  /** Reads the current counters. */
  stats: () => ProducerStats;
  /** The problem of the moment (`"retrying: throttled ×12"`), shown while it lasts. */
  problem?: () => string | undefined;
  /**
   * Refresh interval in ms.
   * @default {250}
   */
  intervalMs?: number;
}

/** A progress line that redraws itself until {@link stop}. */
export class Progress {
  readonly #o: Required<ProgressOptions>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = { at: 0, records: 0, bytes: 0 };
  #start = 0;

  /** Prepares; nothing is drawn before {@link start}. */
  constructor(options: ProgressOptions) {
    this.#o = { intervalMs: 250, problem: () => undefined, ...options };
  }

  /** Starts redrawing. */
  start(): void {
    this.#start = this.#last.at = performance.now();
    this.#timer = setInterval(() => this.#draw(), this.#o.intervalMs);
  }

  /** Stops and erases the line. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#o.write("\r\x1b[K");
  }

  #draw(): void {
    const s = this.#o.stats();
    const now = performance.now();
    const dt = Math.max(1e-3, (now - this.#last.at) / 1000);
    const rps = (s.recordsDelivered - this.#last.records) / dt;
    const mbps = (s.bytes - this.#last.bytes) / dt / 1e6;
    this.#last = { at: now, records: s.recordsDelivered, bytes: s.bytes };
    const elapsed = ((now - this.#start) / 1000).toFixed(0);
    const problem = this.#o.problem();
    this.#o.write(
      `\r\x1b[K${elapsed}s  ${s.recordsDelivered.toLocaleString("en-US")} records  ` +
        `${Math.round(rps).toLocaleString("en-US")} records/s  ${mbps.toFixed(1)} MB/s  ` +
        `in flight ${s.inFlight}/${s.window}  waiting ${s.waitingForRetry}  retries ${s.retries}` +
        hotShards(s) +
        (s.recordsFailed > 0 ? `  failed ${s.recordsFailed}` : "") +
        (problem ? `  ${problem}` : ""),
    );
  }
}

// The three most throttled shards with their current rate (fraction of the shard limit).
function hotShards(s: ProducerStats): string {
  const hot = Object.entries(s.throttlesByShard).sort((a, b) => b[1] - a[1]).slice(0, 3);
  if (hot.length === 0) return "";
  return "  throttled " +
    hot.map(([id, n]) =>
      `${id.replace(/^shardId-0*/, "#")}×${n}@${Math.round((s.shardWindows[id] ?? 1) * 100)}%`
    ).join(" ");
}
