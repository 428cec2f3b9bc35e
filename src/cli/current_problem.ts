/**
 * The problem of the moment, for the progress line: "retrying: throttled ×12"
 * while throttling lasts, gone a few seconds after the last such failure.
 * @module
 */
import type { DebugEvent } from "../aws/debug.ts";
import { classifyError } from "../aws/errors.ts";
import { NETWORK_CODES } from "../aws/network_cause.ts";

/** Options for {@link CurrentProblem}. */
export interface CurrentProblemOptions {
  /**
   * How long a failure stays "current", in ms.
   * @default {5000}
   */
  windowMs?: number;
  /**
   * Time source in ms.
   * @default {performance.now}
   */
  now?: () => number;
}

/** Names one failed attempt in a few words. */
export function problemLabel(event: DebugEvent): string {
  const code = event.error ?? "";
  if (event.causeCode) return NETWORK_CODES[event.causeCode]?.text ?? event.causeCode;
  const { kind } = classifyError(code, event.status, event.cause);
  if (kind === "throttling") return "throttled";
  if (code === "TimeoutError") return "timed out";
  if (event.status >= 500) return `server error ${event.status} (${code})`;
  return code;
}

/** Remembers recent failed Kinesis attempts; see the module doc. */
export class CurrentProblem {
  readonly #windowMs: number;
  readonly #now: () => number;
  // Recent failures, oldest first: [time, label, retryable].
  #recent: [number, string, boolean][] = [];

  /** Starts empty. */
  constructor(options: CurrentProblemOptions = {}) {
    this.#windowMs = options.windowMs ?? 5000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one attempt's debug event; successes are ignored (failures age out). */
  observe(event: DebugEvent): void {
    if (!event.error || event.service !== "kinesis") return;
    const { retryable } = classifyError(event.error, event.status, event.cause);
    this.#recent.push([this.#now(), problemLabel(event), retryable || !!event.causeCode]);
    if (this.#recent.length > 10_000) this.#recent = this.#recent.slice(-5_000);
  }

  /** `"retrying: throttled ×12"` (most frequent in the window), or `undefined` when all is well. */
  get text(): string | undefined {
    const since = this.#now() - this.#windowMs;
    while (this.#recent.length > 0 && this.#recent[0][0] < since) this.#recent.shift();
    if (this.#recent.length === 0) return undefined;
    const counts = new Map<string, { n: number; retryable: boolean }>();
    for (const [, label, retryable] of this.#recent) {
      const c = counts.get(label) ?? { n: 0, retryable };
      c.n++;
      counts.set(label, c);
    }
    const [label, { n, retryable }] = [...counts].sort((a, b) => b[1].n - a[1].n)[0];
    return `${retryable ? "retrying" : "failing"}: ${label} ×${n}`;
  }
}
