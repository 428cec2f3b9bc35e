/**
 * Why records failed, tallied for the summary: "2,310 records failed:
 * connection refused (ECONNREFUSED) to 127.0.0.1:4567 (after 10 attempts)".
 * Failures are grouped by what went wrong (network code and address, or AWS
 * error code), not by their exact message, which names shards and request ids.
 * @module
 */
import { KinesisError } from "../aws/errors.ts";
import { networkCause } from "../aws/network_cause.ts";
import type { DeliveryFailure } from "../producer/options.ts";

/** One line of the tally. Field names are stable: `--json` prints them. */
export interface FailureReason {
  /** What went wrong, for a person (the first message of its group, redacted). */
  reason: string;
  /** Records that failed this way. */
  records: number;
  /** Most PutRecord attempts a chunk of this group made (0 when none was made). */
  attempts: number;
}

const MAX_TEXT = 200;

/** The grouping key and the words for `error`. */
export function describeFailure(error: unknown): { key: string; text: string } {
  if (error instanceof KinesisError) {
    const detail = error.message.replace(/^[A-Za-z]+: [A-Za-z0-9_.]+: /, "");
    if (error.code === "NetworkError") {
      // The text already names the code and address ("connection refused (ECONNREFUSED) to …").
      const text = detail.replace(/^request failed: /, "");
      return { key: `net:${networkCause(error)?.code ?? ""}:${text}`, text: clip(text) };
    }
    if (error.kind === "throttling") {
      return { key: `aws:${error.code}`, text: `throttled (${error.code})` };
    }
    return { key: `aws:${error.code}`, text: clip(`${error.code}: ${detail}`) };
  }
  const e = error as { name?: unknown; message?: unknown } | undefined;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const message = typeof e?.message === "string" ? e.message : String(error);
  return { key: `${name}:${message}`, text: clip(message) };
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + "…" : text;
}

/** The tally; see the module doc. */
export class FailureReasons {
  readonly #groups = new Map<string, FailureReason>();

  /** Counts `records` records that failed for `text` (grouped by `key`). */
  add(key: string, text: string, records: number, attempts = 0): void {
    const group = this.#groups.get(key);
    if (group) {
      group.records += records;
      group.attempts = Math.max(group.attempts, attempts);
    } else {
      this.#groups.set(key, { reason: text, records, attempts });
    }
  }

  /** Counts a chunk the producer gave up on. */
  addFailure(failure: DeliveryFailure): void {
    const { key, text } = describeFailure(failure.error);
    this.add(key, text, failure.records.length, failure.attempts);
  }

  /** The `n` largest groups, most records first. */
  top(n = 3): FailureReason[] {
    return [...this.#groups.values()].sort((a, b) => b.records - a.records).slice(0, n).map((
      g,
    ) => ({ ...g }));
  }

  /** Number of distinct reasons. */
  get size(): number {
    return this.#groups.size;
  }
}
