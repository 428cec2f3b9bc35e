/**
 * A streaming line splitter over byte chunks. Lines come out as exact bytes
 * (records are bytes, not re-encoded strings), without their `\n`; a `\r`
 * before it is kept, as it was read.
 *
 * Memory stays bounded: a line that grows past `maxLineBytes` is not
 * collected. It comes out in pieces (`overflow` events, the first carrying
 * everything held so far), so the caller can stream it to the dead-letter file.
 * @module
 */

/** One event of {@link LineSplitter}. */
export type LineEvent =
  /** A whole line; `bytes` may share memory with the chunk it came from. */
  | { type: "line"; bytes: Uint8Array }
  /** The next piece of a line longer than `maxLineBytes`; `first` on its first piece. */
  | { type: "overflow"; bytes: Uint8Array; first: boolean }
  /** The end of an overlong line, with its total length. */
  | { type: "overflowEnd"; length: number };

const NL = 0x0a;

/**
 * Splits byte chunks into lines. Feed chunks in order with {@link feed}, then
 * call {@link end} once. A chunk handed to `feed` must not be reused by the
 * caller afterwards: whole lines are views into it.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./lines.ts";
 * const s = new LineSplitter({ maxLineBytes: 1024 });
 * const out = [...s.feed(new TextEncoder().encode("a\nb")), ...s.end()];
 * console.log(out.length); // 2
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  // Bytes of the unfinished line, as a list of pieces: no copying until it completes.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #overflow = -1; // length so far of an overlong line, or -1

  /** `maxLineBytes`: the longest line collected whole. */
  constructor(options: { maxLineBytes: number }) {
    if (!(options.maxLineBytes >= 1)) {
      throw new RangeError(
        `Cannot split lines with maxLineBytes ${options.maxLineBytes}: it must be at least 1`,
      );
    }
    this.#max = options.maxLineBytes;
  }

  /** Bytes held for the unfinished line (at most `maxLineBytes`). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Splits one chunk. */
  *feed(chunk: Uint8Array): Generator<LineEvent> {
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? length : nl;
      if (this.#overflow >= 0) {
        if (end > start) {
          this.#overflow += end - start;
          yield { type: "overflow", bytes: chunk.subarray(start, end), first: false };
        }
      } else if (this.#pendingBytes + end - start > this.#max) {
        // Too long to be a record: hand over what is held and stream the rest.
        const held = this.#take(chunk.subarray(start, end));
        this.#overflow = held.length;
        yield { type: "overflow", bytes: held, first: true };
      } else if (nl >= 0) {
        yield {
          type: "line",
          bytes: this.#pendingBytes === 0
            ? chunk.subarray(start, end)
            : this.#take(chunk.subarray(start, end)),
        };
      } else {
        this.#pending.push(chunk.subarray(start, end));
        this.#pendingBytes += end - start;
      }
      if (nl < 0) return;
      if (this.#overflow >= 0) {
        yield { type: "overflowEnd", length: this.#overflow };
        this.#overflow = -1;
      }
      start = nl + 1;
    }
  }

  /** Ends the input: an unterminated last line still counts as a line. */
  *end(): Generator<LineEvent> {
    if (this.#overflow >= 0) {
      yield { type: "overflowEnd", length: this.#overflow };
      this.#overflow = -1;
    } else if (this.#pendingBytes > 0) {
      yield { type: "line", bytes: this.#take(new Uint8Array(0)) };
    }
  }

  /** Removes and returns the unfinished line's bytes (for an interrupted read). */
  takePending(): Uint8Array {
    return this.#take(new Uint8Array(0));
  }

  /** Held pieces plus `tail`, joined into one new array. */
  #take(tail: Uint8Array): Uint8Array {
    if (this.#pendingBytes === 0) return tail.slice();
    const out = new Uint8Array(this.#pendingBytes + tail.length);
    let pos = 0;
    for (const piece of this.#pending) {
      out.set(piece, pos);
      pos += piece.length;
    }
    out.set(tail, pos);
    this.#pending = [];
    this.#pendingBytes = 0;
    return out;
  }
}
