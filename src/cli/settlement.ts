/**
 * Which input is settled: a record is settled once it is delivered or written
 * to the dead-letter file. A {@link Watermark} turns per-line settlements,
 * which arrive out of order (chunks finish in any order), into the one number
 * a checkpoint needs: the byte offset below which every line is settled.
 * @module
 */

/** Called once when a record settles. */
export type Settle = () => void;

/**
 * The settled prefix of one input. Lines are tracked in input order with the
 * offset just past them; {@link offset} advances over the leading run of
 * settled lines. Memory is one entry per unsettled line (bounded by the
 * producer's buffer) plus the settled ones behind the oldest unsettled.
 */
export class Watermark {
  #ends: number[] = [];
  #done: boolean[] = [];
  #head = 0;
  #dropped = 0; // lines removed from the front of the arrays
  #offset: number;
  #tracked = 0;

  /** `start`: the offset already settled (a checkpoint's, or 0). */
  constructor(start = 0) {
    this.#offset = start;
  }

  /** Offset below which every tracked line is settled. */
  get offset(): number {
    return this.#offset;
  }

  /** Lines tracked and not yet settled (or settled behind an unsettled one). */
  get pending(): number {
    return this.#ends.length - this.#head;
  }

  /** Lines tracked in all. */
  get tracked(): number {
    return this.#tracked;
  }

  /** Tracks the next line, which ends at `end`; returns the function that settles it. */
  track(end: number): Settle {
    const index = this.#dropped + this.#ends.length;
    this.#ends.push(end);
    this.#done.push(false);
    this.#tracked++;
    let called = false;
    return () => {
      if (called) return;
      called = true;
      this.#done[index - this.#dropped] = true;
      this.#advance();
    };
  }

  /** A line that needs no delivery (skipped, or already in the dead-letter file). */
  skip(end: number): void {
    this.track(end)();
  }

  #advance(): void {
    while (this.#head < this.#ends.length && this.#done[this.#head]) {
      this.#offset = this.#ends[this.#head];
      this.#head++;
    }
    // Drop the settled prefix now and then, so the arrays stay the size of what is pending.
    if (this.#head > 4096 && this.#head * 2 > this.#ends.length) {
      this.#ends = this.#ends.slice(this.#head);
      this.#done = this.#done.slice(this.#head);
      this.#dropped += this.#head;
      this.#head = 0;
    }
  }
}
