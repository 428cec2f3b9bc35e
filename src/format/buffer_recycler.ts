/**
 * Spare aggregate buffers: default mode's target-sized buffers, taken back
 * from aggregates their caller released and handed to later aggregates, so a
 * long-running producer stops paying a fresh buffer (allocation, first-touch
 * page faults, GC) per aggregate. Pure bookkeeping; see
 * {@link Aggregator.release} for the contract.
 * @module
 */

/**
 * Lends whole buffers to aggregates and keeps at most `max` spare ones, all
 * `length` bytes long. A buffer is in exactly one place: lent (reachable from
 * one live aggregate's `data` view), spare, or in a builder being filled.
 */
export class BufferRecycler {
  /** The only buffer length kept: the aggregator's first-buffer size at its target. */
  readonly length: number;
  readonly #max: number;
  readonly #spare: Uint8Array[] = [];
  // An aggregate's `data` view -> the whole buffer it views. Keyed by the view
  // object, which is unique per aggregate: a release deletes the entry, so a
  // second release, or one of a view we never lent, finds nothing.
  readonly #lent = new WeakMap<Uint8Array, Uint8Array>();

  /** @param length bytes per kept buffer; @param max most spare buffers kept (0: none) */
  constructor(length: number, max: number) {
    this.length = length;
    this.#max = max;
  }

  /** Spare buffers held now. */
  get spare(): number {
    return this.#spare.length;
  }

  /** A spare buffer of exactly `length` bytes (its old bytes still in it), or `undefined`. */
  take(length: number): Uint8Array | undefined {
    return length === this.length ? this.#spare.pop() : undefined;
  }

  /** Keeps `buffer` as a spare if it has the kept length and there is room. Nothing else may use it after. */
  give(buffer: Uint8Array): void {
    if (
      buffer.length !== this.length || buffer.byteOffset !== 0 ||
      this.#spare.length >= this.#max || this.#spare.includes(buffer)
    ) return;
    this.#spare.push(buffer);
  }

  /** Records that the aggregate data `view` is a view of all of `buffer`'s first bytes. */
  lend(view: Uint8Array, buffer: Uint8Array): void {
    if (buffer.length === this.length && this.#max > 0) this.#lent.set(view, buffer);
  }

  /**
   * Takes back the buffer behind `view` if this recycler lent it and it is not
   * back yet; returns whether it did (and kept it as a spare or dropped it).
   */
  release(view: unknown): boolean {
    if (!(view instanceof Uint8Array)) return false;
    const buffer = this.#lent.get(view);
    if (buffer === undefined) return false;
    this.#lent.delete(view);
    this.give(buffer);
    return true;
  }
}
