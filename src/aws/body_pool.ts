/**
 * Reused request-body buffers. A fresh 1.3 MB array costs its page faults on
 * every call: 28-32 ms of CPU per 46 PutRecords bodies in Deno against 1.8 ms
 * for writing into a reused one (Node: 6-17 against 1.7), and the dead ones
 * wait for V8 to collect them. Bodies are lent for one call and given back when
 * it ends, only where the transport is known to be done with them by then
 * (see `RequestPathConfig.reuseBodies`).
 * @module
 */

/** Buffers kept at most, and the largest one kept. */
const MAX_FREE = 8;
const MAX_KEPT_BYTES = 16 * 1024 * 1024;
// Sizes round up to this, so bodies of similar size share buffers.
const GRAIN = 64 * 1024;

/**
 * A small free list of body buffers.
 *
 * @example Lend and return
 * ```ts
 * import { BodyPool } from "./body_pool.ts";
 * const pool = new BodyPool();
 * const body = pool.take(1000);
 * pool.give(body);
 * if (pool.take(900).buffer !== body.buffer) throw new Error("not reused");
 * ```
 */
export class BodyPool {
  #free: ArrayBuffer[] = [];

  /** A view of exactly `size` bytes (contents undefined) over a free or new buffer. */
  take(size: number): Uint8Array<ArrayBuffer> {
    const free = this.#free;
    for (let i = free.length - 1; i >= 0; i--) {
      if (free[i].byteLength >= size) {
        const buffer = free[i];
        free[i] = free[free.length - 1];
        free.pop();
        return new Uint8Array(buffer, 0, size);
      }
    }
    const capacity = size > MAX_KEPT_BYTES ? size : Math.ceil(size / GRAIN) * GRAIN;
    return new Uint8Array(new ArrayBuffer(capacity), 0, size);
  }

  /** Returns a view from {@link take}; the caller must not use it afterwards. */
  give(body: Uint8Array<ArrayBuffer>): void {
    const buffer = body.buffer;
    if (buffer.byteLength > MAX_KEPT_BYTES || this.#free.includes(buffer)) return;
    if (this.#free.length >= MAX_FREE) {
      // Keep the larger buffers: a small one is cheap to make again.
      let smallest = 0;
      for (let i = 1; i < this.#free.length; i++) {
        if (this.#free[i].byteLength < this.#free[smallest].byteLength) smallest = i;
      }
      if (this.#free[smallest].byteLength >= buffer.byteLength) return;
      this.#free[smallest] = buffer;
      return;
    }
    this.#free.push(buffer);
  }
}
