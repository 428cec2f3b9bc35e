/**
 * Input chunks freed when their last line settles, not when V8 gets to them.
 *
 * Lines are views into the chunk they were read in, and the producer keeps
 * them until they are delivered, so a chunk lives as long as its slowest
 * line. Once every line of a chunk is settled (delivered or in the
 * dead-letter file) and the line splitter holds no view of it, nothing can
 * read it again: its memory is released at once (`ArrayBuffer.prototype.
 * transfer(0)` detaches and frees the backing store). Left to the garbage
 * collector, dead chunks promoted to the old generation piled up by tens of
 * MiB (V8 collects external memory in steps of about 64 MiB). Where
 * `transfer` is missing (Node 20) chunks are left to the collector as before.
 *
 * Only chunks this process allocated for reading are registered: a runtime's
 * pooled buffers (Node's stdin) must never be detached.
 * @module
 */

interface ChunkState {
  readonly buffer: ArrayBuffer;
  /** Lines handed to the shipper and not yet settled. */
  lines: number;
  /** The splitter is done with it: no unfinished line holds a view of it. */
  fed: boolean;
}

type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/** Counts each read chunk's unsettled lines; see the module doc. */
export class ReadChunks {
  readonly #live = new Map<ArrayBufferLike, ChunkState>();
  /** Per splitter: registered chunks it may still hold a view of. */
  readonly #feeding = new Map<object, ChunkState[]>();
  // Lines of one delivery mostly share a chunk: one map lookup per run of them.
  #last: ChunkState | undefined;
  /** Chunks released so far (for tests and the memory benchmark). */
  released = 0;

  /** Chunks alive now (read and not yet released). */
  get alive(): number {
    return this.#live.size;
  }

  /**
   * Registers a fresh chunk about to be fed to `splitter`; nothing but its
   * lines may use `chunk`'s buffer afterwards.
   */
  read(chunk: Uint8Array, splitter: object): void {
    const buffer = chunk.buffer as ArrayBuffer;
    if (this.#live.has(buffer)) return;
    const state: ChunkState = { buffer, lines: 0, fed: false };
    this.#live.set(buffer, state);
    const list = this.#feeding.get(splitter);
    if (list) list.push(state);
    else this.#feeding.set(splitter, [state]);
  }

  /**
   * `splitter` holds no unfinished line (its `pendingBytes` is 0): every
   * chunk fed to it so far is released once its lines settle.
   */
  fed(splitter: object): void {
    const done = this.#feeding.get(splitter);
    if (done === undefined) return;
    this.#feeding.delete(splitter);
    for (const state of done) {
      state.fed = true;
      if (state.lines === 0) this.#release(state);
    }
  }

  /** A line about to be put; `bytes` may come from anywhere (unregistered ones are ignored). */
  taken(bytes: Uint8Array): void {
    const state = this.#find(bytes);
    if (state) state.lines++;
  }

  /** A line put before is delivered or in the dead-letter file. */
  settled(bytes: Uint8Array): void {
    const state = this.#find(bytes);
    if (!state) return;
    if (--state.lines === 0 && state.fed) this.#release(state);
  }

  /** A line whose fate is unknown (an unexpected put error): its chunk is left to the collector. */
  forget(bytes: Uint8Array): void {
    const state = this.#find(bytes);
    if (!state) return;
    this.#live.delete(state.buffer);
    // Still listed under its splitter if not fed: marked, so it is never freed.
    state.lines = Infinity;
    if (this.#last === state) this.#last = undefined;
  }

  #find(bytes: Uint8Array): ChunkState | undefined {
    const buffer = bytes.buffer;
    const last = this.#last;
    if (last !== undefined && last.buffer === buffer) return last;
    const state = this.#live.get(buffer);
    if (state) this.#last = state;
    return state;
  }

  #release(state: ChunkState): void {
    this.#live.delete(state.buffer);
    if (this.#last === state) this.#last = undefined;
    this.released++;
    (state.buffer as Transferable).transfer?.(0);
  }
}
