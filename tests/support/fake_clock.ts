/** A manual clock for tests: time moves only when the test says so. */
import type { Clock } from "../../src/producer/clock.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets pending promise chains run (a real macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A {@link Clock} whose timers fire only from {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Advances in steps until `done()` holds or `limitMs` passes. */
  async runUntil(done: () => boolean, limitMs = 3_600_000, stepMs = 50): Promise<void> {
    for (let t = 0; t < limitMs && !done(); t += stepMs) await this.advance(stepMs);
  }
}
